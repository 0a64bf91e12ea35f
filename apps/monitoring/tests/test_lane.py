"""The express lane (``apps.monitoring.lane``) changes nothing but the speed.

The same batches go through the lane and through the exact path alone (``MONITORING_EXPRESS_LANE``
off): the stored rows, the statuses in message order, the alarms, the dead letters and the device
state must be the same. The lane works on PostgreSQL (binary COPY); on SQLite both runs take the
exact path and must agree all the same.

Every test runs on both builds of the lane: lane.py as plain Python, and its Cython build
(``scripts/build_lane.py``; ``fastlane`` picks it in service). In CI the build must be there.
"""
import base64
import json
import os
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test import override_settings

from apps.monitoring import fastlane, lane, store
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm, DeadLetter, Device, HourlyRollup, Reading, RollupMark
from apps.monitoring.rollups import roll_up_hours

from .conftest import T0, make_device, payload, reading

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["python", "compiled"])
def lane_module(request, monkeypatch):
    """The lane the ingest runs: lane.py itself, or its build of the current source."""
    if request.param == "python":
        module = lane
    else:
        module = fastlane.load()
        if module is lane:
            assert not os.environ.get("CI"), "no Cython build of the current lane.py (make setup builds it)"
            pytest.skip("no Cython build of the current lane.py here (make setup builds it)")
        assert module.SOURCE_SHA256 == fastlane.source_sha()
    monkeypatch.setattr(fastlane, "current", lambda: module)
    return module

COLUMNS = ("device__code", "ts", "residual_ma", "t1", "t2", "ia", "ua", "arc_count", "faults", "received_at", "seq",
           "clock_skewed")


def _topic(code):
    return f"firesafe/devices/{code}/readings"


def _mixed_batch(world):
    """Most of a live stream, and everything the lane must leave to the exact path, in one batch."""
    a, b, c = (make_device(world.inst1, code=f"LANE-{i}") for i in range(3))
    split = make_device(world.inst1, code="LANE-SPLIT")
    now = T0 + timedelta(minutes=3)
    msgs = []
    for k in range(3):  # three devices, three minutes each: calm readings, but b's are over the threshold
        for d in (a, b, c):
            value = 900.0 + k if d is b else 120.0 + k
            msgs.append((d.code, payload(d, T0 + timedelta(minutes=k), residual_ma=value, t1=35.0)))
    msgs += [
        (a.code, payload(a, T0)),  # a repeat within the batch
        (b.code, payload(b, T0 + timedelta(seconds=30), residual_ma=900.0)),  # the fourth: the alarm opens
        (c.code, json.dumps({**reading(c, T0 + timedelta(seconds=40)), "seq": 5}).encode()),  # a sequence number
        (c.code, json.dumps(reading(c, T0 + timedelta(seconds=50), token="wrong")).encode()),  # a bad token
        ("NOPE", json.dumps({**reading(a, T0), "device": "NOPE"}).encode()),  # an unknown device
        (a.code, b"\xef\xbb\xbf" + payload(a, T0 + timedelta(seconds=20))),  # a byte order mark
        (a.code, b"\x40\x40\x01\x00\x00\x00\x23\x23"),  # a binary frame
        (b.code, payload(a, T0 + timedelta(seconds=10))),  # another device's topic
        # One device: one reading the lane could take, one it cannot (10 minutes behind: flagged).
        (split.code, payload(split, T0 + timedelta(minutes=2), residual_ma=500.0)),
        (split.code, payload(split, T0 - timedelta(minutes=10), residual_ma=500.0)),
    ]
    warm = [payload(d, T0 - timedelta(minutes=1)) for d in (a, b, c, split)]
    return [m[1] for m in msgs], [_topic(m[0]) for m in msgs], now, warm


def _state():
    rows = sorted(Reading.objects.values_list(*COLUMNS))
    alarms = sorted(Alarm.objects.values_list("device__code", "channel", "state", "count", "first_value"))
    letters = sorted(DeadLetter.objects.values_list("topic", "reason", "payload_encoding"))
    store.flush_device_state()
    devices = sorted((d.code, d.last_seen, d.newest_reading, d.last_values, d.seq_state, d.clock_offset_seconds)
                     for d in Device.objects.with_last_values())
    return rows, alarms, letters, devices


