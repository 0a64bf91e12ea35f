"""The device chart reads: one panel per unit with the thresholds that apply to this device, the
alarms marked where they were raised, and min/mean/max per point."""
from datetime import timedelta

from django.utils import timezone

from apps.monitoring.charts import device_chart
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm

from .conftest import payload


def test_one_panel_per_unit_with_its_thresholds_and_the_alarm_marked(world, device):
    device.thresholds = {"temperature": 55}
    device.save()
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(hours=3)
    batch = [payload(device, start + timedelta(minutes=i), residual_ma=100.0 + i, t1=40.0 + (30 if i > 20 else 0),
                     t2=35.0, ia=10.0, ua=220.0) for i in range(30)]
    ingest_batch(batch, source="mqtt", now=now)
    chart = device_chart(device, now - timedelta(hours=6), now + timedelta(minutes=1))
    panels = {p["unit"]: p for p in chart["panels"]}
    assert list(panels) == ["mA", "°C", "A", "V"]
    assert panels["°C"]["channels"] == ["t1", "t2"] and panels["mA"]["channels"] == ["residual_ma"]
    assert [t["value"] for t in panels["°C"]["thresholds"]] == [55.0]  # the device's own override
    assert {t["below"] for t in panels["V"]["thresholds"]} == {True, False}  # over- and under-voltage
    alarm = Alarm.objects.get(device=device, channel="t1")
    marks = [a for a in chart["alarms"] if a["channel"] == "t1"]
    assert marks and marks[0]["url"] == alarm.get_absolute_url() and marks[0]["value"] >= 55
    t1 = next(c for c in chart["channels"] if c["name"] == "t1")
    assert t1["unit"] == "°C" and all(len(p) == 4 and p[1] <= p[2] <= p[3] for p in t1["points"])


def test_the_device_page_draws_the_panels(world, device):
    from apps.core.testing import page_client

    html = page_client(world.home1).get(device.get_absolute_url()).content.decode()
    assert 'data-label-threshold=' in html and 'data-label-min=' in html
