from django.core.management import call_command

from apps.assessment.models import InstitutionRisk
from apps.hazards.models import Hazard
from apps.ledger.models import Institution
from apps.monitoring.models import Device, Reading


def test_the_scale_generator_builds_a_consistent_dataset(db):
    from django.db import connection

    from apps.dashboard.scale_monitoring import LONG_CODE
    from apps.monitoring.models import DailyRollup, HourlyRollup

    call_command("generate_scale_data", townships=3, institutions=40, hazards=500, readings=400,
                 device_history_days=2, stdout=None)
    institutions = Institution.objects.filter(name__startswith="规模")
    assert institutions.count() == 40
    assert Hazard.objects.filter(institution__in=institutions).count() == 500
    assert InstitutionRisk.objects.count() == 40  # every institution scored
    devices = Device.objects.filter(code__startswith="SCALE-").exclude(code=LONG_CODE)
    assert devices.count() == institutions.filter(has_electrical_monitoring=True).count() > 0
    assert Reading.objects.exclude(device__code=LONG_CODE).count() >= 400 - devices.count()
    if connection.vendor == "postgresql":  # the device with history, its hourly and daily rollups
        long = Device.objects.get(code=LONG_CODE)
        assert Reading.objects.filter(device=long).count() == 2 * 24 * 360
        assert HourlyRollup.objects.filter(device=long, channel="residual_ma").count() >= 48
        assert DailyRollup.objects.filter(device=long, channel="residual_ma").count() >= 2
    # Closed hazards have their closing time, open ones none (the model's own constraint holds).
    assert not Hazard.objects.filter(state="closed", closed_at__isnull=True).exists()
