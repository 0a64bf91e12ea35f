"""Payload adapters: raw bytes + topic (+ MQTT user name) -> normalized records.

This module owns decoding. Storage (the reading table, device state, rollups) consumes
``Normalized`` records and never looks at payloads. How a vendor's payload maps onto the
platform's channels is data: a ``Profile`` (built from a ``PayloadProfile`` row, editable in
admin, or from ``BUILTIN_PROFILES``) says where the device id, the time, the sequence number
and each channel are, which time format and units the device uses, and which values are
placeholders to drop. Everything here is pure Python (no database): the ingest core resolves
devices and tokens.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .choices import CHANNELS, INT_CHANNELS, DeadLetterReason


@dataclass(slots=True)
class Normalized:
    """One decoded reading or device event, ready for storage and evaluation."""

    device_code: str
    measured_at: datetime  # aware UTC: device time, or receive time if the payload has none
    received_at: datetime  # aware UTC: when the platform received the message
    values: dict[str, float]  # channel code -> value
    seq: int | None = None
    clock_skewed: bool = False
    event: str | None = None  # "alarm" | "fault" | "restore" for device events
    event_channel: str | None = None


EVENTS = ("alarm", "fault", "restore")
# Earlier device times are a clock that was never set (a reset to 1970), not data.
MIN_TS = datetime(2000, 1, 1, tzinfo=UTC)
# Epoch numbers at or above this are milliseconds (1e11 seconds would be the year 5138).
MS_THRESHOLD = 1e11
BOM = "\ufeff"

TIME_FORMATS = ("auto", "s", "ms", "iso", "local")

# Unit conversions to each channel's unit, for payloads that send a unit with the value.
# channel family -> {unit as sent (lower case): factor to the platform's unit}
_UNITS = {
    "residual_ma": {"ma": 1.0, "a": 1000.0, "μa": 0.001, "ua": 0.001},
    "t": {"°c": 1.0, "℃": 1.0, "c": 1.0, "degc": 1.0},
    "i": {"a": 1.0, "ma": 0.001, "ka": 1000.0},
    "u": {"v": 1.0, "kv": 1000.0, "mv": 0.001},
}


def _family(channel):
    if channel == "residual_ma":
        return "residual_ma"
    if channel in ("t1", "t2", "t3", "t4"):
        return "t"
    if channel in ("ia", "ib", "ic"):
        return "i"
    if channel in ("ua", "ub", "uc"):
        return "u"
    return None


def convert_unit(channel, value, unit):
    """``value`` in ``unit`` converted to the channel's unit; ValueError for a unit we do not know."""
    if unit in (None, ""):
        return value
    unit_key = str(unit).strip().lower()
    family = _family(channel)
    if family is None:
        if unit_key in ("", "次", "count", "times"):
            return value
        raise ValueError(f"unit {unit!r} for {channel}")
    if family == "t" and unit_key in ("°f", "℉", "f", "degf"):
        return (value - 32.0) * 5.0 / 9.0
    factor = _UNITS[family].get(unit_key)
    if factor is None:
        raise ValueError(f"unit {unit!r} for {channel}")
    return value * factor


class DecodeError(Exception):
    def __init__(self, reason, detail, device_code=""):
        super().__init__(detail)
        self.reason, self.detail, self.device_code = reason, str(detail)[:500], device_code


@dataclass(slots=True)
class Entry:
    """One record of a message: decoded (``record``) or not (``reason``/``detail``)."""

    record: Normalized | None
    raw: object = None  # the record's part of the message (for a dead letter)
    token: str | None = None  # the device token the payload carries, if any
    username: str | None = None  # the MQTT user name (a ThingsBoard device's access token), if known
    topic_device: str | None = None  # the device id the topic names, if it names one
    profile: str = ""
    reason: str = ""
    detail: str = ""
    device_code: str = ""


