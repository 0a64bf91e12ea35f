"""Payload adapters (issue 17): vendor payloads become normalized records; fast, no database."""
import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.monitoring.adapters import (
    Profile,
    builtin_profiles,
    decode_message,
    parse_time,
    preview,
    topic_match,
)
from apps.monitoring.clock import missing_count, note_sequence

RECEIVED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PROFILES = builtin_profiles()


def decode(payload, topic="firesafe/devices/D1/readings", username=None):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return decode_message(raw, topic, username, received_at=RECEIVED, profiles=PROFILES)


def test_the_platforms_own_format_with_a_bom_and_millisecond_time():
    ms = int(RECEIVED.timestamp() * 1000) - 60_000
    raw = b"\xef\xbb\xbf" + json.dumps({"device": "D1", "ts": ms, "token": "t", "seq": 7,
                                        "values": {"residual_ma": 120, "t1": None}}).encode()
    (entry,) = decode(raw)
    r = entry.record
    assert (r.device_code, r.measured_at, r.values, r.seq, entry.token) == (
        "D1", RECEIVED - timedelta(minutes=1), {"residual_ma": 120.0}, 7, "t")
    assert r.received_at == RECEIVED and r.event is None


def test_a_numeric_device_id_is_text():
    (entry,) = decode({"device": 123456, "ts": "2026-11-30T19:59:00+08:00", "values": {"ia": 3}},
                      topic="firesafe/devices/123456/readings")
    assert entry.record.device_code == "123456"
    assert entry.record.measured_at == datetime(2026, 11, 30, 11, 59, tzinfo=UTC)


def test_the_topic_naming_another_device_and_unknown_channels_are_reasons():
    (entry,) = decode({"device": "D2", "ts": 1764504000, "values": {"ia": 3}})
    assert entry.record is None and entry.detail == "the topic names another device"
    (entry,) = decode({"device": "D1", "ts": 1764504000, "values": {"volts": 3}})
    assert entry.reason == "invalid" and "volts" in entry.detail


def test_a_mistyped_topic_is_an_unknown_topic_not_silence():
    (entry,) = decode({"device": "D1", "ts": 1764504000, "values": {"ia": 3}}, topic="firesafe/device/D1/reading")
    assert entry.record is None and entry.reason == "unknown_topic"


def test_thingsboard_single_object_array_and_flat_telemetry():
    topic = "v1/devices/me/telemetry"
    (one,) = decode({"ts": 1764504000000, "values": {"residual_ma": 50, "rssi": -70}}, topic, username="tok")
    assert one.record.device_code == "" and one.username == "tok"
    assert one.record.measured_at == datetime.fromtimestamp(1764504000, tz=UTC)
    assert one.record.values == {"residual_ma": 50.0}  # unknown keys ignored in this profile
    many = decode([{"ts": 1764504000000, "values": {"t1": 30}}, {"ts": 1764504060000, "values": {"t1": 31}}],
                  topic, username="tok")
    assert [e.record.values["t1"] for e in many] == [30.0, 31.0]
    (flat,) = decode({"ia": 12.5, "ib": 11}, topic, username="tok")
    assert flat.record.values == {"ia": 12.5, "ib": 11.0} and flat.record.measured_at == RECEIVED
    (alarm,) = decode({"ts": 1764504000000, "values": {"alarm": 1, "residual_ma": 420}}, topic, username="tok")
    assert alarm.record.event == "alarm" and alarm.record.values == {"residual_ma": 420.0}


