"""Alarm → hazard → rectification → refused closure → normal readings for N days → closure allowed."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string

from apps.hazards.models import Hazard
from apps.hazards.services import closure_blockers
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm, ThresholdRule
from apps.monitoring.rollups import roll_up_hours

from .conftest import series

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def feed(device, start, values, step=timedelta(minutes=1)):
    end = start + step * len(values)
    ingest_batch(series(device, start, values, step=step), source="mqtt", now=end)
    roll_up_hours()  # the periodic rollup job (the sensor evidence reads the hourly rollups)


def test_a_repeating_alarm_opens_one_linked_electrical_hazard(device):
    feed(device, T0, [400, 400, 400, 100, 410, 410, 410])
    assert not Hazard.objects.exists()  # two episodes; the rule asks for three
    feed(device, T0 + timedelta(minutes=10), [100, 420, 430, 440, 100, 450, 450, 450])
    alarm = Alarm.objects.get()
    hazard = Hazard.objects.get()
    assert alarm.count == 4 and alarm.hazard == hazard
    assert (hazard.category, hazard.source, hazard.requires_sensor_verification) == ("electrical", "sensor", True)
    assert hazard.source_object == alarm and hazard.institution == device.institution
    assert "剩余电流" in hazard.description


def test_an_alarm_that_persists_past_the_rule_opens_a_hazard_even_without_new_readings(device):
    from apps.monitoring.services import escalate_persistent_alarms

    feed(device, T0, [400, 400, 400])
    assert escalate_persistent_alarms(T0 + timedelta(hours=2)) == 0
    assert escalate_persistent_alarms(T0 + timedelta(days=1, minutes=5)) == 1
    assert escalate_persistent_alarms(T0 + timedelta(days=1, minutes=10)) == 0
    assert Alarm.objects.get().hazard == Hazard.objects.get()


def test_sensor_verified_closure_end_to_end(device):
    rule = ThresholdRule.objects.get(channel="residual_ma", device_kind="")
    assert rule.verify_days == 3
    for k in range(3):  # three episodes → hazard
        feed(device, T0 + timedelta(minutes=10 * k), [100, 400, 400, 400])
    hazard = Hazard.objects.get()

    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert "尚未报告整改" in closure_blockers(hazard)[0]

    rectified = T0 + timedelta(hours=2)
    hazard.rectified_at = rectified
    hazard.state = "awaiting_verification"
    hazard.save()
    with time_machine.travel(rectified + timedelta(minutes=5), tick=False):
        assert "仍有未解除的报警" in closure_blockers(hazard)[0]

    # Normal readings every 10 minutes after the rectification; the alarm clears itself.
    feed(device, rectified, [120] * 6 * 20, step=timedelta(minutes=10))
    assert Alarm.objects.get().state == "cleared"
    with time_machine.travel(rectified + timedelta(days=1), tick=False):
        reason = closure_blockers(hazard)[0]
        assert "传感器验证" in reason and "需满 3 天" in reason
        html = render_to_string("monitoring/_hazard_evidence.html", {"hazard": hazard})
        assert 'id="sensor-blocker"' in html and "传感器验证销号" in html

    # One spike the next day (not an alarm: one reading), then normal again: counted as an abnormal day.
    day2 = rectified + timedelta(hours=20)
    feed(device, day2, [350] + [120] * 6 * 24, step=timedelta(minutes=10))
    with time_machine.travel(day2 + timedelta(days=1), tick=False):
        assert "仍上报异常" in closure_blockers(hazard)[0] or "需满 3 天" in closure_blockers(hazard)[0]

    day4 = day2 + timedelta(days=1, minutes=10)
    feed(device, day4, [120] * 6 * 24 * 3, step=timedelta(minutes=10))
    with time_machine.travel(day4 + timedelta(days=3), tick=False):
        assert closure_blockers(hazard) == []
        html = render_to_string("monitoring/_hazard_evidence.html", {"hazard": hazard})
        assert 'id="sensor-ok"' in html and 'id="sensor-evidence-days"' in html


def test_hazards_not_opened_by_sensors_are_not_guarded(world):
    from apps.hazards.services import report_hazard

    hazard = report_hazard(world.home1, world.inst1, category="electrical", description="插线板串接")
    assert closure_blockers(hazard) == []
    assert render_to_string("monitoring/_hazard_evidence.html", {"hazard": hazard}).strip() == ""
