"""The cockpit by level (issue 19): the comparison of the units one level below, its drill-down
(?area=), and the first request after local midnight (issue 18)."""
import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.testing import api_client, page_client
from apps.dashboard.cockpit import Cockpit
from apps.orgs.models import Organization, User

from .test_cockpit import _populate, count_behind


@pytest.fixture
def demo(db):
    call_command("seed_demo", quiet=True)


def _administration(user):
    return Organization.objects.get(path=user.administration_path)


def _check_rows(user, cockpit):
    """Every number of the comparison equals the count of the list it links to."""
    tiles = cockpit.unit_tiles()
    assert tiles, user.username
    for tile in tiles:
        assert tile.value == count_behind(user, tile.url), (user.username, tile.key, tile.url)
    return tiles


def test_every_comparison_number_equals_its_list_for_the_demo_city_bureau_and_township(demo):
    city, bureau, town1 = (User.objects.get(username=u) for u in ("city", "bureau", "town1"))
    districts = set(Organization.objects.filter(parent=_administration(city)).filter(kind="bureau")
                    .values_list("name", flat=True))

    response = page_client(city).get("/cockpit/")
    assert response.status_code == 200
    c = response.context["c"]
    assert c.unit_kind == "area" and {r["name"] for r in c.unit_rows} == districts
    _check_rows(city, c)
    # The units add up to the whole: nothing is counted twice or lost between levels.
    assert sum(r["open"].value for r in c.unit_rows) == c.hazard_tiles[0].value
    assert sum(r["institutions"].value for r in c.unit_rows) == c.institution_count
    body = response.content.decode()
    assert 'id="unit-table"' in body and f'?area={c.unit_rows[0]["id"]}' in body

    c = page_client(bureau).get("/cockpit/").context["c"]
    townships = set(Organization.objects.filter(kind="township", path__startswith=bureau.administration_path)
                    .values_list("pk", flat=True))
    assert c.unit_kind == "area" and {r["id"] for r in c.unit_rows} <= townships and len(c.unit_rows) > 3
    tiles = _check_rows(bureau, c)
    assert any(t.value for t in tiles if t.key == "open") and any(t.value for t in tiles if t.key == "online")

    c = page_client(town1).get("/cockpit/").context["c"]
    assert c.unit_kind == "institution" and c.unit_rows
    _check_rows(town1, c)
    assert sum(r["open"].value for r in c.unit_rows) == c.hazard_tiles[0].value

    # The city drills down into its first district, then into a township of it: the same numbers.
    qinghe = _administration(bureau)
    response = page_client(city).get(f"/cockpit/?area={qinghe.pk}")
    assert response.status_code == 200
    drilled = response.context["c"]
    assert {r["id"] for r in drilled.unit_rows} == {r["id"] for r in page_client(bureau).get("/cockpit/")
                                                   .context["c"].unit_rows}
    _check_rows(city, drilled)
    assert all(f"area={qinghe.pk}" in t.url for t in drilled.hazard_tiles)
    for tile in drilled.all_tiles():
        assert tile.value == count_behind(city, tile.url), (tile.key, tile.url)
    town = Organization.objects.get(pk=drilled.unit_rows[0]["id"])
    response = page_client(city).get(f"/cockpit/?area={town.pk}")
    assert response.status_code == 200 and response.context["c"].unit_kind == "institution"
    _check_rows(city, response.context["c"])
    assert qinghe.name in response.content.decode()  # the way back up


