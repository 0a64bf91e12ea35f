import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from apps.core.models import AuditEntry
from apps.core.testing import api_client, make_institution, page_client
from apps.hazards.models import Hazard
from apps.inspections import metrics, services
from apps.inspections.models import ChecklistTemplate, FrequencyRule, Inspection

from .helpers import png, submitted_inspection, template


def _queries(client, url, **kw):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **kw)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def test_the_curated_checklists_are_seeded_as_versioned_data(db):
    codes = set(ChecklistTemplate.objects.values_list("code", flat=True))
    assert {"daily-patrol", "monthly-inspection", "winter-self-check", "electrical-special", "festival-security",
            "elderly-major-hazard"} <= codes
    major = template("elderly-major-hazard")
    assert major.items.filter(counts_toward_major=True).count() == major.items.count() > 5
    assert FrequencyRule.objects.get(institution_kind="elderly_care", is_active=True).night_interval_hours == 2


def test_every_residential_kind_has_a_night_patrol_rule_citing_gbt_40248(db):
    from apps.inspections.compliance import rule_for, rules_by_kind
    from apps.ledger.choices import RESIDENTIAL_KINDS

    rules = rules_by_kind()
    for kind in RESIDENTIAL_KINDS:
        rule = rule_for(rules, kind)
        assert rule.night_interval_hours == 2, kind
        assert "GB/T 40248-2021" in rule.basis and "7.3.5" in rule.basis, kind
    assert rule_for(rules, "funeral").night_interval_hours is None


def test_the_daily_patrol_checklist_asks_whether_the_fire_lanes_are_clear(db):
    current = ChecklistTemplate.objects.get(code="daily-patrol", is_active=True)
    assert current.version == 2
    lane = current.items.get(text__startswith="消防车道是否畅通")
    assert "GB/T 40248-2021" in lane.basis and "7.3.6" in lane.basis
    old = ChecklistTemplate.objects.get(code="daily-patrol", version=1)
    assert not old.is_active and current.items.count() == old.items.count() + 1


def test_an_institution_self_inspection_page_turns_two_failed_items_into_two_linked_hazards(world):
    client = page_client(world.home1)
    response = client.post("/inspections/new/", {"institution": world.inst1.pk,
                                                  "template": template("winter-self-check").pk,
                                                  "inspected_on": "2026-11-20"})
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.kind == "self" and inspection.office is None
    items = list(inspection.items.all())
    data = {"inspector_name": "王自查", "responsible_name": "李院长"}
    for n, item in enumerate(items):
        data[f"result-{item.pk}"] = "fail" if n < 3 else "pass"
        data[f"note-{item.pk}"] = f"发现问题{n}" if n < 3 else ""
    data[f"fixed-{items[2].pk}"] = "on"
    data[f"photo-{items[0].pk}"] = png()
    response = client.post(f"/inspections/{inspection.pk}/fill/", data, follow=True)
    assert response.status_code == 200
    # the one fixed on the spot is a registered (and closed) hazard too, and the summary says so
    assert "登记隐患3条（其中当场整改1条）" in response.content.decode()
    hazards = Hazard.objects.filter(institution=world.inst1)
    assert hazards.count() == 3
    open_ones = hazards.filter(fixed_on_spot=False)
    assert open_ones.count() == 2
    for item in items[:3]:
        item.refresh_from_db()
        assert item.hazard.source_object == item
        assert item.hazard.source == "self_inspection"
        assert item.text in item.hazard.description
    inspection.refresh_from_db()
    assert inspection.state == "submitted" and inspection.responsible_name == "李院长"
    assert inspection.responsible_signed_at is not None
    body = client.get(inspection.get_absolute_url()).content.decode()
    assert "李院长" in body and "当场整改" in body


def test_an_incomplete_inspection_is_refused_in_chinese_and_nothing_is_saved(world):
    inspection = services.start_inspection(world.home1, world.inst1, template())
    items = list(inspection.items.all())
    data = {"inspector_name": "王", "responsible_name": "李", f"result-{items[0].pk}": "fail"}
    response = page_client(world.home1).post(f"/inspections/{inspection.pk}/fill/", data)
    assert response.status_code == 400
    assert "请选择" in response.content.decode() or "说明" in response.content.decode()
    assert not Hazard.objects.exists()
    inspection.refresh_from_db()
    assert inspection.state == "draft"


