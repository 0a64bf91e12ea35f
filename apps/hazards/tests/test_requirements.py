"""下达整改要求 and notifications that name the hazard and the step."""
import datetime

from django.utils import timezone

from apps.core.models import AuditEntry, Notification
from apps.core.testing import api_client, page_client
from apps.hazards import services
from apps.hazards.choices import HazardState

from .helpers import general, in_days, major, rectified


def test_the_township_hears_of_every_new_hazard_in_its_area_by_name(world):
    hazard = general(world, description="二楼配电箱线路老化")
    notes = Notification.objects.filter(recipient=world.town1, verb="hazard.reported")
    assert [n.title for n in notes] == [f"新登记隐患：一号敬老院 · 二楼配电箱线路老化 (#{hazard.pk})"]
    assert not Notification.objects.filter(recipient=world.town2, verb="hazard.reported").exists()


def test_verification_request_names_the_thing_and_the_step(world):
    hazard = rectified(world, general(world, description="二楼配电箱线路老化"))
    titles = set(Notification.objects.filter(recipient=world.town1, verb="hazard.verification_requested")
                 .values_list("title", flat=True))
    assert titles == {f"请验收：一号敬老院 · 二楼配电箱线路老化 (#{hazard.pk})"}


def test_township_sets_requirements_and_a_deadline_page_and_trail(world):
    hazard = general(world)
    client = page_client(world.town1)
    assert client.get(f"/hazards/{hazard.pk}/require/").status_code == 200
    response = client.post(f"/hazards/{hazard.pk}/require/", {"requirements": "三日内更换合格插线板",
                                                              "deadline": in_days(5).isoformat()})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.requirements == "三日内更换合格插线板" and hazard.deadline == in_days(5)
    assert hazard.state == HazardState.REGISTERED
    assert hazard.events.last().action == "require"
    assert AuditEntry.objects.for_object(hazard).filter(action="hazard.require").exists()
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.requirements").exists()
    assert "三日内更换合格插线板" in client.get(hazard.get_absolute_url()).content.decode()


def test_requirements_through_the_api_and_the_refusals(world):
    hazard = general(world)
    town1 = api_client(world.town1)
    bad = town1.post(f"/api/v1/hazards/{hazard.pk}/require/", {"requirements": "x"}, format="json")
    assert bad.status_code == 400 and "deadline" in bad.json()
    past = town1.post(f"/api/v1/hazards/{hazard.pk}/require/", {
        "requirements": "x", "deadline": (timezone.localdate() - datetime.timedelta(days=1)).isoformat()},
        format="json")
    assert past.status_code == 400 and "deadline" in past.json()
    ok = town1.post(f"/api/v1/hazards/{hazard.pk}/require/", {"requirements": "立即整改",
                                                               "deadline": in_days(3).isoformat()}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["requirements"] == "立即整改"
    # an institution may not (403: its role); another township does not see it (404); a major hazard is
    # not for this step (409: the state)
    assert api_client(world.home1).post(f"/api/v1/hazards/{hazard.pk}/require/", {
        "requirements": "x", "deadline": in_days(3).isoformat()}, format="json").status_code == 403
    assert api_client(world.town2).post(f"/api/v1/hazards/{hazard.pk}/require/", {
        "requirements": "x", "deadline": in_days(3).isoformat()}, format="json").status_code == 404
    m = major(world)
    refused = town1.post(f"/api/v1/hazards/{m.pk}/require/", {"requirements": "x",
                                                               "deadline": in_days(3).isoformat()}, format="json")
    assert refused.status_code == 409


def test_service_refuses_a_closed_hazard(world):
    import pytest

    hazard = general(world, fixed_on_spot=True, photos_after=[__import__(
        "apps.hazards.tests.helpers", fromlist=["photo"]).photo()])
    with pytest.raises(services.TransitionRefused):
        services.set_requirements(world.town1, hazard, requirements="x", deadline=in_days(3))
