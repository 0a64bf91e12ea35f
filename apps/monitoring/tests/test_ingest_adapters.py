"""The ingest core with the payload adapters: vendor formats, clocks, channels, events, sequences (issue 17)."""
import json
from datetime import timedelta

import pytest

from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm, DeadLetter, Device, Reading

from .conftest import T0, make_device, payload, reading

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(hours=1)


def ingest(items, **kw):
    return ingest_batch(items, source="mqtt", now=kw.pop("now", NOW), **kw)


def test_thingsboard_telemetry_by_access_token_as_mqtt_user_name(device):
    ms = int((NOW - timedelta(seconds=30)).timestamp() * 1000)
    topic = "v1/devices/me/telemetry"
    single = json.dumps({"ts": ms, "values": {"residual_ma": 80}}).encode()
    array = json.dumps([{"ts": ms + 1000, "values": {"t1": 30}}, {"ts": ms + 2000, "values": {"t1": 31}}]).encode()
    result = ingest([single, array, single], topics=[topic] * 3, usernames=[device.token, device.token, "wrong"])
    assert [it.status for it in result.items] == ["stored", "stored", "stored", "rejected"]
    assert result.items[-1].reason == "bad_token"
    assert Reading.objects.filter(device=device).count() == 3


def test_the_property_array_format_on_its_topic(world, settings):
    settings.MQTT_TOPIC_AUTHENTICATED = True  # the broker's ACL: only the device publishes on its topic
    device = make_device(world.inst1, code="880012")
    ms = int((NOW - timedelta(seconds=10)).timestamp() * 1000)
    body = {"deviceId": 880012, "msgId": 5, "properties": [
        {"key": "剩余电流", "value": 45, "unit": "mA", "timestamp": ms},
        {"key": "A相电流", "value": 65535, "unit": "A", "timestamp": ms}]}
    result = ingest([json.dumps(body, ensure_ascii=False).encode()], topics=["firesafe/devices/880012/properties"])
    assert result.stored == 1
    row = Reading.objects.get(device=device)
    assert row.residual_ma == 45 and row.ia is None  # 65535 is the vendor's "no value"


def test_a_mistyped_topic_becomes_a_dead_letter(device):
    result = ingest([payload(device, NOW)], topics=["firesafe/device/DEV-1/reading"])
    assert result.rejected == 1
    letter = DeadLetter.objects.get()
    assert letter.reason == "unknown_topic" and letter.topic == "firesafe/device/DEV-1/reading"


def test_a_bom_and_millisecond_time_in_the_platforms_format(device):
    body = reading(device, NOW)
    body["ts"] = int((NOW - timedelta(minutes=1)).timestamp() * 1000)
    result = ingest([b"\xef\xbb\xbf" + json.dumps(body).encode()])
    assert result.stored == 1
    assert Reading.objects.get().ts == NOW - timedelta(minutes=1)


def test_a_slow_clock_is_online_flagged_on_the_device_and_raises_no_offline_alarm(device):
    from apps.monitoring.services import evaluate_offline

    for i in range(20):  # every 10 s for 200 s, the device clock 20 minutes slow
        received = NOW + timedelta(seconds=10 * i)
        ingest([payload(device, received - timedelta(minutes=20), residual_ma=100)], now=received)
    from apps.monitoring.store import flush_device_state

    flush_device_state()  # last-seen is written lazily; the consumer flushes before each offline check
    device.refresh_from_db()
    end = NOW + timedelta(seconds=200)
    assert not device.is_offline_at(end) and device.last_seen == NOW + timedelta(seconds=190)
    assert evaluate_offline(end) == 0 and not Alarm.objects.exists()
    assert device.clock_is_wrong and -1205 < device.clock_offset_seconds < -1195
    # The clock is set right: the flag goes.
    ingest([payload(device, end, residual_ma=100)], now=end)
    device.refresh_from_db()
    assert not device.clock_is_wrong


def test_a_clock_ahead_or_reset_to_1970_is_stored_and_evaluated_at_receive_time(device):
    ahead = payload(device, NOW + timedelta(hours=3), residual_ma=500)
    reset = json.dumps({**reading(device, NOW, residual_ma=500), "ts": 60}).encode()
    late = payload(device, NOW + timedelta(seconds=1), residual_ma=500)
    result = ingest([ahead, reset, late], now=NOW)
    assert result.stored == 3
    stamps = sorted(Reading.objects.values_list("ts", flat=True))
    assert stamps[0] == NOW and stamps[1] - NOW < timedelta(seconds=1)
    assert Alarm.objects.filter(kind="residual_ma").count() == 1  # 3 readings beyond 300 mA in a row