def test_a_township_officers_inspection_shows_in_the_townships_enforcement_log(world):
    inspection = submitted_inspection(world.town1, world.inst1, fail=1)
    assert inspection.kind == "office" and inspection.office == world.t1
    assert AuditEntry.objects.filter(action="inspection.enforce", object_id=str(inspection.pk)).exists()
    self_check = submitted_inspection(world.home1, world.inst1)
    client = page_client(world.town1)
    body = client.get("/inspections/enforcement/", {"office": world.t1.pk}).content.decode()
    assert f"/inspections/{inspection.pk}/" in body
    assert f"/inspections/{self_check.pk}/" not in body
    response = client.get("/inspections/enforcement/", {"office": world.t1.pk, "export": "xlsx"})
    sheet = load_workbook(__import__("io").BytesIO(response.content)).active
    assert sheet.max_row == 2 and "一号敬老院" in [c.value for c in sheet[2]]
    patrol = services.start_patrol(world.town1, world.inst1)  # a stationed patrol: another enforcement act
    assert patrol.office == world.t1
    assert f"/inspections/patrols/{patrol.pk}/" in client.get("/inspections/enforcement/").content.decode()
    assert services.start_patrol(world.home1, world.inst1).office is None
    assert page_client(world.home1).get("/inspections/enforcement/").status_code == 404
    body = page_client(world.town2).get("/inspections/enforcement/").content.decode()
    assert f"/inspections/{inspection.pk}/" not in body
    later = client.get("/inspections/enforcement/", {"since": "2099-01-01"}).content.decode()
    assert f"/inspections/{inspection.pk}/" not in later


def test_institution_users_cannot_inspect_another_institution_or_record_enforcement(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_inspection(world.home1, world.inst2, template())
    inspection = services.start_inspection(world.home1, world.inst1, template(), kind="office")
    assert inspection.kind == "self" and inspection.office is None


def test_the_api_starts_and_submits_an_inspection_with_a_photo(world):
    client = api_client(world.town1)
    response = client.post("/api/v1/inspections/", {"institution": world.inst1.pk,
                                                    "template": template("electrical-special").pk,
                                                    "kind": "night"}, format="json")
    assert response.status_code == 201, response.json()
    inspection_id = response.json()["id"]
    items = response.json()["items"]
    results = [{"item": i["id"], "result": "pass"} for i in items]
    results[0] = {"item": items[0]["id"], "result": "fail", "note": "电气火灾监控离线"}
    import json

    response = client.post(f"/api/v1/inspections/{inspection_id}/submit/", {
        "inspector_name": "张检查", "responsible_name": "李院长", "results": json.dumps(results),
        f"photo-{items[0]['id']}": png()}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "submitted"
    hazard = Hazard.objects.get()
    assert hazard.source == "inspection" and hazard.source_id == str(items[0]["id"])
    from apps.core.attachments import attachments_of

    assert attachments_of(hazard).count() == 1
    bad = client.post(f"/api/v1/inspections/{inspection_id}/submit/", {
        "inspector_name": "张", "responsible_name": "李", "results": json.dumps(results)}, format="multipart")
    assert bad.status_code == 400
    assert api_client(world.town2).post(f"/api/v1/inspections/{inspection_id}/submit/", {}).status_code == 404


def test_inspection_list_page_and_api_query_counts_are_constant(world):
    page, api = page_client(world.town1), api_client(world.leader)
    submitted_inspection(world.town1, world.inst1, fail=1)
    few_page = _queries(page, "/inspections/")
    few_log = _queries(page, "/inspections/enforcement/")
    few_api = _queries(api, "/api/v1/inspections/")
    for n in range(4):
        inst = make_institution(world.t1, f"批量养老院{n}")
        submitted_inspection(world.town1, inst, fail=2)
        submitted_inspection(world.town1, inst)
    assert _queries(page, "/inspections/") == few_page
    assert _queries(page, "/inspections/enforcement/") == few_log
    assert _queries(api, "/api/v1/inspections/") == few_api


def test_metrics_answer_for_every_institution_with_constant_queries(world):
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)):
        submitted_inspection(world.town1, world.inst1, on=datetime.date(2026, 11, 10))
        submitted_inspection(world.home1, world.inst1, code="winter-self-check", on=datetime.date(2026, 11, 12))
        today = datetime.date(2026, 11, 20)
        ids = [world.inst1.pk, world.inst2.pk, 999999]
        with CaptureQueriesContext(connection) as few:
            out = metrics.institution_compliance(ids, today)
        more = [make_institution(world.t2, f"更多{n}").pk for n in range(5)]
        with CaptureQueriesContext(connection) as many:
            metrics.institution_compliance(ids + more, today)
        assert len(few.captured_queries) == len(many.captured_queries)
    assert set(out) == set(ids)
    assert out[world.inst1.pk]["inspection_ok"] is True
    assert out[world.inst1.pk]["last_inspection"] == datetime.date(2026, 11, 12)
    assert out[world.inst1.pk]["self_assessment_ok"] is True
    assert out[world.inst2.pk]["inspection_ok"] is False and out[world.inst2.pk]["last_inspection"] is None
    assert out[world.inst2.pk]["patrol_ok"] is False and out[world.inst2.pk]["missed_patrols_30d"] > 0
    assert out[999999] == {"patrol_ok": False, "missed_patrols_30d": 0, "inspection_ok": False,
                           "last_inspection": None, "self_assessment_ok": False}