def _run(world, lane_on, monkeypatch):
    used = []
    module = fastlane.current()
    real = getattr(module.store_taken, "real", module.store_taken)

    def spy(taken, *args):
        used.append(len(taken))
        return real(taken, *args)

    spy.real = real

    monkeypatch.setattr(module, "store_taken", spy)
    raw, topics, now, warm = _mixed_batch(world)
    received = [now] * len(raw)
    with override_settings(MONITORING_EXPRESS_LANE=lane_on):
        store.forget_devices()
        # A consumer that has been running: the devices are in its copy (the batch before: read on demand).
        ingest_batch(warm, source="mqtt", received=[now] * len(warm), now=now)
        result = ingest_batch(raw, source="mqtt", topics=topics, received=received, now=now)
        again = ingest_batch(raw[:9], source="mqtt", topics=topics[:9], received=received[:9], now=now)
    statuses = [(it.status, it.reason) for it in result.items]
    return statuses, (result.stored, result.duplicates, result.rejected), (again.stored, again.duplicates), \
        _state(), used


def test_the_lane_stores_what_the_exact_path_stores(world, monkeypatch):
    exact = _run(world, False, monkeypatch)
    for model in (Reading, Alarm, DeadLetter, RollupMark, HourlyRollup):
        model.objects.all().delete()
    Device.objects.filter(code__startswith="LANE-").delete()
    store._pending.clear()
    fast = _run(world, True, monkeypatch)
    assert exact[0] == fast[0]  # every message's status and reason, in message order
    assert exact[1] == fast[1] and exact[2] == fast[2] == (0, 9)
    assert exact[3] == fast[3]  # rows (every column), alarms, dead letters, device state
    assert fast[1][0] == 14 and any(a[0] == "LANE-1" for a in fast[3][1])  # stored; the alarm opened in its batch
    if connection.vendor == "postgresql":
        assert fast[4] and fast[4][0] == 4 and fast[4][1] >= 4  # the warm-up batch, then the readings of the devices without a message for the exact path
        assert not exact[4]
    else:
        assert not fast[4]  # the lane is PostgreSQL's (binary COPY)


def test_a_reading_over_a_threshold_opens_its_alarm_in_the_batch_and_the_rollups_are_exact(world):
    devices = [make_device(world.inst1, code=f"LIVE-{i}") for i in range(5)]
    raw, topics = [], []
    for minute in range(3):
        for i, d in enumerate(devices):
            value = 950.0 if i == 2 else 100.0 + i + minute  # three in a row over the threshold
            raw.append(payload(d, T0 + timedelta(minutes=minute), residual_ma=value))
            topics.append(_topic(d.code))
    now = T0 + timedelta(minutes=2, seconds=5)
    result = ingest_batch(raw, source="mqtt", topics=topics, received=[now] * len(raw), now=now)
    assert result.stored == 15 and [a.device.code for a in result.alarms_opened] == ["LIVE-2"]
    roll_up_hours()
    for d in devices:
        got = HourlyRollup.objects.get(device=d, channel="residual_ma")
        values = list(Reading.objects.filter(device=d).values_list("residual_ma", flat=True))
        assert (got.min, got.max, got.sum, got.count) == (min(values), max(values), sum(values), len(values))


