"""A device's last values: its newest reading's, read from the readings (never stored, so never stale).

The same on the device page, in the API (the lean list, the serializer path, the detail) and in the
handover package, which keeps the field it had when the values were a column (and reads it back).
"""
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.testing import api_client, page_client
from apps.dashboard.tests.test_handover import baseline  # noqa: F401 - a fresh installation
from apps.monitoring.api.urls import DeviceViewSet
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Device

from .conftest import payload

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _feed(device):
    # Out of order: the newest by device time comes second; the last one in has an older time.
    raw = [payload(device, NOW - timedelta(minutes=3), residual_ma=101.5, t1=30.0),
           payload(device, NOW - timedelta(minutes=1), residual_ma=98.0, arc_count=2),
           payload(device, NOW - timedelta(minutes=2), residual_ma=150.0, t1=40.0)]
    assert ingest_batch(raw, source="mqtt", now=NOW).stored == 3
    return {"residual_ma": 98.0, "arc_count": 2, "ts": (NOW - timedelta(minutes=1)).isoformat()}


def test_the_last_values_are_the_newest_readings_by_device_time(device, device2):
    expected = _feed(device)
    assert Device.objects.get(pk=device.pk).last_values == expected  # one query on its own
    found = {d.pk: d.last_values for d in Device.objects.with_last_values()}
    assert found[device.pk] == expected and found[device2.pk] == {}
    assert type(found[device.pk]["residual_ma"]) is float and type(found[device.pk]["arc_count"]) is int


def test_the_api_gives_them_the_same_way_in_the_list_the_serializer_path_and_the_detail(world, device, device2,
                                                                                      monkeypatch):
    expected = _feed(device)
    client = api_client(world.admin)
    lean = {r["id"]: r["last_values"] for r in client.get("/api/v1/devices/").json()["results"]}
    monkeypatch.setattr(DeviceViewSet, "lean_enabled", False)
    plain = {r["id"]: r["last_values"] for r in client.get("/api/v1/devices/").json()["results"]}
    detail = client.get(f"/api/v1/devices/{device.pk}/").json()["last_values"]
    assert lean[device.pk] == plain[device.pk] == detail == expected
    assert lean[device2.pk] == plain[device2.pk] == {}


def test_the_device_page_shows_the_newest_values(world, device):
    _feed(device)
    html = page_client(world.staff1).get(f"/monitoring/devices/{device.pk}/").content.decode()
    section = html.split('id="last-reading"', 1)[1].split("</dl>", 1)[0]
    assert "98.0" in section and "150.0" not in section and "101.5" not in section
    measured = timezone.localtime(NOW - timedelta(minutes=1)).strftime("%m-%d %H:%M")
    assert f'id="last-reading-at">{measured}<' in section  # the time of those values, not of the last one in


def test_the_handover_package_keeps_the_field_and_reads_it_back(baseline, world, device, settings,  # noqa: F811
                                                                 tmp_path):
    """Exported as before; on import into a fresh installation the field is accepted and left to the
    readings (a package carries no raw readings: the imported device has none yet)."""
    from apps.dashboard.handover import export_package
    from apps.dashboard.handover_import import import_package

    expected = _feed(device)
    buf = io.BytesIO()
    export_package(buf)
    zf = zipfile.ZipFile(buf)
    rows = [json.loads(line) for line in zf.read("data/monitoring.Device.jsonl").decode().splitlines()]
    assert next(r for r in rows if r["id"] == device.pk)["last_values"] == expected
    assert "last_values" in json.loads(zf.read("schemas/monitoring.Device.schema.json"))["properties"]
    baseline(settings, tmp_path)  # a fresh installation
    buf.seek(0)
    result = import_package(buf)
    assert result.added["monitoring.Device"] == len(rows)
    assert Device.objects.get(code=device.code).last_values == {}