def test_the_property_array_vendor_format_with_units_and_placeholders():
    raw = {"deviceId": 880012, "msgId": 41, "properties": [
        {"key": "A相电流", "value": 12.5, "unit": "A", "timestamp": 1764504000000},
        {"key": "剩余电流", "value": 0.12, "unit": "A", "timestamp": 1764504000000},
        {"key": "A相温度", "value": -9999, "unit": "℃", "timestamp": 1764504000000},
        {"key": "B相温度", "value": "36.5", "unit": "℃", "timestamp": 1764504000000},
        {"key": "信号强度", "value": 21, "unit": "", "timestamp": 1764504000000},
    ]}
    (entry,) = decode(raw, topic="firesafe/devices/880012/properties")
    r = entry.record
    assert r.device_code == "880012" and r.seq == 41
    assert r.values == {"ia": 12.5, "residual_ma": 120.0, "t2": 36.5}
    assert r.measured_at == datetime.fromtimestamp(1764504000, tz=UTC)


def test_device_events_in_the_platform_format():
    (entry,) = decode({"device": "D1", "ts": 1764504000, "event": "alarm", "event_channel": "residual_ma"})
    assert (entry.record.event, entry.record.event_channel, entry.record.values) == ("alarm", "residual_ma", {})
    (entry,) = decode({"device": "D1", "ts": 1764504000, "event": "explode"})
    assert entry.record is None and "event" in entry.detail


@pytest.mark.parametrize(("value", "fmt", "expected"), [
    (1764504000, "auto", datetime(2025, 11, 30, 12, 0, tzinfo=UTC)),
    (1764504000123, "auto", datetime(2025, 11, 30, 12, 0, 0, 123000, tzinfo=UTC)),
    ("1764504000", "s", datetime(2025, 11, 30, 12, 0, tzinfo=UTC)),
    (1764504000000, "ms", datetime(2025, 11, 30, 12, 0, tzinfo=UTC)),
    ("2025-11-30T20:00:00+08:00", "iso", datetime(2025, 11, 30, 12, 0, tzinfo=UTC)),
    ("2025-11-30 20:00:00", "local", datetime(2025, 11, 30, 12, 0, tzinfo=UTC)),
])
def test_time_formats(value, fmt, expected, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert parse_time(value, fmt) == expected


def test_a_local_time_needs_a_profile_that_says_so():
    with pytest.raises(ValueError, match="no time zone"):
        parse_time("2025-11-30 20:00:00", "auto")
    with pytest.raises(ValueError, match="out of range"):
        parse_time(1e20, "auto")


def test_topic_patterns():
    assert topic_match("{prefix}/devices/{device}/readings", "fs/devices/A1/readings", "fs") == "A1"
    assert topic_match("{prefix}/devices/{device}/readings", "fs/devices/A1/reading", "fs") is None
    assert topic_match("v1/devices/{device}/telemetry", "v1/devices/me/telemetry", "fs") == "me"


def test_the_test_box_shows_what_a_sample_becomes():
    profile = Profile(code="x", topic="{prefix}/x/{device}", device="sn", time="t", time_format="local",
                      values="data", channels={"leak": "residual_ma", "temp": "t1"}, scale={"temp": 0.1},
                      placeholders=[65535], unknown_keys="reject", token="", seq="")
    out = preview('{"sn": "S9", "t": "2026-11-30 08:00:00", "data": {"leak": 88, "temp": 365, "t2": 65535}}',
                  profile)
    assert out[0]["ok"] and out[0]["device"] == "S9"
    assert out[0]["values"] == {"residual_ma": 88.0, "t1": 36.5}
    bad = preview('{"sn": "S9", "t": "2026-11-30 08:00:00", "data": {"volts": 3}}', profile)
    assert not bad[0]["ok"] and "volts" in bad[0]["detail"]


def test_sequence_gaps_are_recorded_and_filled_by_late_messages():
    state = note_sequence({}, [1, 2, 3, 7, 8])
    assert state == {"last": 8, "missing": [[4, 6]]} and missing_count(state) == 3
    state = note_sequence(state, [5])
    assert state["missing"] == [[4, 4], [6, 6]] and missing_count(state) == 2
    state = note_sequence(state, [0, 1])  # the device restarted its counter
    assert state == {"last": 1, "missing": []}
