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