@dataclass
class Profile:
    """A payload mapping (see ``docs/ingest.md``, "Payload profiles")."""

    code: str
    name: str = ""
    topic: str = "{prefix}/devices/{device}/readings"  # MQTT filter; {device} captures the device id
    records: str = ""  # path to the record or array of records ("" = the message)
    device: str = "device"  # path to the device id in a record ("" = from the topic or user name)
    time: str = "ts"
    time_format: str = "auto"
    values: str = "values"  # path to the channel object ("" = the record itself, minus the other fields)
    flat_fallback: bool = False  # a record without ``values`` is its own channel object (ThingsBoard)
    properties: str = ""  # path to a property array: [{key, value, unit, timestamp}]
    property_key: str = "key"
    property_value: str = "value"
    property_unit: str = "unit"
    property_time: str = "timestamp"
    channels: dict = field(default_factory=dict)  # source key -> channel code, or "@alarm"/"@fault"
    scale: dict = field(default_factory=dict)  # source key -> factor
    placeholders: list = field(default_factory=list)  # values meaning "no value" (dropped)
    unknown_keys: str = "reject"  # reject | ignore
    seq: str = "seq"
    token: str = "token"
    event: str = "event"
    event_channel: str = "event_channel"
    user_is_token: bool = False  # the MQTT user name is the device's token (ThingsBoard)

    @classmethod
    def from_model(cls, obj):
        return cls(**{f: getattr(obj, f) for f in PROFILE_FIELDS})


PROFILE_FIELDS = tuple(f for f in Profile.__dataclass_fields__)

# The profiles shipped with the platform (seeded as PayloadProfile rows by a data migration).
BUILTIN_PROFILES = [
    {"code": "firesafe", "name": "本平台格式 (FireSafe JSON)",
     "topic": "{prefix}/devices/{device}/readings"},
    {"code": "thingsboard", "name": "ThingsBoard 遥测 (telemetry)",
     "topic": "v1/devices/{device}/telemetry", "device": "", "values": "values", "flat_fallback": True,
     "time_format": "ms", "unknown_keys": "ignore", "user_is_token": True, "token": "", "seq": "seq",
     "event": "", "event_channel": "",
     "channels": {"alarm": "@alarm", "fault": "@fault"}},
    {"code": "property-array", "name": "属性数组格式 (properties)",
     "topic": "{prefix}/devices/{device}/properties", "device": "deviceId", "time": "timestamp",
     "time_format": "auto", "values": "", "properties": "properties", "unknown_keys": "ignore",
     "seq": "msgId", "token": "", "event": "", "event_channel": "",
     "placeholders": [-9999, 65535, "--", "NaN", ""],
     "channels": {"剩余电流": "residual_ma", "漏电流": "residual_ma",
                  "温度1": "t1", "温度2": "t2", "温度3": "t3", "温度4": "t4",
                  "A相温度": "t1", "B相温度": "t2", "C相温度": "t3", "N相温度": "t4",
                  "A相电流": "ia", "B相电流": "ib", "C相电流": "ic",
                  "A相电压": "ua", "B相电压": "ub", "C相电压": "uc",
                  "电弧次数": "arc_count", "故障码": "faults",
                  "报警状态": "@alarm", "故障状态": "@fault"}},
]


OWN_TOPIC = "{prefix}/devices/{device}/readings"


def builtin_profiles():
    return [Profile(**p) for p in BUILTIN_PROFILES]


# ---------------------------------------------------------------- topics


def topic_match(pattern, topic, prefix):
    """None if ``topic`` does not match ``pattern``; else the device id it names ("" if none)."""
    want = pattern.replace("{prefix}", prefix).split("/")
    have = topic.split("/")
    device = ""
    for i, level in enumerate(want):
        if level == "#":
            return device
        if i >= len(have):
            return None
        if level == "{device}":
            if not have[i]:
                return None
            device = have[i]
        elif level != "+" and level != have[i]:
            return None
    return device if len(have) == len(want) else None


def subscription_filter(pattern, prefix):
    """The MQTT subscription filter of a profile's topic pattern."""
    return pattern.replace("{prefix}", prefix).replace("{device}", "+")


def profile_for_topic(profiles, topic, prefix):
    for p in profiles:
        device = topic_match(p.topic, topic, prefix)
        if device is not None:
            return p, device
    return None, None


# ---------------------------------------------------------------- paths and values


_MISSING = object()


