"""The leaks of issue 12, each tried as a new user would try it over the API or the pages.

Every test here failed before the policy layer: the page refused what the API allowed, or a
child record was seen through its parent's scope alone.
"""
import datetime

from django.utils import timezone

from apps.core.audit import acting_as
from apps.core.testing import api_client, page_client
from apps.hazards.models import Hazard
from apps.inspections.models import (
    Campaign,
    CampaignTask,
    Checkpoint,
    DutyShift,
    Inspection,
    InspectionSlot,
    PatrolRound,
    SecurityPeriod,
)
from apps.inspections.tests.helpers import template
from apps.ledger.models import Institution


def test_an_institution_cannot_reclassify_itself_over_the_api(world):
    response = api_client(world.home1).patch(f"/api/v1/institutions/{world.inst1.pk}/",
                                             {"kind": "other", "is_key_unit": not world.inst1.is_key_unit}, format="json")
    assert response.status_code == 400, response.content
    assert {"kind", "is_key_unit"} <= set(response.json())
    world.inst1.refresh_from_db()
    assert world.inst1.kind == "elderly_care"
    # ... and it still may edit what is its own to edit.
    response = api_client(world.home1).patch(f"/api/v1/institutions/{world.inst1.pk}/",
                                             {"manager_phone": "13900000001"}, format="json")
    assert response.status_code == 200, response.content


def test_an_institution_cannot_move_itself_to_another_township_or_unit(world):
    for body in ({"township": world.t2.pk}, {"operator_unit": world.unit.pk}):
        response = api_client(world.home1).patch(f"/api/v1/institutions/{world.inst1.pk}/", body, format="json")
        assert response.status_code == 400, response.content
        assert set(body) <= set(response.json())
    world.inst1.refresh_from_db()
    assert world.inst1.township_id == world.t1.pk and world.inst1.operator_unit_id is None


