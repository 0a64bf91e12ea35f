"""Number formats by level, page and API (apps/orgs/rules.py, apps/orgs/rulepages.py): the format in
force and its source, a district's own format (used for its numbers), nobody edits another
administration's format, and a pattern that cannot number a document is refused with the reason."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import api_client, make_tiers, page_client
from apps.hazards.models import NumberFormat
from apps.hazards.supervision import next_number

pytestmark = pytest.mark.django_db

SERIES = "supervision_order"


@pytest.fixture
def tiers():
    return make_tiers(depth=3)


def _default():
    return NumberFormat.objects.get(series=SERIES, administration=None)


def _fmt(admin, pattern):
    return NumberFormat.objects.create(series=SERIES, administration=admin, pattern=pattern)


def test_the_page_shows_the_format_in_force_and_its_source(tiers):
    t = tiers
    city = _fmt(t.city, "市督〔{year}〕{n}号")
    _fmt(t.d1.bureau, "一区督〔{year}〕{n}号")
    html = page_client(t.d2.leader).get("/hazards/number-formats/").content.decode()
    row = html.split(f'data-rule="{city.pk}"')[1].split("</tr>")[0]
    assert t.city.name in row and "text-bg-success" in row
    assert "text-bg-success" not in html.split(f'data-rule="{_default().pk}"')[1].split("</tr>")[0]
    assert "一区督" not in html and 'id="number-format-add"' in html
    assert "一区督" in page_client(t.city_leader).get("/hazards/number-formats/").content.decode()


def test_a_district_sets_its_own_format_and_numbers_follow_it(tiers):
    t = tiers
    answer = page_client(t.d2.leader).post("/hazards/number-formats/new/",
                                           {"series": SERIES, "pattern": "二区督〔{year}〕第{n}号"})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    fmt = NumberFormat.objects.get(pattern="二区督〔{year}〕第{n}号")
    assert fmt.administration_id == t.d2.bureau.pk
    number, year, seq = next_number(SERIES, t.d2.bureau, year=2026)
    assert number == "二区督〔2026〕第1号"
    assert not next_number(SERIES, t.d1.bureau, year=2026)[0].startswith("二区督")
    # One format per series and administration: a second one is refused with a reason, not a 500.
    again = page_client(t.d2.leader).post("/hazards/number-formats/new/", {"series": SERIES, "pattern": "x{n}"})
    assert again.status_code == 400
    again_api = api_client(t.d2.leader).post("/api/v1/number-formats/", {"series": SERIES, "pattern": "x{n}"},
                                             format="json")
    assert again_api.status_code == 400
    # Scope: the other district 404, the city 403 (not its administration), a township officer 403.
    assert page_client(t.d1.leader).get(f"/hazards/number-formats/{fmt.pk}/edit/").status_code == 404
    assert page_client(t.city_leader).get(f"/hazards/number-formats/{fmt.pk}/edit/").status_code == 403
    assert page_client(t.d2.town1).get("/hazards/number-formats/new/").status_code == 403
    assert page_client(t.d2.leader).get(f"/hazards/number-formats/{_default().pk}/edit/").status_code == 403


def test_a_bad_pattern_is_refused_with_the_reason_page_and_api(tiers):
    t = tiers
    answer = page_client(t.d2.leader).post("/hazards/number-formats/new/", {"series": SERIES, "pattern": "〔{year}〕号"})
    assert answer.status_code == 400 and "{n}" in answer.content.decode()
    for bad in ("〔{year}〕号", "{n}{oops}", "{n"):
        refused = api_client(t.d2.leader).post("/api/v1/number-formats/", {"series": SERIES, "pattern": bad},
                                               format="json")
        assert refused.status_code == 400 and "pattern" in refused.json(), (bad, refused.content)
    assert not NumberFormat.objects.filter(administration=t.d2.bureau).exists()
    made = api_client(t.d2.leader).post("/api/v1/number-formats/", {"series": SERIES, "pattern": "{issuer}{n}"},
                                        format="json")
    assert made.status_code == 201, made.content
    assert made.json()["administration_name"] == t.d2.bureau.name


def test_the_api_keeps_to_scope_and_the_capability(tiers):
    t = tiers
    city = _fmt(t.city, "市{n}")
    d1 = _fmt(t.d1.bureau, "一区{n}")
    api2 = api_client(t.d2.leader)
    ids = {r["id"] for r in api2.get("/api/v1/number-formats/?page_size=200").json()["results"]}
    assert city.pk in ids and d1.pk not in ids and _default().pk in ids
    assert api2.get(f"/api/v1/number-formats/{d1.pk}/").status_code == 404
    assert api2.patch(f"/api/v1/number-formats/{d1.pk}/", {"pattern": "{n}"}, format="json").status_code == 404
    assert api2.patch(f"/api/v1/number-formats/{city.pk}/", {"pattern": "{n}"}, format="json").status_code == 403
    assert api_client(t.d2.town1).post("/api/v1/number-formats/", {"series": SERIES, "pattern": "{n}"},
                                       format="json").status_code == 403
    assert d1.pk in {r["id"] for r in api_client(t.city_leader).get("/api/v1/number-formats/").json()["results"]}


def test_lists_cost_the_same_queries_for_more_formats(tiers):
    t = tiers
    c, a = page_client(t.city_leader), api_client(t.city_leader)

    def count(client, url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    c.get("/hazards/number-formats/")
    a.get("/api/v1/number-formats/")
    before = (count(c, "/hazards/number-formats/"), count(a, "/api/v1/number-formats/"))
    for admin in (t.city, t.d1.bureau, t.d2.bureau):
        _fmt(admin, "{n}")
    assert (count(c, "/hazards/number-formats/"), count(a, "/api/v1/number-formats/")) == before
