"""Ledger → hazards: facts a standard makes a hazard are found by the ledger rules (data), offered
to the township with the rule cited; accepting registers the hazard, dismissing needs a reason."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import AuditEntry
from apps.core.testing import api_client, make_institution, page_client
from apps.hazards import ledger_rules
from apps.hazards.models import Hazard, HazardSuggestion, LedgerRule
from apps.ledger.models import Building, Institution
from apps.training.models import StaffMember


def _building(inst, **fields):
    return Building.objects.create(institution=inst, name=fields.pop("name", "主楼"), **fields)


def _rules(inst, state="open"):
    return set(HazardSuggestion.objects.filter(institution=inst, state=state).values_list("rule__code", flat=True))


def _safe(inst):
    """Facilities present and tested, so only the facts a test sets raise a suggestion."""
    today = timezone.localdate()
    Institution.objects.filter(pk=inst.pk).update(
        has_auto_alarm=True, has_sprinklers=True, last_facility_test=today - datetime.timedelta(days=30),
        maintenance_contract_until=today + datetime.timedelta(days=100))
    inst.refresh_from_db()
    return inst


def test_colour_steel_and_dangerous_buildings_of_a_care_home_are_major_under_the_elderly_care_standard(world):
    inst = _safe(world.inst1)
    _building(inst, colour_steel="combustible", name="屋顶加建")
    _building(inst, safety_rating="C", name="老楼")
    _building(inst, safety_rating="B", name="新楼")
    assert ledger_rules.scan([inst]) == 2
    suggestions = {s.rule.code: s for s in HazardSuggestion.objects.filter(institution=inst)}
    assert set(suggestions) == {"LR-colour-steel-elderly", "LR-building-cd-elderly"}
    steel = suggestions["LR-colour-steel-elderly"]
    assert steel.rule.level == "major" and "第四条第（三）项" in steel.rule.citation
    assert steel.rule.element.rule_set.code == "MZ-elderly-2023" and steel.building.name == "屋顶加建"
    assert "老楼" in suggestions["LR-building-cd-elderly"].description
    assert ledger_rules.scan([inst]) == 0  # nothing new, nothing twice


def test_each_kind_gets_the_rules_of_its_own_standard(world):
    child = _safe(world.inst1b)
    _building(child, colour_steel="combustible")
    _building(child, safety_rating="D", name="危房")
    ledger_rules.scan([child])
    assert _rules(child) == {"LR-colour-steel-residential"}  # the elderly-care rules do not apply
    funeral = _safe(make_institution(world.t1, "殡仪馆", kind="funeral"))
    _building(funeral, colour_steel="combustible")
    ledger_rules.scan([funeral])
    assert _rules(funeral) == set()


def test_required_facilities_tests_contracts_and_operators(world):
    inst = world.inst1
    today = timezone.localdate()
    Institution.objects.filter(pk=inst.pk).update(has_auto_alarm=False, has_sprinklers=True,
                                                  last_facility_test=today - datetime.timedelta(days=400),
                                                  maintenance_contract_until=today - datetime.timedelta(days=1))
    StaffMember.objects.create(institution=inst, name="赵值班", post="值班员", hired_on=today, roles=["control_room"])
    StaffMember.objects.create(institution=inst, name="钱值班", post="值班员", hired_on=today, roles=["control_room"],
                               certificate_no="X1", certificate_expires=today + datetime.timedelta(days=300))
    ledger_rules.scan([inst])
    found = {s.rule.code: s.description for s in HazardSuggestion.objects.filter(institution=inst)}
    assert set(found) == {"LR-alarm-absent", "LR-facility-test", "LR-maintenance", "LR-operators"}
    assert "赵值班" in found["LR-operators"] and "钱值班" not in found["LR-operators"]
    # a small home under the bureau's bed threshold is not required to have the alarm system
    LedgerRule.objects.filter(code="LR-alarm-absent").update(params={"field": "has_auto_alarm", "min_beds": 100})
    ledger_rules.scan([inst])
    assert "LR-alarm-absent" not in _rules(inst) and "LR-alarm-absent" in _rules(inst, "resolved")


def test_a_ledger_change_runs_the_rules_and_a_fact_put_right_resolves_its_suggestion(
        world, django_capture_on_commit_callbacks):
    inst = _safe(world.inst1)
    with django_capture_on_commit_callbacks(execute=True):
        building = _building(inst, colour_steel="combustible")
    assert _rules(inst) == {"LR-colour-steel-elderly"}
    building.colour_steel = "none"
    with django_capture_on_commit_callbacks(execute=True):
        building.save()
    assert _rules(inst) == set() and _rules(inst, "resolved") == {"LR-colour-steel-elderly"}
    building.colour_steel = "combustible"
    with django_capture_on_commit_callbacks(execute=True):
        building.save()
    assert _rules(inst) == {"LR-colour-steel-elderly"}


def test_accepting_registers_the_hazard_with_the_rule_cited_and_leaves_a_trail(world):
    inst = _safe(world.inst1)
    _building(inst, colour_steel="combustible")
    ledger_rules.scan([inst])
    suggestion = HazardSuggestion.objects.get(institution=inst)
    assert page_client(world.home1).post(f"/hazards/suggestions/{suggestion.pk}/accept/").status_code == 403
    response = page_client(world.town1).post(f"/hazards/suggestions/{suggestion.pk}/accept/")
    suggestion.refresh_from_db()
    hazard = suggestion.hazard
    assert response.status_code == 302 and response["Location"] == hazard.get_absolute_url()
    assert suggestion.state == "accepted" and suggestion.decided_by == world.town1
    assert hazard.level == "major" and hazard.source == "ledger" and hazard.source_object == suggestion
    assert "民办发〔2023〕13号" in hazard.description and hazard.building == suggestion.building
    assert AuditEntry.objects.filter(action="hazard.suggestion_accept").exists()
    assert page_client(world.town1).post(f"/hazards/suggestions/{suggestion.pk}/accept/").status_code == 302
    assert Hazard.objects.filter(institution=inst).count() == 1  # accepted once only
    ledger_rules.scan([inst])
    assert HazardSuggestion.objects.get(pk=suggestion.pk).state == "accepted"


def test_dismissing_needs_a_reason(world):
    inst = _safe(world.inst1)
    _building(inst, safety_rating="D")
    ledger_rules.scan([inst])
    suggestion = HazardSuggestion.objects.get(institution=inst)
    client = page_client(world.town1)
    assert client.post(f"/hazards/suggestions/{suggestion.pk}/dismiss/", {"reason": ""}).status_code == 400
    r = api_client(world.town1).post(f"/api/v1/hazard-suggestions/{suggestion.pk}/dismiss/", {"reason": " "},
                                     format="json")
    assert r.status_code == 400 and "reason" in r.json()
    suggestion.refresh_from_db()
    assert suggestion.state == "open"
    r = api_client(world.home1).post(f"/api/v1/hazard-suggestions/{suggestion.pk}/dismiss/", {"reason": "x"},
                                     format="json")
    assert r.status_code == 403  # an institution may not decide (the role before the state)
    assert client.post(f"/hazards/suggestions/{suggestion.pk}/dismiss/",
                       {"reason": "该楼已停用并封闭，待拆除"}).status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.state == "dismissed" and suggestion.reason == "该楼已停用并封闭，待拆除"
    entry = AuditEntry.objects.filter(action="hazard.suggestion_dismiss").get()
    assert entry.after["reason"] == "该楼已停用并封闭，待拆除"
    assert not Hazard.objects.filter(institution=inst).exists()


def test_the_api_lists_accepts_and_scans_in_scope(world):
    inst = _safe(world.inst1)
    _building(inst, colour_steel="combustible")
    _building(_safe(world.inst2), colour_steel="combustible")
    town1 = api_client(world.town1)
    assert town1.post("/api/v1/hazard-suggestions/scan/").json() == {"opened": 1}  # only its own township
    assert api_client(world.town2).post("/api/v1/hazard-suggestions/scan/").json() == {"opened": 1}
    rows = town1.get("/api/v1/hazard-suggestions/").json()["results"]
    assert [r["institution"] for r in rows] == [inst.pk] and "第四条第（三）项" in rows[0]["citation"]
    r = town1.post(f"/api/v1/hazard-suggestions/{rows[0]['id']}/accept/")
    assert r.status_code == 200 and r.json()["state"] == "accepted" and r.json()["hazard"]
    assert api_client(world.home1).post("/api/v1/hazard-suggestions/scan/").status_code == 403


@pytest.mark.parametrize("url", ["/hazards/suggestions/", "/api/v1/hazard-suggestions/",
                                 "/hazards/suggestions/?export=xlsx"])
def test_the_suggestion_list_takes_the_same_queries_for_few_and_many(world, url):
    client = api_client(world.leader) if url.startswith("/api/") else page_client(world.leader)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _building(world.inst1, colour_steel="combustible")
    ledger_rules.scan()
    few = count()
    for n, inst in enumerate([world.inst1b, world.inst2] + [make_institution(world.t2, f"院{n}") for n in range(4)]):
        _building(inst, colour_steel="combustible", safety_rating="D", name=f"楼{n}")
    ledger_rules.scan()
    assert HazardSuggestion.objects.count() > 10
    assert count() == few
