"""The policy matrix, generated from the registry: for every registered action, every role gets the
same answer from the page and from the API, and both agree with ``user.can(action, obj)``.

``MATRIX`` (below) gives each action its page request and its API request about objects of ``inst1``
(the users are the insiders of ``inst1``, one per role but the unit's; outsiders get 404 from the
scope first: the scope matrix). **An action registered without a row fails this test**, so a new
action cannot ship without saying how pages and API answer it.

What "agree" means (the codes as documented in ``docs/architecture.md``):

- refused: 403 from both (the page of a step of the hazard loop answers a refusal by going back to
  the hazard with the reason: 302, the form is not shown);
- allowed: the page opens its form (200) or does the act (302 back); the API does the act (200/201/204)
  or — where the row's body is deliberately incomplete, because a whole valid body would need a
  whole workflow — answers 400 with the missing fields or 409 for the state, i.e. the request got
  past the policy to the input and state checks.

A side without a route is named with the reason (``no_page`` / ``no_api``); an action asked only by
templates or services names both.
"""
import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from apps.core import policy
from apps.core.testing import api_client, make_institution, page_client
from apps.inspections.tests.helpers import template

INSIDERS = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1")

PAGE_OK = frozenset({200, 302, 400})
API_OK = frozenset({200, 201, 204, 400, 409})
REFUSED = frozenset({403})


@dataclass
class Row:
    page: Callable | None = None  # (world, ctx) -> (method, url, data)
    api: Callable | None = None  # (world, ctx) -> (method, url, body)
    obj: Callable | None = None  # (world, ctx) -> the object the action is about (for user.can)
    setup: Callable | None = None  # world -> ctx
    no_page: str = ""
    no_api: str = ""
    page_ok: frozenset = PAGE_OK
    page_refused: frozenset = REFUSED
    api_ok: frozenset = API_OK
    api_refused: frozenset = REFUSED
    # The parent is named in the API's body, not its URL: a parent outside the scope is an unknown
    # id there (400 naming the field), where the page's URL answers 404.
    api_parent_in_body: bool = False


def get(url):
    return lambda w, c: ("get", url(w, c) if callable(url) else url, None)


def post(url, data=None):
    return lambda w, c: ("post", url(w, c) if callable(url) else url, data(w, c) if callable(data) else (data or {}))


def patch(url, data):
    return lambda w, c: ("patch", url(w, c), data(w, c) if callable(data) else data)


def delete(url):
    return lambda w, c: ("delete", url(w, c), None)


def inst1(w, c):
    return w.inst1


def ctx_obj(w, c):
    return c


# --- fixtures of the rows -------------------------------------------------------------------------

def _hazard(state):
    def make(w):
        from apps.hazards.tests.helpers import general, planned, rectified

        hazard = general(w)
        if state == "rectifying":
            planned(w, hazard)
        elif state in ("awaiting_verification", "closed"):
            rectified(w, hazard)
        if state == "closed":
            type(hazard).objects.filter(pk=hazard.pk).update(state="closed", closed_at=datetime.datetime.now(
                datetime.UTC))
        hazard.refresh_from_db()
        return hazard
    return make


def _major(w):
    from apps.hazards.tests.helpers import major

    return major(w)


def _supervision(w):
    from apps.hazards.tests.scope_cases import _supervision as make

    return make(w)


def _extension(w):
    from apps.hazards.tests.scope_cases import _extension as make

    return make(w)


def _document(w):
    from apps.hazards.tests.scope_cases import _document as make

    return make(w)


def _suggestion(w):
    from apps.hazards.tests.scope_cases import _suggestion as make

    return make(w)


def _draft_inspection(w):
    from apps.inspections.tests.scope_cases import _inspection

    return _inspection(w, submitted=False)


def _campaign(w):
    from apps.inspections.tests.scope_cases import _campaign as make

    return make(w)


def _period(w):
    from apps.inspections.tests.scope_cases import _period as make

    return make(w)


def _alarm(w):
    from apps.monitoring.tests.scope_cases import _alarm as make

    return make(w)