def get_path(data, path, default=_MISSING):
    """``a.b.0.c`` in nested dicts/lists; ``default`` when absent."""
    if not path:
        return data
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.lstrip("-").isdigit() and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return default
    return cur


def _number(value):
    """A finite float from a JSON number or numeric string; None otherwise (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        v = float(value)
    elif isinstance(value, str):
        try:
            v = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return v if math.isfinite(v) else None


def parse_time(value, fmt="auto", tz=None):
    """Device time as aware UTC; ValueError with the reason when it cannot be read.

    ``auto``: numbers are epoch seconds, or milliseconds from 1e11 on; strings are ISO 8601 with a
    zone. ``s``/``ms``: epoch numbers (numeric strings too). ``iso``: ISO 8601 with a zone.
    ``local``: ISO 8601 without a zone (``2026-11-28 20:30:00``), in the platform's time zone.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("time without a time zone")
        return value.astimezone(UTC)
    if fmt in ("auto", "s", "ms"):
        n = _number(value) if not (fmt == "auto" and isinstance(value, str)) else None
        if n is not None:
            ms = fmt == "ms" or (fmt == "auto" and abs(n) >= MS_THRESHOLD)
            try:
                return datetime.fromtimestamp(n / 1000.0 if ms else n, tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise ValueError(f"time {value!r} out of range") from None
        if fmt != "auto" or not isinstance(value, str):
            raise ValueError(f"time {value!r} is not an epoch number")
    if not isinstance(value, str):
        raise ValueError(f"time {value!r} is not a string")
    text = value.strip()
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {value!r} is not ISO 8601") from None
    if ts.tzinfo is None:
        if fmt != "local":
            raise ValueError(f"time {value!r} has no time zone (a profile with time format \"local\" reads it "
                             "as the platform's local time)")
        ts = ts.replace(tzinfo=tz or _local_zone())
    return ts.astimezone(UTC)


def _local_zone():
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)


def strip_bom(data):
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        return data
    if isinstance(data, str) and data.startswith(BOM):
        return data[1:]
    return data