def test_only_declared_channels_are_evaluated(world):
    residual_only = make_device(world.inst1, code="RC-1", kind="residual", channels=["residual_ma"])
    ingest([payload(residual_only, NOW - timedelta(minutes=3 - i), residual_ma=50, t1=95) for i in range(3)])
    assert Reading.objects.filter(device=residual_only).count() == 3  # stored …
    assert not Alarm.objects.exists()  # … but t1 is not this device's channel
    combined = make_device(world.inst1, code="C-1")
    ingest([payload(combined, NOW - timedelta(minutes=3 - i), t1=95) for i in range(3)])
    assert Alarm.objects.get().channel == "t1"


def test_a_device_alarm_event_is_an_alarm_at_once_and_restore_clears_it(device):
    from apps.core.models import Notification

    event = {**reading(device, NOW), "event": "alarm", "event_channel": "residual_ma"}
    del event["values"]
    result = ingest([json.dumps(event).encode()])
    assert result.stored == 1
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.channel, alarm.state, alarm.severity) == (
        "device_alarm", "residual_ma", "active", "critical")
    assert Notification.objects.filter(verb="monitoring.alarm").exists()
    ingest([json.dumps({**event, "ts": (NOW + timedelta(seconds=5)).isoformat()}).encode()])
    alarm.refresh_from_db()
    assert alarm.count == 2 and Alarm.objects.count() == 1
    restore = {**event, "event": "restore", "ts": (NOW + timedelta(seconds=9)).isoformat()}
    ingest([json.dumps(restore).encode()])
    alarm.refresh_from_db()
    assert alarm.state == "cleared"
    fault = {**reading(device, NOW + timedelta(seconds=20), residual_ma=20), "event": "fault"}
    ingest([json.dumps(fault).encode()])
    assert Alarm.objects.filter(kind="faults", state="active").count() == 1
    assert Reading.objects.filter(device=device).count() == 1  # the fault event carried values


def test_sequence_gaps_are_shown_per_device(device):
    msgs = [json.dumps({**reading(device, NOW - timedelta(seconds=60 - i)), "seq": n}).encode()
            for i, n in enumerate([1, 2, 3, 6, 7])]
    ingest(msgs)
    device.refresh_from_db()
    assert device.seq_missing == 2 and device.seq_missing_ranges == [(4, 5)]
    ingest([json.dumps({**reading(device, NOW - timedelta(seconds=50)), "seq": 4}).encode()])
    device.refresh_from_db()
    assert device.seq_missing == 1


def test_device_fields_hold_no_clock_state_for_a_right_clock(device):
    ingest([payload(device, NOW - timedelta(seconds=5))])
    assert Device.objects.filter(pk=device.pk, clock_offset_seconds__isnull=True, seq_missing=0).exists()


def test_a_reading_off_by_more_than_the_skew_is_stored_flagged_with_its_receive_time_and_seq(device):
    received = [NOW - timedelta(seconds=2), NOW - timedelta(seconds=1), NOW]
    msgs = [json.dumps({**reading(device, NOW - timedelta(minutes=20)), "seq": 7}).encode(),  # plain decode
            payload(device, NOW - timedelta(seconds=30), residual_ma=100),  # the fast path
            payload(device, NOW - timedelta(minutes=21), residual_ma=100)]
    result = ingest(msgs, received=received)
    assert result.stored == 3
    rows = {r.ts: r for r in Reading.objects.filter(device=device)}
    assert [(r.clock_skewed, r.received_at, r.seq) for _ts, r in sorted(rows.items())] == [
        (True, NOW, None), (True, NOW - timedelta(seconds=2), 7), (False, NOW - timedelta(seconds=1), None)]
    assert Device.objects.get(pk=device.pk).clock_offset_seconds == -1260  # the newest arrival's clock


def test_a_wrong_clock_that_drifts_is_written_lazily_and_the_flag_at_once(device):
    from apps.monitoring.store import flush_device_state

    ingest([payload(device, NOW - timedelta(minutes=20))], now=NOW)
    assert Device.objects.get(pk=device.pk).clock_offset_seconds == -1200  # the flag: at once
    ingest([payload(device, NOW - timedelta(minutes=25))], now=NOW + timedelta(seconds=1))
    assert Device.objects.get(pk=device.pk).clock_offset_seconds == -1200  # a drift: kept …
    flush_device_state()
    assert Device.objects.get(pk=device.pk).clock_offset_seconds == -1501  # … and written with the device state
    ingest([payload(device, NOW + timedelta(seconds=2))], now=NOW + timedelta(seconds=2))
    flush_device_state()
    assert Device.objects.get(pk=device.pk).clock_offset_seconds is None