def _incident(w):
    from apps.assessment.tests.scope_cases import _incident as make

    return make(w)


def _assessment(w):
    from apps.assessment.tests.scope_cases import _assessment as make

    return make(w)


def _spare_institution(w):
    return make_institution(w.t1, "矩阵备用养老院")


def _step(step, state):
    """A step of the hazard loop: the page's form (GET) and the API's step (POST, body left empty)."""
    return Row(page=get(lambda w, h: f"/hazards/{h.pk}/{step}/"),
               api=post(lambda w, h: f"/api/v1/hazards/{h.pk}/{step.replace('_', '-')}/"),
               obj=ctx_obj, setup=_hazard(state), page_ok=frozenset({200}), page_refused=frozenset({302}))


TEMPLATES_ONLY = "asked by templates and services only (no route of its own)"

MENU = "a menu entry (templates only): the page behind it answers to its own action, whose row is above"

MATRIX = {
    # the to-do home, the township's requirements, rejected messages, the handover import
    "home.changes": [Row(no_page=TEMPLATES_ONLY + " (the to-do home's changes since yesterday)", no_api=TEMPLATES_ONLY)],
    "hazard.require": [_step("require", "reported")],
    # Rejected messages belong to no institution: hidden (404) from all but the operators, like rows
    # outside the scope (they may carry any device's payload).
    "deadletter.handle": [Row(page=get("/monitoring/dead-letters/"), page_refused=frozenset({404}),
                              no_api="rejected messages are handled on their pages (preview, replay)")],
    "handover.import": [Row(page=get("/cockpit/handover/import/"),
                            no_api="a package is imported on its page or with the import_handover command")],
    "menu.api_docs": [Row(no_page=MENU, no_api=MENU)],
    "menu.assessment_oversight": [Row(no_page=MENU, no_api=MENU)],
    "menu.assessments": [Row(no_page=MENU, no_api=MENU)],
    "menu.cockpit": [Row(no_page=MENU, no_api=MENU)],
    "menu.devices": [Row(no_page=MENU, no_api=MENU)],
    "menu.documents": [Row(no_page=MENU, no_api=MENU)],
    "menu.enforcement_log": [Row(no_page=MENU, no_api=MENU)],
    "menu.hazard_oversight": [Row(no_page=MENU, no_api=MENU)],
    "menu.inspection_oversight": [Row(no_page=MENU, no_api=MENU)],
    "menu.institutions": [Row(no_page=MENU, no_api=MENU)],
    "menu.missed_patrols": [Row(no_page=MENU, no_api=MENU)],
    "menu.reports": [Row(no_page=MENU, no_api=MENU)],
    "menu.training_batches": [Row(no_page=MENU, no_api=MENU)],
    "menu.training_records": [Row(no_page=MENU, no_api=MENU)],
    # orgs
    "audit.search": [Row(page=get("/audit/"), api=get(lambda w, c: "/api/v1/audit/"))],
    "orgs.manage": [Row(page=get("/orgs/policy/"),
                        no_api="organisations and users are managed in the admin; the API reads the tree only")],
    "enforcement.act": [Row(no_page=TEMPLATES_ONLY, no_api=TEMPLATES_ONLY)],
    "institution.self_manage": [Row(no_page=TEMPLATES_ONLY, no_api=TEMPLATES_ONLY)],
    "institution.approve": [Row(no_page=TEMPLATES_ONLY, no_api=TEMPLATES_ONLY)],
    # ledger
    "ledger.view": [Row(page=get("/ledger/"), api=get(lambda w, c: "/api/v1/institutions/"))],
    "ledger.edit": [Row(page=get(lambda w, c: f"/ledger/{w.inst1.pk}/edit/"),
                        api=patch(lambda w, c: f"/api/v1/institutions/{w.inst1.pk}/", {"beds": 61}),
                        api_ok=frozenset({200}))],
    "ledger.create": [Row(page=get("/ledger/new/"),
                          api=post("/api/v1/institutions/", lambda w, c: {
                              "name": "矩阵养老院", "kind": "elderly_care", "nature": "public", "township": w.t1.pk,
                              "address": "矩阵路1号", "beds": 20, "residents": 10}),
                          api_ok=frozenset({201}))],
    "ledger.delete": [Row(no_page="the ledger has no delete page (an institution is closed, not deleted, in the UI)",
                          api=delete(lambda w, c: f"/api/v1/institutions/{c.pk}/"), setup=_spare_institution,
                          obj=ctx_obj, api_ok=frozenset({204}))],
    "ledger.import": [Row(page=get("/ledger/import/"), no_api="imports are uploads on the page (a preview to confirm)")],
    # hazards
    "hazard.report": [Row(page=get("/hazards/new/"),
                          api=post("/api/v1/hazards/", lambda w, c: {
                              "institution": w.inst1.pk, "category": "electrical", "description": "插线板串接",
                              "source": "other"}),
                          api_ok=frozenset({201}))],
    "hazard.determine": [Row(page=get(lambda w, h: f"/hazards/{h.pk}/determine/"),
                             api=post(lambda w, h: f"/api/v1/hazards/{h.pk}/determine/"),
                             setup=_major, obj=ctx_obj)],
    "supervision.list": [Row(page=get(lambda w, h: f"/hazards/{h.pk}/supervise/"),
                             api=post("/api/v1/supervisions/", lambda w, h: {"hazard": h.pk}),
                             setup=_major, obj=ctx_obj)],
    "supervision.follow_up": [Row(page=get(lambda w, s: f"/hazards/supervisions/{s.pk}/follow-up/"),
                                  api=post(lambda w, s: f"/api/v1/supervisions/{s.pk}/follow-ups/"),
                                  setup=_supervision, obj=ctx_obj)],
    "supervision.request_extension": [Row(page=get(lambda w, s: f"/hazards/supervisions/{s.pk}/extension/"),
                                          api=post(lambda w, s: f"/api/v1/supervisions/{s.pk}/extensions/"),
                                          setup=_supervision, obj=ctx_obj)],
    "supervision.decide_extension": [Row(page=get(lambda w, e: f"/hazards/extensions/{e.pk}/decide/"),
                                         api=post(lambda w, e: f"/api/v1/supervision-extensions/{e.pk}/decide/"),
                                         setup=_extension, obj=ctx_obj)],
    "supervision.delist": [Row(page=get(lambda w, s: f"/hazards/supervisions/{s.pk}/delist/"),
                               api=post(lambda w, s: f"/api/v1/supervisions/{s.pk}/delist/"),
                               setup=_supervision, obj=ctx_obj)],
    "document.issue": [Row(page=get("/hazards/documents/new/"), api=post("/api/v1/official-documents/"))],
    "document.acknowledge": [Row(page=post(lambda w, d: f"/hazards/documents/{d.pk}/acknowledge/"),
                                 api=post(lambda w, d: f"/api/v1/official-documents/{d.pk}/acknowledge/"),
                                 setup=_document, obj=ctx_obj)],
    "rule_set.load": [Row(page=post("/hazards/rule-sets/"),
                          no_api="rule sets are loaded from a file on the page; the API reads them")],
    "suggestion.decide": [Row(page=post(lambda w, s: f"/hazards/suggestions/{s.pk}/dismiss/"),
                              api=post(lambda w, s: f"/api/v1/hazard-suggestions/{s.pk}/dismiss/"),
                              setup=_suggestion, obj=ctx_obj)],
    "hazard.plan": [_step("plan", "registered")],
    "hazard.rectify": [_step("rectify", "rectifying")],
    "hazard.verify": [_step("verify", "awaiting_verification")],
    "hazard.send_back": [_step("send_back", "awaiting_verification")],
    "hazard.reopen": [_step("reopen", "closed")],
    "hazard.note": [_step("note", "rectifying")],
    # inspections
    "inspection.record": [
        Row(page=get("/inspections/checkpoints/new/"),
            api=post("/api/v1/checkpoints/", lambda w, c: {"institution": w.inst1.pk, "name": "一楼走廊"}),
            obj=inst1, api_ok=frozenset({201})),
        Row(page=get("/inspections/new/"),
            api=post("/api/v1/inspections/", lambda w, c: {"institution": w.inst1.pk, "template": template().pk}),
            obj=inst1, api_ok=frozenset({201})),
        Row(page=get("/inspections/patrols/new/"),
            api=post("/api/v1/patrols/", lambda w, c: {"institution": w.inst1.pk}), obj=inst1,
            api_ok=frozenset({201})),
    ],
    "inspection.submit": [Row(page=get(lambda w, i: f"/inspections/{i.pk}/fill/"),
                              api=post(lambda w, i: f"/api/v1/inspections/{i.pk}/submit/"),
                              setup=_draft_inspection, obj=ctx_obj)],
    "checklist.edit": [Row(no_page="checklists are edited in the admin (bureau administrators)",
                           no_api="the API reads checklists only")],
    "campaign.run": [
        Row(page=get("/inspections/campaigns/new/"),
            api=post("/api/v1/campaigns/", lambda w, c: {"name": "矩阵专项行动", "townships": [w.t1.pk],
                                                          "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
            api_ok=frozenset({201})),
        Row(page=get(lambda w, c: f"/inspections/campaigns/{c.pk}/tasks/new/"),
            api=post("/api/v1/campaign-tasks/", lambda w, c: {"campaign": c.pk, "title": "矩阵任务"}),
            setup=_campaign, obj=ctx_obj, api_parent_in_body=True),
        Row(page=get("/inspections/security/new/"), api=post("/api/v1/security-periods/")),
        Row(page=get(lambda w, p: f"/inspections/security/{p.pk}/shifts/new/"),
            api=post("/api/v1/duty-rosters/", lambda w, p: {"period": p.pk}), setup=_period, obj=ctx_obj,
            api_parent_in_body=True),
        Row(page=get(lambda w, p: f"/inspections/security/{p.pk}/slots/new/"),
            api=post("/api/v1/inspection-slots/", lambda w, p: {"period": p.pk}), setup=_period, obj=ctx_obj,
            api_parent_in_body=True),
    ],
    # monitoring
    "alarm.handle": [Row(page=post(lambda w, a: f"/monitoring/alarms/{a.pk}/acknowledge/"),
                         api=post(lambda w, a: f"/api/v1/alarms/{a.pk}/acknowledge/"), setup=_alarm, obj=ctx_obj)],
    "device.manage": [Row(page=get("/monitoring/devices/new/"),
                          no_api="devices are registered on the page (their token is shown once); "
                                 "the API reads them")],
    # Rules by level: an administration's own alarm thresholds (the object condition, "its own
    # administration only", is tested in apps/monitoring/tests/test_thresholds_by_level.py).
    "threshold.override": [Row(page=get("/monitoring/thresholds/new/"),
                               api=post("/api/v1/thresholds/", {"name": "矩阵阈值", "channel": "residual_ma",
                                                                "threshold": 250}))],
    # The other rules by level (apps/orgs/rulepages.py; "its own administration only" is tested in each
    # app's test_*_by_level.py).
    "frequency.override": [Row(page=get("/inspections/frequencies/new/"),
                               api=post("/api/v1/frequency-rules/", {"daily_patrols": 3, "night_interval_hours": 2}))],
    "riskmodel.override": [Row(page=get("/assessment/risk-models/new/"),
                               api=post("/api/v1/risk-models/", {"name": "矩阵模型", "version": "matrix",
                                                                 "red_from": 50, "orange_from": 30,
                                                                 "yellow_from": 10}))],
    "numberformat.override": [Row(page=get("/hazards/number-formats/new/"),
                                  api=post("/api/v1/number-formats/", {"series": "rectification_notice",
                                                                       "pattern": "矩阵{n}"}))],
    # training
    "training.staff_edit": [Row(page=get("/training/staff/new/"),
                                api=post("/api/v1/staff/", lambda w, c: {"institution": w.inst1.pk, "name": "矩阵员工"}))],
    "training.staff_import": [Row(page=get("/training/staff/import/"),
                                  no_api="imports are uploads on the page (a preview to confirm)")],
    "training.record": [Row(page=get("/training/sessions/new/"), api=post("/api/v1/trainings/")),
                        Row(page=get("/training/drills/new/"), api=post("/api/v1/drills/")),
                        Row(page=get("/training/publicity/new/"), api=post("/api/v1/publicity/"))],
    "training.batch": [Row(page=get("/training/batches/new/"), api=post("/api/v1/training-batches/"))],
    # assessment and the cockpit
    "incident.record": [Row(page=get("/assessment/incidents/new/"), api=post("/api/v1/fire-incidents/"))],
    "incident.accountability": [Row(page=post(lambda w, i: f"/assessment/incidents/{i.pk}/"),
                                    api=post(lambda w, i: f"/api/v1/fire-incidents/{i.pk}/accountability/"),
                                    setup=_incident, obj=ctx_obj)],
    "assessment.edit": [Row(page=get("/assessment/assessments/new/"),
                            no_api="assessments are drafted on the page (the API reads them)")],
    "assessment.sign": [Row(page=post(lambda w, a: f"/assessment/assessments/{a.pk}/", {"action": "sign"}),
                            no_api="an assessment is signed on its page (the API has no signing route)",
                            setup=_assessment, obj=ctx_obj)],
    "reports.view": [Row(page=get("/cockpit/reports/"), no_api="reports are pages and their downloads")],
    "handover.export": [Row(page=get("/cockpit/handover/"), no_api="the handover package is a download of the page")],
}

ROWS = [(name, n, row) for name in sorted(MATRIX) for n, row in enumerate(MATRIX[name])]


def test_every_registered_action_has_a_row():
    missing = sorted(set(policy.registry.actions) - set(MATRIX))
    assert not missing, f"Add a row to MATRIX in {__name__} for: {', '.join(missing)}"
    unknown = sorted(set(MATRIX) - set(policy.registry.actions))
    assert not unknown, f"Rows for actions that are not registered: {unknown}"


@pytest.mark.parametrize("name,n,row", ROWS, ids=[f"{name}-{n}" for name, n, _ in ROWS])
def test_every_row_says_how_both_sides_answer(name, n, row):
    assert row.page or row.no_page, name
    assert row.api or row.no_api, name
    assert not (row.page_ok & row.page_refused) and not (row.api_ok & row.api_refused), name


def _send(client, method, url, data, api):
    if api:
        return getattr(client, method)(url, data, format="json") if data is not None else getattr(client, method)(url)
    return getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)


@pytest.mark.parametrize("who", INSIDERS)
@pytest.mark.parametrize("name,n,row", [r for r in ROWS if r[2].page or r[2].api],
                         ids=[f"{name}-{n}" for name, n, row in ROWS if row.page or row.api])
def test_page_and_api_agree_with_the_policy(world, name, n, row, who):
    user = getattr(world, who)
    ctx = row.setup(world) if row.setup else None
    obj = row.obj(world, ctx) if row.obj else None
    allowed = user.can(name, obj)
    hidden = obj is not None and not policy.sees(user, obj)  # the scope answers first: 404 in both
    page_expected = {404} if hidden else (row.page_ok if allowed else row.page_refused)
    api_expected = ({400} if row.api_parent_in_body else {404}) if hidden else (row.api_ok if allowed else row.api_refused)
    if row.page:
        method, url, data = row.page(world, ctx)
        status = _send(page_client(user), method, url, data, api=False).status_code
        assert status in page_expected, (name, who, "page", url, status, allowed)
    if row.api:
        method, url, body = row.api(world, ctx)
        response = _send(api_client(user), method, url, body, api=True)
        assert response.status_code in api_expected, (
            name, who, "api", url, response.status_code, allowed, response.content[:300])


# A changed value per field of every field rule (the page's form value, the API's JSON value), so
# every registered field rule is tried both ways; a rule without an entry fails the test below.
FIELD_CHANGES = {
    ("ledger.Institution", "is_key_unit"): lambda w: ("on", True),
    ("ledger.Institution", "kind"): lambda w: ("community_care", "community_care"),
    ("ledger.Institution", "township"): lambda w: (w.t2.pk, w.t2.pk),
    ("ledger.Institution", "operator_unit"): lambda w: (w.unit.pk, w.unit.pk),
    ("ledger.Institution", "order"): lambda w: (7, 7),
}
FIELD_ROWS = sorted((r.model, name) for rules in policy.registry.field_rules.values() for r in rules
                    for name in r.fields)


def test_every_field_rule_has_a_change_to_try():
    missing = sorted(set(FIELD_ROWS) - set(FIELD_CHANGES))
    assert not missing, f"Add a value to FIELD_CHANGES in {__name__} for: {missing}"


def _stored_value(inst, name):
    from apps.ledger.models import Institution

    field = Institution._meta.get_field(name)
    return getattr(Institution.objects.get(pk=inst.pk), field.attname)


@pytest.mark.parametrize("who", ["admin", "leader", "sec_elderly_user", "unit_user", "town1", "home1"])
@pytest.mark.parametrize("model,name", FIELD_ROWS, ids=[f"{m}.{n}" for m, n in FIELD_ROWS])
def test_field_rules_agree_between_page_and_api(world, who, model, name):
    """Every field of every field rule, for every role: the page and the API both refuse a change
    (a refused field is named, never silently dropped) or both save it."""
    from apps.ledger.models import Institution
    from apps.ledger.tests.test_ledger import _form_data

    assert model == "ledger.Institution", "extend this test to the new model's page and API"
    user = getattr(world, who)
    inst = world.inst1
    form_value, api_value = FIELD_CHANGES[(model, name)](world)
    before = _stored_value(inst, name)
    locked = name in policy.locked_fields(user, Institution)
    page = page_client(user).post(f"/ledger/{inst.pk}/edit/", _form_data(
        inst, person_changed_on=datetime.date.today(), **{name: form_value}))
    page_saved = _stored_value(inst, name) != before
    Institution.objects.filter(pk=inst.pk).update(**{Institution._meta.get_field(name).attname: before})
    api = api_client(user).patch(f"/api/v1/institutions/{inst.pk}/", {name: api_value}, format="json")
    api_saved = _stored_value(inst, name) != before
    assert page_saved == api_saved, (who, name, page.status_code, api.status_code, api.content[:300])
    if locked:
        assert page.status_code in (200, 403) and api.status_code in (400, 403), (page.status_code, api.status_code)
        if page.status_code == 200:  # a role that may edit the entry but not this field: named in both
            assert "您的角色不能修改此字段" in page.content.decode()
            assert name in api.json(), api.content[:300]
    if who == "admin":
        assert page_saved and page.status_code == 302 and api.status_code == 200, (page.status_code, api.content[:300])


@pytest.mark.parametrize("who", ["admin", "sec_elderly_user", "town1", "home1"])
@pytest.mark.parametrize("model,field_values", [("ledger.Institution", None)])
def test_every_field_rule_is_refused_by_the_service_too(world, who, model, field_values):
    """The field rules hold below the adapters: the service refuses a locked field whoever calls it."""
    from django.core.exceptions import ValidationError

    from apps.ledger.models import Institution
    from apps.ledger.services import save_institution

    user = getattr(world, who)
    locked = policy.locked_fields(user, Institution)
    inst = Institution.objects.get(pk=world.inst1.pk)
    inst.is_key_unit = not inst.is_key_unit
    if "is_key_unit" in locked:
        with pytest.raises(ValidationError) as exc:
            save_institution(inst, user)
        assert "is_key_unit" in exc.value.message_dict
    else:
        save_institution(inst, user)
    assert Institution.objects.get(pk=world.inst1.pk).is_key_unit == (inst.is_key_unit if not locked else
                                                                        world.inst1.is_key_unit)