def test_an_hour_marked_for_every_device_is_rolled_up_for_every_device(world, monkeypatch):
    """Past ``MARK_LIST_LIMIT`` devices a mark names the hour only; the job recomputes it for all."""
    monkeypatch.setattr(store, "MARK_LIST_LIMIT", 2)
    devices = [make_device(world.inst1, code=f"HOUR-{i}") for i in range(4)]
    raw = [payload(d, T0 + timedelta(minutes=m), residual_ma=100.0 + m) for m in range(2) for d in devices]
    now = T0 + timedelta(minutes=2)
    ingest_batch(raw, source="mqtt", received=[now] * len(raw), now=now)
    assert list(RollupMark.objects.values_list("devices", flat=True)) == [None]
    roll_up_hours()
    assert not RollupMark.objects.exists()
    assert HourlyRollup.objects.filter(channel="residual_ma").count() == 4
    assert {r.sum for r in HourlyRollup.objects.filter(channel="residual_ma")} == {201.0}
    # A later, short batch of the same hour: a mark with its devices; the others' rollups are kept.
    ingest_batch([payload(devices[0], T0 + timedelta(minutes=5), residual_ma=99.0)], source="mqtt",
                 received=[now + timedelta(minutes=4)], now=now + timedelta(minutes=4))
    assert RollupMark.objects.get().devices == [devices[0].pk]
    roll_up_hours()
    assert HourlyRollup.objects.get(device=devices[0], channel="residual_ma").count == 3
    assert HourlyRollup.objects.filter(channel="residual_ma").count() == 4


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the directory version is PostgreSQL's (a trigger)")
def test_a_change_made_by_another_process_reaches_the_consumers_copy_at_the_next_batch(world):
    """The consumer keeps its copy of each device; a change saved elsewhere (the web process: here,
    with this process's own signal disconnected) moves the directory version and the copy is dropped."""
    device = make_device(world.inst1, code="COPY-1")
    now = T0 + timedelta(minutes=1)
    first = ingest_batch([payload(device, T0)], source="mqtt", topics=[_topic(device.code)], received=[now], now=now)
    assert first.stored == 1 and "COPY-1" in store._directory
    post_save.disconnect(store.forget_devices, sender=Device, dispatch_uid="monitoring-forget-devices-save")
    try:
        Device.objects.filter(pk=device.pk).update(is_active=False)  # no signal at all: only the trigger
    finally:
        post_save.connect(store.forget_devices, sender=Device, dispatch_uid="monitoring-forget-devices-save")
    later = now + timedelta(minutes=1)
    result = ingest_batch([payload(device, T0 + timedelta(minutes=1))], source="mqtt",
                          topics=[_topic(device.code)], received=[later], now=later)
    assert (result.stored, result.rejected) == (0, 1)
    assert DeadLetter.objects.get().reason == "unknown_device"
    # Moving last-seen (what the ingest itself writes) does not drop the copy.
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM monitoring_directory_version")
        before = cursor.fetchone()[0]
        Device.objects.filter(pk=device.pk).update(last_seen=later)
        cursor.execute("SELECT version FROM monitoring_directory_version")
        assert cursor.fetchone()[0] == before
        # A new offline window moves it (the copy's last-seen is written within a third of the window).
        Device.objects.filter(pk=device.pk).update(offline_after_minutes=3)
        cursor.execute("SELECT version FROM monitoring_directory_version")
        assert cursor.fetchone()[0] == before + 1


def test_undecodable_bytes_in_a_lane_batch_are_dead_letters_kept_whole(world):
    device = make_device(world.inst1, code="BYTES-1")
    frame = b"\x40\x40\x01\x00\x00\x00\x23\x23"
    now = T0 + timedelta(minutes=1)
    result = ingest_batch([payload(device, T0), frame], source="mqtt", topics=[_topic(device.code)] * 2,
                          received=[now, now], now=now)
    assert [it.status for it in result.items] == ["stored", "rejected"]
    letter = DeadLetter.objects.get()
    assert (letter.payload_encoding, base64.b64decode(letter.payload)) == ("base64", frame)


def test_device_state_is_written_once_an_interval_not_once_a_reading(world, monkeypatch):
    """A gateway's backlog: twenty minutes of two devices in one batch. Last-seen is written when a
    reading comes the interval (300 s) after the device's last write, not for every reading."""
    devices = [make_device(world.inst1, code=f"STATE-{i}") for i in range(2)]
    written = []
    real = store._write_seen
    monkeypatch.setattr(store, "_write_seen", lambda due, *marks: (written.extend(pk for pk, *_rest in due), real(due, *marks)))
    raw, received = [], []
    for minute in range(20):
        for d in devices:
            raw.append(payload(d, T0 + timedelta(minutes=minute)))
            received.append(T0 + timedelta(minutes=minute, seconds=2))
    result = ingest_batch(raw, source="mqtt", received=received, now=received[-1])
    assert result.stored == 40
    for d in devices:
        assert 1 <= written.count(d.pk) <= 4  # at 0, 5, 10 and 15 minutes at most
    store.flush_device_state()
    for d in Device.objects.filter(code__startswith="STATE-"):
        assert d.last_seen == received[-1] and d.newest_reading == T0 + timedelta(minutes=19)
        assert d.last_values["ts"] == (T0 + timedelta(minutes=19)).isoformat()


