"""Inspection frequencies by level, page and API (apps/orgs/rules.py, apps/orgs/rulepages.py): the rule
in force and its source, a district's own override, nobody edits another administration's rule, and a
district may not ask less than a frequency its city set by law (refused through the page and the API)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import api_client, make_tiers, page_client
from apps.inspections.compliance import rules_for_institutions
from apps.inspections.models import FrequencyRule

pytestmark = pytest.mark.django_db

FORM = {"institution_kind": "", "version": "1", "daily_patrols": "3", "night_interval_hours": "2",
        "night_start": "22:00", "night_end": "06:00", "inspection_interval_days": "31",
        "self_assessment_interval_days": "366", "basis": "", "overridable": "on", "is_active": "on"}


@pytest.fixture
def tiers():
    return make_tiers(depth=3)


def _rule(admin, patrols, **extra):
    return FrequencyRule.objects.create(administration=admin, daily_patrols=patrols, night_interval_hours=2,
                                        **extra)


def test_the_page_shows_the_rule_in_force_and_its_source(tiers):
    t = tiers
    city = _rule(t.city, 2, basis="市级规定")
    other = _rule(t.d1.bureau, 4, basis="一区规定")
    html = page_client(t.d2.leader).get("/inspections/frequencies/").content.decode()
    assert t.city.name in html and "市级规定" in html and "一区规定" not in html
    row = html.split(f'data-rule="{city.pk}"')[1].split("</tr>")[0]
    assert "rule-source" in row and t.city.name in row
    assert 'id="frequency-add"' in html
    # The city sees both districts' rules.
    city_html = page_client(t.city_leader).get("/inspections/frequencies/").content.decode()
    assert "一区规定" in city_html
    assert other.pk


def test_a_district_adds_its_own_override_and_it_applies_to_its_institutions(tiers):
    t = tiers
    _rule(t.city, 2)
    answer = page_client(t.d2.leader).post("/inspections/frequencies/new/", {**FORM, "basis": "二区从严"})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    rule = FrequencyRule.objects.get(basis="二区从严")
    assert rule.administration_id == t.d2.bureau.pk
    found = rules_for_institutions([t.d1.inst1, t.d2.inst1])
    assert found[t.d2.inst1.pk].pk == rule.pk and found[t.d1.inst1.pk].daily_patrols == 2
    # Scope: the other district gets 404, the city 403 (not its administration), a township officer 403.
    assert page_client(t.d1.leader).get(f"/inspections/frequencies/{rule.pk}/edit/").status_code == 404
    assert page_client(t.city_leader).get(f"/inspections/frequencies/{rule.pk}/edit/").status_code == 403
    assert page_client(t.d2.town1).get(f"/inspections/frequencies/{rule.pk}/edit/").status_code == 403
    assert page_client(t.d2.town1).get("/inspections/frequencies/new/").status_code == 403
    default = FrequencyRule.objects.filter(administration=None).first()
    if default is not None:
        assert page_client(t.d2.leader).get(f"/inspections/frequencies/{default.pk}/edit/").status_code == 403


def test_a_district_may_not_loosen_a_city_frequency_set_by_law_page_and_api(tiers):
    t = tiers
    _rule(t.city, 3, overridable=False, basis="市级法定")
    answer = page_client(t.d2.leader).post("/inspections/frequencies/new/", {**FORM, "daily_patrols": "1",
                                                                              "basis": "放宽"})
    assert answer.status_code == 400
    assert "不得" in answer.content.decode() and t.city.name in answer.content.decode()
    refused = api_client(t.d2.leader).post("/api/v1/frequency-rules/", {"daily_patrols": 1, "night_interval_hours": 2,
                                                                       "basis": "放宽"}, format="json")
    assert refused.status_code == 400 and t.city.name in refused.content.decode()
    assert not FrequencyRule.objects.filter(basis="放宽").exists()
    # Stricter is fine, through both.
    assert page_client(t.d2.leader).post("/inspections/frequencies/new/", {
        **FORM, "daily_patrols": "4", "basis": "从严"}).status_code == 302
    made = api_client(t.d1.leader).post("/api/v1/frequency-rules/", {"daily_patrols": 5, "night_interval_hours": 1,
                                                                    "basis": "一区从严"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["administration"] == t.d1.bureau.pk
    assert made.json()["administration_name"] == t.d1.bureau.name


def test_the_api_keeps_to_scope_and_the_capability(tiers):
    t = tiers
    city = _rule(t.city, 2)
    d1 = _rule(t.d1.bureau, 3)
    api2 = api_client(t.d2.leader)
    ids = {r["id"]: r for r in api2.get("/api/v1/frequency-rules/?page_size=200").json()["results"]}
    assert city.pk in ids and d1.pk not in ids
    assert ids[city.pk]["administration_name"] == t.city.name
    assert api2.get(f"/api/v1/frequency-rules/{d1.pk}/").status_code == 404
    assert api2.patch(f"/api/v1/frequency-rules/{d1.pk}/", {"daily_patrols": 9}, format="json").status_code == 404
    assert api2.patch(f"/api/v1/frequency-rules/{city.pk}/", {"daily_patrols": 9}, format="json").status_code == 403
    assert api_client(t.d2.town1).post("/api/v1/frequency-rules/", {"daily_patrols": 9},
                                       format="json").status_code == 403
    assert api2.post("/api/v1/frequency-rules/", {"institution_kind": "nonsense"}, format="json").status_code == 400
    city_ids = {r["id"] for r in api_client(t.city_leader).get("/api/v1/frequency-rules/").json()["results"]}
    assert d1.pk in city_ids


def test_lists_cost_the_same_queries_for_more_rules(tiers):
    t = tiers
    c = page_client(t.city_leader)
    a = api_client(t.city_leader)

    def count(client, url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    c.get("/inspections/frequencies/")
    a.get("/api/v1/frequency-rules/")
    before = (count(c, "/inspections/frequencies/"), count(a, "/api/v1/frequency-rules/"))
    for admin in (t.city, t.d1.bureau, t.d2.bureau, t.city):
        _rule(admin, 2)
    assert (count(c, "/inspections/frequencies/"), count(a, "/api/v1/frequency-rules/")) == before
