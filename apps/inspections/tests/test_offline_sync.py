"""Patrols recorded without signal and sent later: each record stored once, with its own time,
in scope, and conflicts answered with what changed (docs/inspections.md, “Without signal”)."""
import datetime
import uuid

from django.utils import timezone

from apps.core.testing import api_client
from apps.inspections import services
from apps.inspections.models import PatrolRound, PatrolVisit

from .helpers import png


def _round(client, inst, key, started_at):
    return client.post("/api/v1/patrols/offline/", {"key": str(key), "institution": inst.pk,
                                                      "started_at": started_at.isoformat(), "patroller_name": "夜班王"})


def _visit(client, round_key, checkpoint, key, visited_at, **extra):
    data = {"key": str(key), "round_key": str(round_key), "checkpoint": checkpoint.pk,
            "visited_at": visited_at.isoformat(), "checkpoint_name": checkpoint.name,
            "checkpoint_location": checkpoint.location, **extra}
    return client.post("/api/v1/patrols/offline-visits/", data, format="multipart")


def test_a_round_sent_twice_is_stored_once_with_the_phones_times(world):
    cp = services.create_checkpoint(world.home1, world.inst1, name="地下室配电间", location="B1")
    client = api_client(world.home1)
    started = (timezone.now() - datetime.timedelta(hours=3)).replace(microsecond=123000)
    visited = started + datetime.timedelta(minutes=7)
    rk, vk = uuid.uuid4(), uuid.uuid4()
    first = _round(client, world.inst1, rk, started)
    assert first.status_code == 201 and first.json()["created"] is True
    again = _round(client, world.inst1, rk, started)
    assert again.status_code == 200 and again.json()["created"] is False and again.json()["id"] == first.json()["id"]
    v1 = _visit(client, rk, cp, vk, visited, ok="false", finding="配电柜门未关", photo=png())
    assert v1.status_code == 201, v1.content
    v2 = _visit(client, rk, cp, vk, visited, ok="false", finding="配电柜门未关", photo=png())
    assert v2.status_code == 200 and v2.json()["id"] == v1.json()["id"]
    patrol = PatrolRound.objects.get()
    assert patrol.started_at == started and patrol.patroller_name == "夜班王"
    visit = PatrolVisit.objects.get()
    assert visit.visited_at == visited and not visit.ok and visit.client_key == vk
    assert patrol.ended_at == visited
    from apps.core.models import Attachment

    assert Attachment.objects.filter(object_id=str(visit.pk)).count() == 1


def test_a_key_reused_with_other_facts_is_a_conflict_not_an_overwrite(world):
    client = api_client(world.home1)
    started = timezone.now() - datetime.timedelta(hours=1)
    rk = uuid.uuid4()
    assert _round(client, world.inst1, rk, started).status_code == 201
    res = _round(client, world.inst1, rk, started - datetime.timedelta(minutes=30))
    assert res.status_code == 409 and res.json()["conflict"] is True
    assert PatrolRound.objects.get().started_at == started


def test_a_checkpoint_changed_meanwhile_is_reported_and_can_be_sent_anyway(world):
    cp = services.create_checkpoint(world.home1, world.inst1, name="二楼楼梯间", location="东侧")
    client = api_client(world.home1)
    started = timezone.now() - datetime.timedelta(hours=1)
    rk = uuid.uuid4()
    _round(client, world.inst1, rk, started)
    seen = {"name": cp.name, "location": cp.location}
    services.update_checkpoint(world.home1, cp, name="二楼东楼梯间", is_active=False)
    data = {"key": str(uuid.uuid4()), "round_key": str(rk), "checkpoint": cp.pk,
            "visited_at": (started + datetime.timedelta(minutes=5)).isoformat(),
            "checkpoint_name": seen["name"], "checkpoint_location": seen["location"]}
    res = client.post("/api/v1/patrols/offline-visits/", data, format="multipart")
    assert res.status_code == 409
    assert "二楼东楼梯间" in res.json()["detail"] and "已停用" in res.json()["detail"]
    assert not PatrolVisit.objects.exists()
    res = client.post("/api/v1/patrols/offline-visits/", {**data, "force": "true"}, format="multipart")
    assert res.status_code == 201
    assert PatrolVisit.objects.get().checkpoint_id == cp.pk


