"""Storage for a live stream: decoded records, the rollup job, the threshold screen, lazy device state,
partitions and retention."""
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from apps.monitoring import store
from apps.monitoring.adapters import Normalized
from apps.monitoring.charts import chart_data, hourly_rows
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm, AreaHourlyRollup, HourlyRollup, Reading, RollupMark
from apps.monitoring.rollups import roll_up_hours

from .conftest import T0, make_device, series

pytestmark = pytest.mark.django_db


def rec(device, ts, received=None, **values):
    return Normalized(device_code=device.code, measured_at=ts, received_at=received or ts + timedelta(seconds=2),
                      values=values or {"residual_ma": 120.0})


def test_store_batch_writes_decoded_records_with_receive_time_seq_and_skew(device):
    skewed = Normalized(device_code=device.code, measured_at=datetime(1970, 1, 1, tzinfo=UTC), received_at=T0,
                        values={"t1": 40.0}, seq=7, clock_skewed=True)
    unknown = Normalized(device_code="NOPE", measured_at=T0, received_at=T0, values={"t1": 1.0})
    result = store.store_batch([rec(device, T0 - timedelta(minutes=1)), skewed, unknown,
                                rec(device, T0 - timedelta(minutes=1))], now=T0)
    assert (result.stored, result.duplicates, result.unknown) == (2, 1, [unknown])
    row = Reading.objects.get(device=device, ts=T0)  # a skewed clock: stored on the receive time, flagged
    assert (row.t1, row.seq, row.clock_skewed, row.received_at) == (40.0, 7, True, T0)
    assert Reading.objects.get(device=device, ts=T0 - timedelta(minutes=1)).received_at == T0 - timedelta(seconds=58)
    again = store.store_batch([rec(device, T0 - timedelta(minutes=1))], now=T0)
    assert (again.stored, again.duplicates) == (0, 1)


def test_readings_over_a_threshold_open_the_alarm_in_their_batch_and_only_those_devices_are_locked(
        world, device, monkeypatch):
    calm = make_device(world.inst1, code="CALM-1")
    locked = []
    real = store.read_devices

    def spy(codes=None, pks=None, *, lock=False):
        if lock:
            locked.append(sorted(pks))
        return real(codes, pks, lock=lock)

    monkeypatch.setattr(store, "read_devices", spy)
    batch = series(device, T0, [400, 410, 420]) + series(calm, T0, [100, 110, 120])
    result = ingest_batch(batch, source="mqtt", now=T0 + timedelta(minutes=5))
    assert [a.device_id for a in result.alarms_opened] == [device.pk]
    assert locked == [[device.pk]]  # the calm device was screened out: not locked, not evaluated
    # A device with a streak in progress is locked for its normal readings too (the streak ends).
    locked.clear()
    ingest_batch(series(calm, T0 + timedelta(minutes=3), [350]), source="mqtt", now=T0 + timedelta(minutes=5))
    ingest_batch(series(calm, T0 + timedelta(minutes=4), [100]), source="mqtt", now=T0 + timedelta(minutes=5))
    assert locked == [[calm.pk], [calm.pk]]
    calm.refresh_from_db()
    assert calm.eval_state["s"]["residual_ma:residual_ma"][0] == 0
    assert Alarm.objects.filter(device=calm).count() == 0


@override_settings(MONITORING_DEVICE_STATE_SECONDS=300)
def test_last_seen_of_calm_devices_is_written_lazily_and_flushed(device):
    ingest_batch(series(device, T0, [100]), source="mqtt", now=T0 + timedelta(minutes=1))
    device.refresh_from_db()
    assert device.last_seen == T0 + timedelta(minutes=1)  # never seen before: written at once (receive time)
    ingest_batch(series(device, T0 + timedelta(minutes=1), [101]), source="mqtt", now=T0 + timedelta(minutes=2))
    device.refresh_from_db()
    assert device.last_seen == T0 + timedelta(minutes=1)  # one minute later: kept in the process
    assert store.flush_device_state() == 1
    device.refresh_from_db()
    assert device.last_seen == T0 + timedelta(minutes=2) and device.last_values["residual_ma"] == 101
    ingest_batch(series(device, T0 + timedelta(minutes=6), [102]), source="mqtt", now=T0 + timedelta(minutes=7))
    device.refresh_from_db()
    assert device.last_seen == T0 + timedelta(minutes=7)  # over the interval: written in the batch
    # Never moved back by a process that saw less.
    store._write_seen([(device.pk, T0, T0)])
    device.refresh_from_db()
    assert device.last_seen == T0 + timedelta(minutes=7) and device.last_values["residual_ma"] == 102