def test_the_read_mostly_leader_cannot_write_through_the_api(world):
    client = api_client(world.leader)
    assert client.post("/api/v1/checkpoints/", {"institution": world.inst1.pk, "name": "一楼"},
                       format="json").status_code == 403
    checkpoint = Checkpoint.objects.create(institution=world.inst1, name="二楼")
    assert client.patch(f"/api/v1/checkpoints/{checkpoint.pk}/", {"name": "三楼"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/checkpoints/{checkpoint.pk}/").status_code == 403
    assert client.post("/api/v1/inspections/", {"institution": world.inst1.pk, "template": template().pk},
                       format="json").status_code == 403
    assert client.post("/api/v1/patrols/", {"institution": world.inst1.pk}, format="json").status_code == 403
    assert Checkpoint.objects.get(pk=checkpoint.pk).name == "二楼"
    assert not Inspection.objects.exists() and not PatrolRound.objects.exists()
    assert Checkpoint.objects.count() == 1


def _district_period(world):
    """A bureau-run festival period over both townships, with a slot and a shift at inst1 and at inst2."""
    now = timezone.now()
    with acting_as(world.admin):
        period = SecurityPeriod.objects.create(name="全区春节安保", event="春节", owner_org=world.bureau,
                                               starts_at=now - datetime.timedelta(hours=1),
                                               ends_at=now + datetime.timedelta(days=3))
        period.townships.set([world.t1, world.t2])
        period.key_places.set([world.inst1, world.inst2])
        rows = {}
        for inst in (world.inst1, world.inst2):
            rows[inst.pk] = (
                InspectionSlot.objects.create(period=period, institution=inst, starts_at=now,
                                              ends_at=now + datetime.timedelta(hours=4)),
                DutyShift.objects.create(period=period, person=f"{inst.name}值班员", phone="13800000000",
                                         place=inst.name, institution=inst, starts_at=now - datetime.timedelta(hours=1),
                                         ends_at=now + datetime.timedelta(hours=8)),
            )
    return period, rows


def test_an_institution_sees_only_its_own_slots_and_shifts(world):
    period, rows = _district_period(world)
    slot1, shift1 = rows[world.inst1.pk]
    client = api_client(world.home2)
    listed = client.get(f"/api/v1/inspection-slots/?institution={world.inst1.pk}").json()
    assert listed["count"] == 0
    assert client.get(f"/api/v1/inspection-slots/{slot1.pk}/").status_code == 404
    assert client.get(f"/api/v1/duty-rosters/{shift1.pk}/").status_code == 404
    assert client.get("/api/v1/duty-rosters/").json()["count"] == 1
    # Its own rows are there.
    assert client.get(f"/api/v1/inspection-slots/?institution={world.inst2.pk}").json()["count"] == 1


def test_a_township_sees_only_its_townships_slots_and_shifts(world):
    period, rows = _district_period(world)
    client = api_client(world.town2)
    ids = {r["id"] for r in client.get("/api/v1/inspection-slots/").json()["results"]}
    assert ids == {rows[world.inst2.pk][0].pk}
    assert client.get(f"/api/v1/duty-rosters/{rows[world.inst1.pk][1].pk}/").status_code == 404


def test_the_festival_board_shows_an_institution_only_its_own_rows(world):
    period, _rows = _district_period(world)
    for user, own, other in ((world.home1, world.inst1, world.inst2), (world.home2, world.inst2, world.inst1)):
        body = page_client(user).get(f"/inspections/security/{period.pk}/").content.decode()
        assert own.name in body
        assert other.name not in body, user.username
        assert f"/ledger/{other.pk}/" not in body


def test_a_township_cannot_read_another_townships_campaign_task(world):
    with acting_as(world.admin):
        campaign = Campaign.objects.create(name="冬春火灾防控", owner_org=world.bureau,
                                           starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 12, 31))
        campaign.townships.set([world.t1, world.t2])
        task1 = CampaignTask.objects.create(campaign=campaign, title="一号街道辖区逐家检查", assignee_org=world.t1,
                                            assignee_name="张主任", due_on=datetime.date(2026, 6, 30))
        task2 = CampaignTask.objects.create(campaign=campaign, title="二号镇辖区逐家检查", assignee_org=world.t2,
                                            assignee_name="王主任", due_on=datetime.date(2026, 6, 30))
    client = api_client(world.town2)
    assert client.get(f"/api/v1/campaign-tasks/{task1.pk}/").status_code == 404
    assert client.get(f"/api/v1/campaign-tasks/{task2.pk}/").status_code == 200
    assert [r["id"] for r in client.get("/api/v1/campaign-tasks/").json()["results"]] == [task2.pk]
    # The bureau, which runs the campaign, sees both.
    assert api_client(world.leader).get("/api/v1/campaign-tasks/").json()["count"] == 2


def test_a_hazard_fixed_on_the_spot_needs_a_photo_after_in_the_api_too(world):
    response = api_client(world.home1).post("/api/v1/hazards/", {
        "institution": world.inst1.pk, "category": "electrical", "description": "插线板串接", "source": "other",
        "fixed_on_spot": True}, format="json")
    assert response.status_code == 400, response.content
    assert "photos_after" in response.json()
    assert not Hazard.objects.exists()
    assert Institution.objects.count() == 3


def test_checkpoint_changes_over_the_api_go_through_the_service(world):
    checkpoint = Checkpoint.objects.create(institution=world.inst1, name="二楼")
    client = api_client(world.home1)
    assert client.patch(f"/api/v1/checkpoints/{checkpoint.pk}/", {"name": "三楼"}, format="json").status_code == 200
    moved = client.patch(f"/api/v1/checkpoints/{checkpoint.pk}/", {"institution": world.inst1b.pk}, format="json")
    assert moved.status_code == 400  # inst1b is not home1's: not found; and a checkpoint never moves
    assert api_client(world.town1).patch(f"/api/v1/checkpoints/{checkpoint.pk}/", {"institution": world.inst1b.pk},
                                         format="json").status_code == 400
    assert Checkpoint.objects.get(pk=checkpoint.pk).institution_id == world.inst1.pk
    assert client.delete(f"/api/v1/checkpoints/{checkpoint.pk}/").status_code == 204
    assert not Checkpoint.objects.filter(pk=checkpoint.pk).exists()