@pytest.mark.parametrize("prepared", [True, False])
def test_the_per_batch_statements_are_prepared_unless_turned_off(world, prepared):
    """``DB_PREPARED_STATEMENTS`` (on by default): the lane's per-batch statements are prepared on the
    connection; off (behind a pooler that does not keep them) none is, and the batch is stored alike."""
    devices = [make_device(world.inst1, code=f"PREP-{i}") for i in range(3)]
    with override_settings(DB_PREPARED_STATEMENTS=prepared, MONITORING_DEVICE_STATE_SECONDS=0):
        store.forget_devices()
        for minute in range(3):
            raw = [payload(d, T0 + timedelta(minutes=minute), residual_ma=100.0 + minute) for d in devices]
            received = [T0 + timedelta(minutes=minute, seconds=2)] * len(raw)
            assert ingest_batch(raw, source="mqtt", received=received, now=received[0]).stored == 3
    assert Reading.objects.filter(device__code__startswith="PREP-").count() == 9
    if connection.vendor != "postgresql":
        return  # the lane (and its statements) are PostgreSQL's
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = " ".join(row[0] for row in cursor.fetchall())
    mine = [sql in statements for sql in ("monitoring_directory_version", "INSERT INTO monitoring_rollupmark",
                                          "UPDATE monitoring_device d SET last_seen")]
    assert mine == [prepared] * 3


def test_wrong_tokens_are_rejected_and_not_remembered(world):
    """A stream of wrong tokens is rejected message by message and leaves nothing behind in the
    consumer's copy of the device (only a token that matched is remembered)."""
    device = make_device(world.inst1, code="TOKEN-1")
    now = T0 + timedelta(minutes=1)
    store.forget_devices()
    good = [payload(device, T0)]
    assert ingest_batch(good, source="mqtt", received=[now], now=now).stored == 1
    wrong = [json.dumps(reading(device, T0 + timedelta(seconds=s), token=f"guess-{s}")).encode() for s in range(1, 41)]
    result = ingest_batch(wrong, source="mqtt", received=[now] * len(wrong), now=now)
    assert result.stored == 0 and result.rejected == len(wrong)
    kept = store._directory.get("TOKEN-1")
    if kept is not None:  # the lane's copy (PostgreSQL); the exact path reads the device per batch
        assert kept.ok_token == device.token


def test_a_calm_batch_costs_one_statement_for_its_marks_and_device_state(world, monkeypatch):
    """The round trips of a live-stream batch on the lane: the batch view, the ``COPY``, and one
    statement for the hour marks and the due device state (they were two). Counted on the statements
    that name the monitoring tables (not the test's savepoints)."""
    import psycopg

    devices = [make_device(world.inst1, code=f"TRIPS-{i}") for i in range(3)]
    store.forget_devices()
    now = T0 + timedelta(minutes=1)
    ingest_batch([payload(d, T0) for d in devices], source="mqtt", received=[now] * 3, now=now)
    sent = []
    real_execute, real_copy = psycopg.Cursor.execute, psycopg.Cursor.copy

    def execute(self, query, *args, **kwargs):
        if "monitoring_" in str(query):
            sent.append(str(query))
        return real_execute(self, query, *args, **kwargs)

    def copy(self, statement, *args, **kwargs):
        sent.append(str(statement))
        return real_copy(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    monkeypatch.setattr(psycopg.Cursor, "copy", copy)
    later = now + timedelta(minutes=10)  # the interval past the devices' last write: their state is due
    raw = [payload(d, T0 + timedelta(minutes=10)) for d in devices]
    with override_settings(MONITORING_DEVICE_STATE_SECONDS=300):
        assert ingest_batch(raw, source="mqtt", received=[later] * 3, now=later).stored == 3
    if connection.vendor == "postgresql":  # (SQLite takes the exact path, through Django's own driver)
        assert len(sent) == 3, sent
        assert "monitoring_directory_version" in sent[0] and sent[1].startswith("COPY monitoring_reading")
        assert "INSERT INTO monitoring_rollupmark" in sent[2] and "UPDATE monitoring_device" in sent[2]
    assert RollupMark.objects.filter(hour=(T0 + timedelta(minutes=10)).replace(minute=0)).exists()
    assert {d.last_seen for d in Device.objects.filter(code__startswith="TRIPS-")} == {later}
