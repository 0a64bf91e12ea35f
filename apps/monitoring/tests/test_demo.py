import pytest

pytestmark = pytest.mark.django_db


def test_demo_seed_has_devices_readings_alarms_in_every_state_an_offline_device_and_a_hazard():
    from django.core.management import call_command

    from apps.hazards.models import Hazard
    from apps.monitoring.models import Alarm, Device, HourlyRollup, Reading

    call_command("seed_demo", "--quiet")
    counts = (Device.objects.count(), Reading.objects.count(), Alarm.objects.count())
    assert counts[0] >= 10 and counts[1] > 10000 and HourlyRollup.objects.exists()
    assert set(Alarm.objects.values_list("state", flat=True)) == {"active", "acknowledged", "cleared"}
    assert Device.objects.offline().count() == 1
    hazard = Hazard.objects.get(source="sensor")
    assert Alarm.objects.get(hazard=hazard).hazard_id == hazard.pk
    from apps.orgs.models import User

    home1 = User.objects.get(username="home1")
    assert Device.objects.visible_to(home1).exists()
    call_command("seed_demo", "--quiet")
    assert (Device.objects.count(), Reading.objects.count(), Alarm.objects.count()) == counts