def test_a_drill_down_outside_the_users_part_of_the_tree_is_a_404(demo):
    city, bureau, bureau2, town1 = (User.objects.get(username=u) for u in ("city", "bureau", "bureau2", "town1"))
    qinghe, linjiang = _administration(bureau), _administration(bureau2)
    qinghe_town = Organization.objects.filter(kind="township", path__startswith=qinghe.path).first()
    client2 = page_client(bureau2)
    assert client2.get(f"/cockpit/?area={qinghe.pk}").status_code == 404
    assert client2.get(f"/cockpit/?area={qinghe_town.pk}").status_code == 404
    assert client2.get(f"/cockpit/?area={_administration(city).pk}").status_code == 404  # above: not a drill-down
    assert client2.get(f"/cockpit/?area={linjiang.pk}").status_code == 200
    for bad in ("abc", "-1", "99999999999999999999999", "0"):
        assert client2.get(f"/cockpit/?area={bad}").status_code == 404, bad
    # A township officer has no area to drill into but their own township.
    town_client = page_client(town1)
    own = Organization.objects.get(pk=town1.organization_id)
    assert town_client.get(f"/cockpit/?area={qinghe.pk}").status_code == 404
    other = Organization.objects.filter(kind="township", path__startswith=qinghe.path).exclude(pk=own.pk).first()
    assert town_client.get(f"/cockpit/?area={other.pk}").status_code == 404
    assert town_client.get(f"/cockpit/?area={own.pk}").status_code == 200
    # The lists' area filter goes through scope: another district's id is refused with a reason.
    response = api_client(bureau2).get(f"/api/v1/hazards/?area={qinghe.pk}")
    assert response.status_code == 400 and "area" in response.json()
    assert page_client(bureau2).get(f"/hazards/?area={qinghe.pk}").status_code in (200, 400)
    assert api_client(city).get(f"/api/v1/hazards/?area={qinghe.pk}").status_code == 200


def test_the_comparison_costs_the_same_queries_whatever_the_number_of_units(world):
    from django.core.cache import cache

    _populate(world)
    Cockpit(world.leader)  # scores the institutions once
    counts = {}
    for user in (world.leader, world.town1):
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            Cockpit(user)
        counts[user.username] = len(ctx.captured_queries)
    from apps.core.testing import make_institution
    from apps.hazards.services import report_hazard

    for i in range(12):
        inst = make_institution(world.t2 if i % 2 else world.t1, f"比较院{i}")
        report_hazard(world.admin, inst, category="electrical", description="x")
    Cockpit(world.leader)  # scores the new institutions once
    for user in (world.leader, world.town1):
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            c = Cockpit(user)
        assert len(ctx.captured_queries) == counts[user.username], user.username
        assert c.unit_rows


def test_the_first_request_after_local_midnight_is_served_the_last_figures_and_queues_a_rebuild(world, settings):
    import zoneinfo

    import time_machine
    from django.core.cache import cache

    from apps.dashboard import cache as cockpit_cache
    from apps.dashboard.tasks import rebuild_cockpit
    from apps.hazards.services import report_hazard

    _populate(world)
    settings.COCKPIT_REBUILD_QUEUE = "off"
    settings.RISK_REFRESH_QUEUE = "off"
    cache.clear()
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    evening = datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=1),
                                        datetime.time(23, 50), tzinfo=tz)
    with time_machine.travel(evening, tick=False):
        client = page_client(world.leader)
        response = client.get("/cockpit/")
        assert response.status_code == 200 and response.context["c"].as_of is None
        before = {t.key: t.value for t in response.context["c"].hazard_tiles}
    with time_machine.travel(evening + datetime.timedelta(minutes=20), tick=False):
        client = page_client(world.leader)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/cockpit/")
        assert response.status_code == 200
        c = response.context["c"]
        assert c.as_of is not None and {t.key: t.value for t in c.hazard_tiles} == before
        assert len(ctx.captured_queries) <= 6, [q["sql"][:80] for q in ctx.captured_queries]  # session, user
        body = response.content.decode()
        assert 'id="cockpit-as-of"' in body and evening.strftime("%Y-%m-%d 23:50") in body
        # The rebuild was queued once for the day; the queued job stores today's figures.
        assert not cockpit_cache.queue_rebuild(world.leader)
        assert rebuild_cockpit(world.leader.pk) is True
        response = client.get("/cockpit/")
        assert response.context["c"].as_of is None
        # A change after midnight is never hidden behind the last figures: built in the request.
        cache.delete(cockpit_cache.scope_key(world.leader, None, timezone.localdate()))
        report_hazard(world.home1, world.inst1, category="gas", description="午夜后新隐患", level="major")
        c = client.get("/cockpit/").context["c"]
        assert c.as_of is None and {t.key: t.value for t in c.hazard_tiles}["open_major"] == before["open_major"] + 1
