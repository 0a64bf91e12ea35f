import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.monitoring.models import Device

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def make_device(institution, code="DEV-1", kind="combined", **extra):
    device = Device(institution=institution, code=code, name=extra.pop("name", f"配电箱 {code}"), kind=kind, **extra)
    token = device.rotate_token()
    device.save()
    device.token = token
    return device


def reading(device, ts, token=None, **values):
    return {"device": device.code, "ts": ts.isoformat(), "token": token if token is not None else device.token,
            "values": values or {"residual_ma": 120.0, "t1": 35.0}}


def payload(device, ts, **values):
    return json.dumps(reading(device, ts, **values)).encode()


def series(device, start, values, step=timedelta(minutes=1), channel="residual_ma"):
    return [payload(device, start + i * step, **{channel: v}) for i, v in enumerate(values)]


@pytest.fixture
def device(world):
    return make_device(world.inst1)


@pytest.fixture
def device2(world):
    return make_device(world.inst2, code="DEV-2")


@pytest.fixture(autouse=True)
def _default_rules(request):
    """Transactional tests flush the data-migration rows; put the default rules back when missing."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and "world" not in request.fixturenames and "db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
    import importlib

    from django.apps import apps as django_apps

    from apps.monitoring.models import ThresholdRule

    if not ThresholdRule.objects.exists():
        importlib.import_module("apps.monitoring.migrations.0002_default_rules").seed(django_apps, None)
        importlib.import_module("apps.monitoring.migrations.0007_adapters_profiles_clock").seed_profiles(
            django_apps, None)
    from apps.monitoring.ingest import forget_profiles

    forget_profiles()


@pytest.fixture(autouse=True)
def _no_pending_device_state():
    """The lazily written device state is kept per process: none left over from another test."""
    from apps.monitoring import store

    store._pending.clear()
    store._pending_clock.clear()
    store.forget_devices()
    yield
    store._pending.clear()
    store._pending_clock.clear()
    store.forget_devices()