def test_bad_input_is_a_400_with_the_reason_and_nothing_half_saved(world):
    cp = services.create_checkpoint(world.home1, world.inst1, name="厨房")
    client = api_client(world.home1)
    started = timezone.now() - datetime.timedelta(hours=1)
    rk = uuid.uuid4()
    _round(client, world.inst1, rk, started)
    res = _visit(client, rk, cp, uuid.uuid4(), started + datetime.timedelta(minutes=1), ok="false", finding="")
    assert res.status_code == 400 and "finding" in res.json()
    res = _visit(client, rk, cp, uuid.uuid4(), started - datetime.timedelta(minutes=1))
    assert res.status_code == 400 and "visited_at" in res.json()
    res = _visit(client, uuid.uuid4(), cp, uuid.uuid4(), started)
    assert res.status_code == 404
    assert not PatrolVisit.objects.exists()


def test_outsiders_get_404_and_institution_users_record_only_for_themselves(world):
    cp = services.create_checkpoint(world.home1, world.inst1, name="大门")
    started = timezone.now() - datetime.timedelta(hours=1)
    assert _round(api_client(world.home2), world.inst1, uuid.uuid4(), started).status_code == 404
    assert _round(api_client(world.town2), world.inst1, uuid.uuid4(), started).status_code == 404
    rk = uuid.uuid4()
    assert _round(api_client(world.home1), world.inst1, rk, started).status_code == 201
    # Someone else's round key, outside their scope: as if it did not exist.
    assert _visit(api_client(world.home2), rk, cp, uuid.uuid4(), started).status_code == 404
    assert _round(api_client(world.home2), world.inst2, rk, started).status_code == 404


def test_the_offline_page_lists_own_checkpoints_and_serves_its_worker_and_manifest(world):
    from apps.core.testing import page_client

    services.create_checkpoint(world.home1, world.inst1, name="一楼走廊")
    services.create_checkpoint(world.home2, world.inst2, name="别家的走廊")
    client = page_client(world.home1)
    page = client.get("/inspections/patrols/offline/")
    assert page.status_code == 200
    body = page.content.decode()
    names = [c["name"] for inst in page.context["offline_data"]["institutions"] for c in inst["checkpoints"]]
    assert names == ["一楼走廊"]
    assert page.context["offline_data"]["own_institution"] == world.inst1.pk
    assert "<script>" not in body  # CSP: the data is JSON, not a script
    worker = client.get("/inspections/patrols/offline/sw.js")
    assert worker.status_code == 200 and worker["Content-Type"].startswith("application/javascript")
    assert "offline-patrol.js" in worker.content.decode()
    manifest = client.get("/inspections/patrols/offline/manifest.webmanifest").json()
    assert manifest["start_url"] == "/inspections/patrols/offline/" and len(manifest["icons"]) == 2


def _daily_checklist():
    from apps.inspections.models import ChecklistTemplate

    from .helpers import ensure_rules

    ensure_rules()
    return ChecklistTemplate.objects.get(code="daily-patrol", is_active=True)  # the current version


def _checklist_body(tpl, inst, key, *, fail_first=True):
    import json

    items = list(tpl.items.order_by("order", "id"))
    results = [{"item": i.pk, "result": "fail" if (n == 0 and fail_first) else "pass",
                "note": "消防通道堆放杂物" if (n == 0 and fail_first) else ""} for n, i in enumerate(items)]
    return items, {"key": str(key), "institution": inst.pk, "template": tpl.pk,
                   "inspected_on": timezone.localdate().isoformat(), "inspector_name": "夜班王",
                   "responsible_name": "李院长", "results": json.dumps(results)}


