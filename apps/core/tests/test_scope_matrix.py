"""Every role × every page and endpoint listed in the apps' scope cases (see apps.core.scopecases)."""
import importlib

import pytest
from django.apps import apps

from apps.core.testing import api_client, page_client


def all_cases():
    cases = []
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.scope_cases")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.tests.scope_cases":
                continue
            raise
        cases.extend((f"{config.label}:{c.name}", c) for c in module.CASES)
    return cases


CASES = all_cases()


def _request(case, world, username):
    user = getattr(world, username)
    client = api_client(user) if case.api else page_client(user)
    url = case.url(world)
    data = case.data(world) if case.data else None
    method = getattr(client, case.method)
    if case.api and data is not None:
        return method(url, data, format="json")
    if data is not None:
        return method(url, data)
    return method(url)


def test_every_app_contributes_cases():
    labels = {name.split(":")[0] for name, _ in CASES}
    assert {"ledger", "core"} <= labels


@pytest.mark.parametrize("name,case", CASES, ids=[n for n, _ in CASES])
def test_outsiders_get_404(world, name, case):
    if case.setup:
        case.setup(world)
    for username in case.outsiders:
        response = _request(case, world, username)
        assert response.status_code == 404, f"{username} on {name}: {response.status_code}"


@pytest.mark.parametrize("name,case", CASES, ids=[n for n, _ in CASES])
def test_readers_are_served(world, name, case):
    if case.setup:
        case.setup(world)
    for username in case.readers:
        response = _request(case, world, username)
        assert response.status_code in case.ok, f"{username} on {name}: {response.status_code}"


# --- The tree of administrations: province → city → two districts of the same cast ---------------

# Every non-superuser of a district; none of them may reach the other district's objects.
DISTRICT_CAST = ("leader", "sec_elderly_user", "sec_social_user", "unit_user", "town1", "town2", "home1",
                 "staff1", "home2")


@pytest.fixture
def tiers(db):
    from apps.core.testing import make_tiers

    return make_tiers(depth=3)


def _as(case, world, user):
    client = api_client(user) if case.api else page_client(user)
    data = case.data(world) if case.data else None
    method = getattr(client, case.method)
    if case.api and data is not None:
        return method(case.url(world), data, format="json")
    return method(case.url(world), data) if data is not None else method(case.url(world))


@pytest.mark.parametrize("reverse", [False, True], ids=["district1", "district2"])
@pytest.mark.parametrize("name,case", CASES, ids=[n for n, _ in CASES])
def test_districts_do_not_see_each_other_and_the_levels_above_see_both(tiers, name, case, reverse):
    """bureau2's people get 404 on everything of the first district and the reverse; the city's and
    the province's leaders are served wherever a district leader is. (A case with no outsiders is a
    list filtered by the institution: it answers an empty list, not 404.)"""
    here, there = (tiers.d2, tiers.d1) if reverse else (tiers.d1, tiers.d2)
    if case.setup:
        case.setup(here)
    # Each role with an answer in the case (served at home, or 404) gets 404 from the other district;
    # a case nobody of its own district is refused (a rule of the district, which applies to all of
    # them) names the other district's users who must get 404 in ``extra["other_district"]``.
    if case.outsiders:
        cross = tuple(u for u in DISTRICT_CAST if u in case.readers or u in case.outsiders)
    else:
        cross = tuple(case.extra.get("other_district", ()))
    if cross:
        for username in cross:
            response = _as(case, here, getattr(there, username))
            assert response.status_code == 404, f"{username} of the other district on {name}: {response.status_code}"
    if "leader" in case.readers:
        for user in (tiers.city_leader, tiers.top_leader):
            response = _as(case, here, user)
            assert response.status_code in case.ok, f"{user.username} on {name}: {response.status_code}"
