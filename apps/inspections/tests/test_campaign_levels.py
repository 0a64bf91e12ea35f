"""Campaigns by level (issue 19): a campaign launched by a city reaches every district under it; each
district sees it and its own part; progress rolls up per district for the city and per township for
the district, each figure equal to the page narrowed to that unit; query counts stay constant."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.testing import api_client, make_institution, make_tiers, make_user, page_client
from apps.inspections.models import Campaign
from apps.orgs.choices import Role

from .helpers import submitted_inspection

KEYS = ("institutions", "inspected", "found", "rectified", "closed", "overdue")


@pytest.fixture
def tiers(db):
    t = make_tiers(depth=3)
    t.city_admin = make_user("t_city_admin", Role.ADMIN, t.city)
    return t


def launch(t, **extra):
    today = timezone.localdate()
    body = {"name": "全市冬季消防安全专项行动", "starts_on": (today - datetime.timedelta(days=10)).isoformat(),
            "ends_on": (today + datetime.timedelta(days=30)).isoformat(), **extra}
    r = api_client(t.city_admin).post("/api/v1/campaigns/", body, format="json")
    assert r.status_code == 201, r.content
    return Campaign.objects.get(pk=r.json()["id"])


def test_a_city_campaign_reaches_every_district_and_each_sees_its_own_part(tiers):
    d1, d2 = tiers.d1, tiers.d2
    campaign = launch(tiers)
    assert campaign.owner_org == tiers.city
    assert set(campaign.townships.all()) == {d1.t1, d1.t2, d2.t1, d2.t2}
    for user in (d1.leader, d1.town1, d2.leader, d2.town2, d1.home1, tiers.city_leader):
        ids = [c["id"] for c in api_client(user).get("/api/v1/campaigns/").json()["results"]]
        assert campaign.pk in ids, user
        assert page_client(user).get(campaign.get_absolute_url()).status_code == 200
    d1_rows = api_client(d1.leader).get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()["rows"]
    assert {r["institution"] for r in d1_rows} == {d1.inst1.pk, d1.inst1b.pk, d1.inst2.pk}
    town_rows = api_client(d2.town1).get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()["rows"]
    assert {r["institution"] for r in town_rows} == {d2.inst1.pk, d2.inst1b.pk}


def test_a_district_may_not_change_the_city_campaign(tiers):
    campaign = launch(tiers)
    r = api_client(tiers.d2.admin).patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "改名"}, format="json")
    assert r.status_code == 403, r.content
    assert not tiers.d2.admin.can("campaign.run", campaign)
    assert api_client(tiers.city_admin).patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "改名"},
                                              format="json").status_code == 200


def test_progress_rolls_up_by_level_and_equals_the_narrowed_page(tiers):
    d1, d2 = tiers.d1, tiers.d2
    campaign = launch(tiers)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    submitted_inspection(d1.town1, d1.inst1, fail=2, on=yesterday)
    submitted_inspection(d1.town2, d1.inst2, fail=1, on=yesterday)
    submitted_inspection(d2.town1, d2.inst1, fail=3, fixed=1, on=yesterday)

    def progress(user, area=None):
        url = f"/api/v1/campaigns/{campaign.pk}/progress/" + (f"?area={area.pk}" if area else "")
        r = api_client(user).get(url)
        assert r.status_code == 200, r.content
        return r.json()

    city = progress(tiers.city_admin)
    assert [g["unit"] for g in city["rollup"]] == [d1.bureau.pk, d2.bureau.pk]
    assert {g["unit_kind"] for g in city["rollup"]} == {"bureau"}
    for g in city["rollup"]:
        narrowed = progress(tiers.city_admin, area=type(d1.bureau).objects.get(pk=g["unit"]))
        assert {k: g[k] for k in KEYS} == {k: narrowed["totals"][k] for k in KEYS}
        # the district's own page shows the same figures, now per township
        own = progress(d1.leader if g["unit"] == d1.bureau.pk else d2.leader)
        assert {k: own["totals"][k] for k in KEYS} == {k: g[k] for k in KEYS}
        assert {r["unit_kind"] for r in own["rollup"]} == {"township"}
    assert sum(g["found"] for g in city["rollup"]) == city["totals"]["found"] == 6
    district = progress(d1.leader)
    for g in district["rollup"]:
        narrowed = progress(d1.leader, area=type(d1.t1).objects.get(pk=g["unit"]))
        assert {k: g[k] for k in KEYS} == {k: narrowed["totals"][k] for k in KEYS}
    page = page_client(tiers.city_admin).get(campaign.get_absolute_url()).content.decode()
    assert f'data-unit="{d1.bureau.pk}"' in page and f'data-unit="{d2.bureau.pk}"' in page
    page = page_client(d1.leader).get(campaign.get_absolute_url() + f"?area={d1.t1.pk}").content.decode()
    assert 'id="progress-area"' in page and f'data-unit="{d1.t1.pk}"' in page


def test_an_area_outside_the_scope_or_malformed_is_a_404(tiers):
    d1, d2 = tiers.d1, tiers.d2
    campaign = launch(tiers)
    base = f"/api/v1/campaigns/{campaign.pk}/progress/"
    assert api_client(d1.leader).get(f"{base}?area={d2.bureau.pk}").status_code == 404
    assert api_client(d1.town1).get(f"{base}?area={d1.t2.pk}").status_code == 404
    assert api_client(d1.leader).get(f"{base}?area=abc").status_code == 404
    assert page_client(d1.leader).get(f"{campaign.get_absolute_url()}?area={d2.t1.pk}").status_code == 404
    assert page_client(d1.leader).get(f"{campaign.get_absolute_url()}?area=99999999999999999999").status_code == 404


def test_progress_query_counts_stay_constant(tiers):
    d1, d2 = tiers.d1, tiers.d2
    campaign = launch(tiers)
    urls = [f"/api/v1/campaigns/{campaign.pk}/progress/", campaign.get_absolute_url()]

    def count(url):
        client = api_client(tiers.city_admin) if url.startswith("/api/") else page_client(tiers.city_admin)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    before = [count(u) for u in urls]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for n, (district, town) in enumerate([(d1, d1.t1), (d1, d1.t2), (d2, d2.t1), (d2, d2.t2)]):
        inst = make_institution(town, f"加测养老院{n}")
        submitted_inspection(district.town1 if town == district.t1 else district.town2, inst, fail=1, on=yesterday)
    assert [count(u) for u in urls] == before