def test_the_days_checklist_filled_offline_is_stored_once_with_its_hazard(world):
    from apps.hazards.models import Hazard
    from apps.inspections.models import Inspection

    tpl = _daily_checklist()
    client = api_client(world.home1)
    key = uuid.uuid4()
    items, body = _checklist_body(tpl, world.inst1, key)
    res = client.post("/api/v1/inspections/offline/", {**body, f"photo-{items[0].pk}": png()}, format="multipart")
    assert res.status_code == 201, res.content
    again = client.post("/api/v1/inspections/offline/", {**body, f"photo-{items[0].pk}": png()}, format="multipart")
    assert again.status_code == 200 and again.json()["id"] == res.json()["id"]
    inspection = Inspection.objects.get()
    assert inspection.kind == "self" and inspection.state == "submitted" and inspection.client_key == key
    assert Hazard.objects.filter(institution=world.inst1).count() == 1
    from apps.core.attachments import attachments_of

    assert attachments_of(inspection.items.get(checklist_item=items[0])).count() == 1


def test_a_checklist_changed_since_loading_is_a_conflict_and_outsiders_get_404(world):
    from apps.inspections.models import ChecklistItem, Inspection

    tpl = _daily_checklist()
    items, body = _checklist_body(tpl, world.inst1, uuid.uuid4(), fail_first=False)
    assert api_client(world.home2).post("/api/v1/inspections/offline/", body, format="multipart").status_code == 404
    ChecklistItem.objects.create(template=tpl, order=99, category=items[0].category, text="新增检查项")
    res = api_client(world.home1).post("/api/v1/inspections/offline/", body, format="multipart")
    assert res.status_code == 409 and "检查表" in res.json()["detail"]
    assert not Inspection.objects.exists()


def test_a_self_inspection_filled_offline_keeps_the_phones_time_and_every_photo(world):
    """A monthly self-inspection signed on the phone an hour ago, sent now: signed and found at the phone's
    time, two photos of the failed item kept, sent twice and stored once; the offline page offers it."""
    from apps.core.attachments import attachments_of
    from apps.core.testing import page_client
    from apps.hazards.models import Hazard
    from apps.inspections.models import ChecklistTemplate, Inspection

    from .helpers import ensure_rules

    ensure_rules()
    tpl = ChecklistTemplate.objects.filter(code="monthly-inspection", is_active=True).order_by("-version").first()
    data = page_client(world.home1).get("/inspections/patrols/offline/").context["offline_data"]
    offered = {t["id"]: t for t in data["checklists"]}
    assert tpl.pk in offered and offered[tpl.pk]["patrol"] is False
    assert tpl.pk in data["institutions"][0]["checklists"]
    signed = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    if timezone.localdate(signed) != timezone.localdate():
        signed = timezone.now().replace(microsecond=0)
    items, body = _checklist_body(tpl, world.inst1, uuid.uuid4())
    body["recorded_at"] = signed.isoformat()
    client = api_client(world.home1)
    first = items[0].pk
    res = client.post("/api/v1/inspections/offline/", {**body, f"photo-{first}": [png("a.png"), png("b.png")]},
                      format="multipart")
    assert res.status_code == 201, res.content
    again = client.post("/api/v1/inspections/offline/", body, format="multipart")
    assert again.status_code == 200 and again.json()["id"] == res.json()["id"]
    inspection = Inspection.objects.get()
    assert inspection.kind == "self" and inspection.template == tpl
    assert inspection.inspector_signed_at == signed and inspection.responsible_signed_at == signed
    assert inspection.submitted_at > signed
    assert attachments_of(inspection.items.get(checklist_item_id=first)).count() == 2
    assert Hazard.objects.get(institution=world.inst1).found_at == signed


def test_a_self_inspection_signed_in_the_future_or_on_another_day_is_refused_with_the_reason(world):
    from apps.inspections.models import ChecklistTemplate, Inspection

    from .helpers import ensure_rules

    ensure_rules()
    tpl = ChecklistTemplate.objects.filter(code="monthly-inspection", is_active=True).order_by("-version").first()
    client = api_client(world.home1)
    for when, word in ((timezone.now() + datetime.timedelta(hours=2), "将来"),
                       (timezone.now() - datetime.timedelta(days=3), "检查日期")):
        _items, body = _checklist_body(tpl, world.inst1, uuid.uuid4(), fail_first=False)
        body["recorded_at"] = when.isoformat()
        res = client.post("/api/v1/inspections/offline/", body, format="multipart")
        assert res.status_code == 400 and word in str(res.json()["recorded_at"]), res.content
    assert not Inspection.objects.exists()