def parse_json(raw):
    """The JSON of a message (bytes or text; a UTF-8 BOM is skipped). DecodeError if it is not."""
    if isinstance(raw, dict | list):
        return raw
    raw = strip_bom(raw)
    try:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise DecodeError(DeadLetterReason.MALFORMED, f"not UTF-8 text: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise DecodeError(DeadLetterReason.MALFORMED, f"malformed JSON: {exc}"[:200]) from None


def device_id(value):
    """A device id from the payload: text, or a whole number (``123456`` -> "123456")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


# ---------------------------------------------------------------- decoding


_OWN_FIELDS = ("device", "time", "seq", "token", "event", "event_channel")


def decode_message(raw, topic="", username=None, *, received_at, profiles, prefix="firesafe", profile=None,
                   topic_device=None, device_implied=False):
    """The records of one message: ``[Entry]``, one per record, in order (never raises).

    ``profile``: decode with this profile (HTTP, replay); else the one whose topic pattern matches
    ``topic``. A message on a topic no profile knows is one entry with reason ``unknown_topic``.
    ``device_implied``: the sender is already known (a device authenticated over HTTP), so a record
    may leave out its device id.
    """
    if profile is None:
        profile, topic_device = profile_for_topic(profiles, topic, prefix) if topic else (profiles[0], "")
        if profile is None:
            return [Entry(None, raw, reason=DeadLetterReason.UNKNOWN_TOPIC,
                          detail=f"no payload profile for topic {topic!r}"[:500])]
    try:
        data = parse_json(raw)
        root = get_path(data, profile.records, None) if profile.records else data
        if isinstance(root, list):
            if not root:
                raise DecodeError(DeadLetterReason.INVALID, "an empty array")
            elements = root
        elif isinstance(root, dict):
            elements = [root]
        else:
            raise DecodeError(DeadLetterReason.INVALID,
                              "a reading must be a JSON object (or a non-empty array of them)")
    except DecodeError as exc:
        return [Entry(None, raw, profile=profile.code, reason=exc.reason, detail=exc.detail)]
    single = len(elements) == 1 and elements[0] is root
    out = []
    for element in elements:
        entry = Entry(None, raw if single else element, username=username, topic_device=topic_device or None,
                      profile=profile.code)
        try:
            entry.record, entry.token = decode_record(element, profile, topic_device=topic_device,
                                                      received_at=received_at, device_implied=device_implied)
        except DecodeError as exc:
            entry.reason, entry.detail, entry.device_code = exc.reason, exc.detail, exc.device_code
        out.append(entry)
    return out


def decode_record(element, profile, *, topic_device=None, received_at, device_implied=False):
    """(Normalized, token) of one record; DecodeError with the reason otherwise."""
    if not isinstance(element, dict):
        raise DecodeError(DeadLetterReason.INVALID, "a reading must be a JSON object")
    code = ""
    if profile.device:
        found = get_path(element, profile.device, None)
        if found is not None:
            code = device_id(found)
            if code is None:
                raise DecodeError(DeadLetterReason.INVALID, f"device id {found!r} is neither text nor a whole number")
    if not code and topic_device and topic_device != "me":
        code = topic_device
    if code and topic_device and topic_device != "me" and topic_device != code:
        raise DecodeError(DeadLetterReason.INVALID, "the topic names another device", code)
    if not code and profile.device and not profile.user_is_token and not device_implied:
        raise DecodeError(DeadLetterReason.INVALID, f"missing \"{profile.device}\"")
    token = get_path(element, profile.token, None) if profile.token else None
    token = token if isinstance(token, str) else None
    # Time: the record's, else the values object's (ThingsBoard's {"ts", "values"}), else receive time.
    raw_time = get_path(element, profile.time, None) if profile.time else None
    if raw_time is not None:
        try:
            measured = parse_time(raw_time, profile.time_format)
        except ValueError as exc:
            raise DecodeError(DeadLetterReason.INVALID, f"\"{profile.time}\": {exc}", code) from None
    else:
        measured = None
    seq = None
    if profile.seq:
        raw_seq = get_path(element, profile.seq, None)
        if raw_seq is not None:
            n = _number(raw_seq)
            if n is None or not n.is_integer() or n < 0:
                raise DecodeError(DeadLetterReason.INVALID, f"\"{profile.seq}\" must be a whole number", code)
            seq = int(n)
    event = event_channel = None
    if profile.event:
        raw_event = get_path(element, profile.event, None)
        if raw_event is not None:
            if raw_event not in EVENTS:
                raise DecodeError(DeadLetterReason.INVALID,
                                  f"\"{profile.event}\" must be one of {', '.join(EVENTS)}", code)
            event = raw_event
            ch = get_path(element, profile.event_channel, None) if profile.event_channel else None
            if ch is not None and ch not in CHANNELS:
                raise DecodeError(DeadLetterReason.INVALID, f"unknown channel {ch!r}"[:200], code)
            event_channel = ch
    values, mapped_event, _unused, prop_time = _values(element, profile, code, allow_empty=event is not None)
    event = event or mapped_event
    if measured is None:
        measured = prop_time
    if measured is None:
        if profile.time and not profile.flat_fallback and not profile.properties:
            raise DecodeError(DeadLetterReason.INVALID, f"missing \"{profile.time}\"", code)
        measured = received_at
    if not values and event is None:
        raise DecodeError(DeadLetterReason.INVALID, "no values", code)
    return Normalized(code, measured, received_at, values, seq=seq, event=event,
                      event_channel=event_channel), token


def _placeholder(profile, value):
    return any(value == p and type(value) is not bool for p in profile.placeholders) if profile.placeholders else False


def _values(element, profile, code, allow_empty=False):
    """({channel: value}, event, event channel, time of the properties) of one record."""
    values, event, event_channel, prop_time = {}, None, None, None
    if profile.properties:
        props = get_path(element, profile.properties, None)
        if not isinstance(props, list) or not props:
            raise DecodeError(DeadLetterReason.INVALID, f"\"{profile.properties}\" must be a non-empty array", code)
        pairs = []
        for prop in props:
            if not isinstance(prop, dict):
                raise DecodeError(DeadLetterReason.INVALID, "a property must be an object", code)
            key = prop.get(profile.property_key)
            if not isinstance(key, str):
                raise DecodeError(DeadLetterReason.INVALID, f"a property without \"{profile.property_key}\"", code)
            pairs.append((key, prop.get(profile.property_value), prop.get(profile.property_unit)))
            t = prop.get(profile.property_time)
            if t is not None:
                try:
                    ts = parse_time(t, profile.time_format)
                except ValueError as exc:
                    raise DecodeError(DeadLetterReason.INVALID, f"property {key}: {exc}", code) from None
                prop_time = ts if prop_time is None else max(prop_time, ts)
    else:
        obj = get_path(element, profile.values, None) if profile.values else None
        if obj is None and (profile.flat_fallback or not profile.values):
            skip = {getattr(profile, f) for f in _OWN_FIELDS if getattr(profile, f)}
            obj = {k: v for k, v in element.items() if k not in skip}
        if allow_empty and (obj is None or obj == {}):
            obj = {}
        elif not isinstance(obj, dict) or not obj:
            raise DecodeError(DeadLetterReason.INVALID, f"\"{profile.values or 'values'}\" must be a non-empty object",
                              code)
        pairs = [(k, v, None) for k, v in obj.items()]
    for key, value, unit in pairs:
        channel = profile.channels.get(key, key if key in CHANNELS else None)
        if channel is None:
            if profile.unknown_keys == "ignore":
                continue
            raise DecodeError(DeadLetterReason.INVALID, f"unknown channel {key!r}"[:200], code)
        if value is None or _placeholder(profile, value):
            continue
        if channel in ("@alarm", "@fault"):
            n = _number(value)
            if n is None:
                raise DecodeError(DeadLetterReason.INVALID, f"{key} must be a number", code)
            if n:
                event = channel[1:]
            elif event is None:
                event = "restore"
            continue
        if channel not in CHANNELS:
            raise DecodeError(DeadLetterReason.INVALID, f"profile maps {key!r} to unknown channel {channel!r}", code)
        if isinstance(value, str) and profile.unknown_keys == "reject":
            raise DecodeError(DeadLetterReason.INVALID, f"{channel} must be a number", code)
        n = _number(value)
        if n is None:
            raise DecodeError(DeadLetterReason.INVALID, f"{key} must be a number", code)
        factor = profile.scale.get(key)
        if isinstance(factor, int | float) and not isinstance(factor, bool):
            n *= factor
        try:
            n = convert_unit(channel, n, unit)
        except ValueError as exc:
            raise DecodeError(DeadLetterReason.INVALID, f"{key}: unknown {exc}", code) from None
        lo, hi = CHANNELS[channel]
        if not lo <= n <= hi:
            raise DecodeError(DeadLetterReason.OUT_OF_RANGE, f"{channel}={n:g} outside {lo}..{hi}", code)
        if channel in INT_CHANNELS:
            if not n.is_integer():
                raise DecodeError(DeadLetterReason.INVALID, f"{channel} must be an integer", code)
            values[channel] = int(n)
        else:
            values[channel] = float(n)
    return values, event, event_channel, prop_time


def preview(sample, profile, *, topic="", received_at=None):
    """What a pasted sample payload becomes under a profile (the admin's test box): a list of dicts."""
    received_at = received_at or datetime.now(UTC)
    topic_device = topic_match(profile.topic, topic, "firesafe") if topic else None
    out = []
    for e in decode_message(sample.encode("utf-8") if isinstance(sample, str) else sample, topic,
                            received_at=received_at, profiles=[profile], profile=profile,
                            topic_device=topic_device):
        if e.record is None:
            out.append({"ok": False, "reason": str(e.reason), "detail": e.detail})
        else:
            r = e.record
            out.append({"ok": True, "device": r.device_code or "(MQTT user name / token)",
                        "measured_at": r.measured_at.isoformat(),
                        "time_from_payload": r.measured_at is not received_at,
                        "values": r.values, "seq": r.seq, "event": r.event, "event_channel": r.event_channel,
                        "token": bool(e.token)})
    return out
