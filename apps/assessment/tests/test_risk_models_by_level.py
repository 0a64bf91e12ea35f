"""Risk models by level, page and API (apps/orgs/rules.py, apps/orgs/rulepages.py): the model in force
and its source, a district's own model (starting with the factors of the model in force there), nobody
edits another administration's model, and bands looser than a city's model set by law are refused."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.assessment.models import RiskModel
from apps.assessment.risk import models_for
from apps.core.testing import api_client, make_tiers, page_client

pytestmark = pytest.mark.django_db

FORM = {"name": "二区模型", "version": "d2-1", "red_from": "50", "orange_from": "30", "yellow_from": "10",
        "notes": "", "overridable": "on", "is_active": "on"}


@pytest.fixture
def tiers():
    return make_tiers(depth=3)


def _default():
    return RiskModel.objects.get(administration=None, is_active=True)


def _model(admin, red, orange, yellow, **extra):
    return RiskModel.objects.create(administration=admin, name=extra.pop("name", f"{admin.name}模型"),
                                    version=extra.pop("version", f"v-{admin.pk}-{red}"), red_from=red,
                                    orange_from=orange, yellow_from=yellow, is_active=True, **extra)


def test_the_page_shows_the_model_in_force_and_its_source(tiers):
    t = tiers
    city = _model(t.city, 55, 35, 15)
    _model(t.d1.bureau, 50, 30, 10, name="一区模型")
    html = page_client(t.d2.leader).get("/assessment/risk-models/").content.decode()
    row = html.split(f'data-rule="{city.pk}"')[1].split("</tr>")[0]
    assert t.city.name in row and "text-bg-success" in row  # in force for the second district
    default_row = html.split(f'data-rule="{_default().pk}"')[1].split("</tr>")[0]
    assert "text-bg-success" not in default_row
    assert "一区模型" not in html and 'id="risk-model-add"' in html
    assert "一区模型" in page_client(t.city_leader).get("/assessment/risk-models/").content.decode()


def test_a_district_adds_its_own_model_with_the_factors_in_force(tiers):
    t = tiers
    answer = page_client(t.d2.leader).post("/assessment/risk-models/new/", FORM)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    model = RiskModel.objects.get(version="d2-1")
    assert model.administration_id == t.d2.bureau.pk and model.is_active
    assert model.factors.count() == _default().factors.count() > 0
    groups = {m.pk: ids for m, ids in models_for([t.d1.inst1.pk, t.d2.inst1.pk])}
    assert groups[model.pk] == [t.d2.inst1.pk] and groups[_default().pk] == [t.d1.inst1.pk]
    # A second active model of the district switches the first off (one active per administration).
    again = page_client(t.d2.leader).post("/assessment/risk-models/new/", {**FORM, "version": "d2-2"})
    assert again.status_code == 302
    model.refresh_from_db()
    assert not model.is_active
    # Scope: the other district 404, the city 403 (not its administration), a township officer 403.
    assert page_client(t.d1.leader).get(f"/assessment/risk-models/{model.pk}/edit/").status_code == 404
    assert page_client(t.city_leader).get(f"/assessment/risk-models/{model.pk}/edit/").status_code == 403
    assert page_client(t.d2.town1).get("/assessment/risk-models/new/").status_code == 403
    assert page_client(t.d2.leader).get(f"/assessment/risk-models/{_default().pk}/edit/").status_code == 403


def test_looser_bands_than_a_city_model_set_by_law_are_refused_page_and_api(tiers):
    t = tiers
    _model(t.city, 50, 30, 10, overridable=False, name="市级法定模型")
    answer = page_client(t.d2.leader).post("/assessment/risk-models/new/", {**FORM, "red_from": "70"})
    assert answer.status_code == 400 and t.city.name in answer.content.decode()
    refused = api_client(t.d2.leader).post("/api/v1/risk-models/", {
        "name": "放宽", "version": "loose", "red_from": "80", "orange_from": "30", "yellow_from": "10"}, format="json")
    assert refused.status_code == 400 and t.city.name in refused.content.decode()
    assert not RiskModel.objects.filter(version__in=["d2-1", "loose"]).exists()
    # Bands that do not fall: 400 with the reason, nothing saved.
    bad = api_client(t.d2.leader).post("/api/v1/risk-models/", {
        "name": "乱序", "version": "bad", "red_from": "10", "orange_from": "30", "yellow_from": "5"}, format="json")
    assert bad.status_code == 400 and not RiskModel.objects.filter(version="bad").exists()
    made = api_client(t.d2.leader).post("/api/v1/risk-models/", {
        "name": "从严", "version": "strict", "red_from": "45", "orange_from": "25", "yellow_from": "5"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["administration_name"] == t.d2.bureau.name


def test_the_api_keeps_to_scope_and_the_capability(tiers):
    t = tiers
    city = _model(t.city, 55, 35, 15)
    d1 = _model(t.d1.bureau, 50, 30, 10)
    api2 = api_client(t.d2.leader)
    ids = {r["id"] for r in api2.get("/api/v1/risk-models/").json()["results"]}
    assert city.pk in ids and d1.pk not in ids and _default().pk in ids
    assert api2.get(f"/api/v1/risk-models/{d1.pk}/").status_code == 404
    assert api2.patch(f"/api/v1/risk-models/{d1.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api2.patch(f"/api/v1/risk-models/{city.pk}/", {"name": "x"}, format="json").status_code == 403
    assert api_client(t.d2.town1).post("/api/v1/risk-models/", {"name": "x", "version": "x"},
                                       format="json").status_code == 403
    assert d1.pk in {r["id"] for r in api_client(t.city_leader).get("/api/v1/risk-models/").json()["results"]}
    assert RiskModel.objects.get(pk=city.pk).red_from == Decimal("55")


def test_lists_cost_the_same_queries_for_more_models(tiers):
    t = tiers
    c, a = page_client(t.city_leader), api_client(t.city_leader)

    def count(client, url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    c.get("/assessment/risk-models/")
    a.get("/api/v1/risk-models/")
    before = (count(c, "/assessment/risk-models/"), count(a, "/api/v1/risk-models/"))
    for admin in (t.city, t.d1.bureau, t.d2.bureau):
        _model(admin, 50, 30, 10)
    assert (count(c, "/assessment/risk-models/"), count(a, "/api/v1/risk-models/")) == before