@override_settings(MONITORING_DEVICE_STATE_SECONDS=300)
def test_a_steady_stream_is_written_once_an_interval_not_at_every_offline_check(device, device2, monkeypatch):
    """The consumer's check for silent devices runs every minute. Before it, only the kept last-seen
    times it would miss are written: a device reporting every minute is written once in 5 minutes,
    as the bench models it, not once a minute."""
    written = []
    real = store._write_seen
    monkeypatch.setattr(store, "_write_seen", lambda due, *marks: (written.extend(pk for pk, *_ in due), real(due, *marks)))
    for minute in range(20):
        now = T0 + timedelta(minutes=minute, seconds=2)
        raw = [series(d, T0 + timedelta(minutes=minute), [120])[0] for d in (device, device2)]
        ingest_batch(raw, source="mqtt", received=[now, now], now=now)
        store.flush_before_offline_check(now)
    for d in (device, device2):
        assert 4 <= written.count(d.pk) <= 5, written  # at 0, 5, 10, 15 minutes (and one more at most)


@override_settings(MONITORING_DEVICE_STATE_SECONDS=300)
def test_a_short_offline_window_is_kept_true_for_a_check_in_another_process(device, device2):
    """A device whose offline window (3 minutes) is shorter than the interval: its last-seen is written a
    third of its window after its last write at most, so the scheduled offline check, which runs in
    another process and sees nothing this one kept, never finds it silent while it reports."""
    from apps.monitoring.models import Device

    Device.objects.filter(pk=device.pk).update(offline_after_minutes=3)
    for minute in range(12):
        now = T0 + timedelta(minutes=minute, seconds=2)
        ingest_batch(series(device, T0 + timedelta(minutes=minute), [120]), source="mqtt", received=[now], now=now)
        check = now + timedelta(seconds=50)  # the next check, before the next reading
        assert device.pk not in set(Device.objects.offline(check).values_list("pk", flat=True)), check
    assert Device.objects.get(pk=device.pk).last_seen == T0 + timedelta(minutes=11, seconds=2)


@override_settings(MONITORING_DEVICE_STATE_SECONDS=300)
def test_a_device_gone_silent_is_written_before_the_offline_check_would_miss_it(device, device2):
    """The last-seen time kept in the process reaches the database before the check could find the device
    silent on the older written one: offline exactly one window after its last message."""
    from apps.monitoring.models import Device
    from apps.monitoring.services import evaluate_offline

    Device.objects.filter(pk=device2.pk).update(offline_after_minutes=3)  # the shortest window decides
    for minute in range(4):
        now = T0 + timedelta(minutes=minute, seconds=2)
        ingest_batch(series(device, T0 + timedelta(minutes=minute), [120]), source="mqtt", received=[now], now=now)
    last = T0 + timedelta(minutes=3, seconds=2)  # its last message; written at 0 min, the rest kept
    assert Device.objects.get(pk=device.pk).last_seen == T0 + timedelta(seconds=2)
    for minute in range(4, 40):
        now = T0 + timedelta(minutes=minute, seconds=30)
        store.flush_before_offline_check(now)
        offline = set(Device.objects.offline(now).values_list("pk", flat=True))
        assert (device.pk in offline) == (now - last > timedelta(minutes=device.offline_after_minutes)), now
    assert evaluate_offline(now) >= 1


def test_the_rollup_job_is_idempotent_and_equals_the_raw_readings(world, device, device2):
    ingest_batch(series(device, T0, [100, 200, 150], step=timedelta(minutes=25))
                 + series(device2, T0, [50, 60]), source="mqtt", now=T0 + timedelta(hours=2))
    assert RollupMark.objects.exists() and not HourlyRollup.objects.exists()
    raw = sorted(hourly_rows(device, T0, T0 + timedelta(hours=2)))  # the job has not run: from the readings
    assert roll_up_hours() == 1 and not RollupMark.objects.exists()
    first = sorted(HourlyRollup.objects.values_list("device_id", "channel", "hour", "min", "max", "sum", "count"))
    area = sorted(AreaHourlyRollup.objects.values_list("township_id", "channel", "hour", "min", "max", "sum", "count"))
    assert sorted(hourly_rows(device, T0, T0 + timedelta(hours=2))) == raw  # from the rollups now: the same
    # Marks for hours already done (a redelivery, a late reading): the same rows again.
    RollupMark.objects.create(hour=T0, devices=[device.pk, device2.pk])
    assert roll_up_hours() == 1
    assert sorted(HourlyRollup.objects.values_list("device_id", "channel", "hour", "min", "max", "sum",
                                                   "count")) == first
    assert sorted(AreaHourlyRollup.objects.values_list("township_id", "channel", "hour", "min", "max", "sum",
                                                       "count")) == area
    points = chart_data(device, T0, T0 + timedelta(hours=2), channels=["residual_ma"])["channels"][0]["points"]
    assert [p[1:] for p in points] == [[100.0, 150.0, 200.0]]


def test_a_late_reading_is_in_the_chart_before_the_job_and_in_the_rollup_after(device):
    ingest_batch(series(device, T0, [100, 200]), source="mqtt", now=T0 + timedelta(hours=3))
    roll_up_hours()
    ingest_batch(series(device, T0 + timedelta(minutes=30), [900]), source="mqtt", now=T0 + timedelta(hours=3))
    chart = chart_data(device, T0, T0 + timedelta(hours=1), channels=["residual_ma"])
    assert chart["channels"][0]["points"][0][3] == 900  # the marked hour is read raw
    roll_up_hours()
    assert HourlyRollup.objects.get(device=device, channel="residual_ma", hour=T0).count == 3


def test_retention_drops_whole_months_and_deletes_the_rest(device):
    from apps.monitoring.partitions import ensure_partitions, is_partitioned, partitions

    now = timezone.now()
    old = now.replace(minute=10, second=0, microsecond=0) - timedelta(days=400)
    if connection.vendor == "postgresql":
        assert is_partitioned()
        ensure_partitions(now=old, ahead=0)  # a month of its own for the old readings
        assert any(start <= old < end for _name, start, end in partitions())
    ingest_batch(series(device, old, [100, 110]), source="mqtt", now=now)
    ingest_batch(series(device, now - timedelta(days=1), [100]), source="mqtt", now=now)
    out = StringIO()
    call_command("prune_readings", "--days", "180", stdout=out)
    assert "deleted 2" in out.getvalue()
    if connection.vendor == "postgresql":
        assert f"dropped partition monitoring_reading_p{old:%Y%m} (2 readings)" in out.getvalue()
        assert not any(start <= old < end for _name, start, end in partitions())
    assert Reading.objects.count() == 1
    assert HourlyRollup.objects.filter(channel="residual_ma").count() == 2  # rolled up before they went


def test_the_rollups_api_answers_an_unknown_channel_with_no_rows(world, device):
    """Found by schemathesis: a channel that is no column was put into the raw-tail query (500)."""
    from apps.core.testing import api_client

    ingest_batch(series(device, T0, [100]), source="mqtt", now=T0 + timedelta(minutes=1))
    response = api_client(world.admin).get(f"/api/v1/devices/{device.pk}/rollups/",
                                           {"channel": "no-such-channel", "days": 7})
    assert response.status_code == 200 and response.json()["results"] == []
