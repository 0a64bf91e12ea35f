"""The ingest core, one function for HTTP and MQTT: decode → validate → persist → rollups → evaluate.

``ingest_batch(items, source=...)`` takes raw messages (bytes/str from MQTT, dicts from HTTP)
and runs in ONE transaction: valid readings are written (COPY into a staging table then
``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL; batched ``INSERT OR IGNORE`` on
SQLite), the hourly rollups are upserted from the rows actually inserted, the threshold
rules are evaluated and alarms raised/updated/cleared, and rejected messages are kept in
the dead-letter table. A message is acknowledged to the broker only after this returns.
"""
import gc
import hmac
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import adapters
from .areas import area_rollups_of
from .choices import CHANNEL_NAMES, CHANNELS, INT_CHANNELS, ROLLUP_CHANNELS, DeadLetterReason
from .fastlane import current as _current_lane
from .models import DeadLetter, Device, hash_token

log = logging.getLogger(__name__)

COLUMNS = ("device_id", "ts", *CHANNEL_NAMES)


def max_future():
    return timedelta(seconds=getattr(settings, "MONITORING_MAX_FUTURE_SECONDS", 300))


def max_skew():
    """Device time further than this from receive time is a wrong clock (the reading is flagged)."""
    return timedelta(seconds=getattr(settings, "MONITORING_CLOCK_SKEW_SECONDS", 300))


_profiles_cache = [None, 0.0]
PROFILES_TTL = 5.0


def active_profiles():
    """The payload profiles in use (``PayloadProfile`` rows, else the shipped ones), kept 5 s per process."""
    import time

    cached, at = _profiles_cache
    if cached is not None and time.monotonic() - at < PROFILES_TTL:
        return cached
    from .models import PayloadProfile

    try:
        cached = [p.as_profile() for p in PayloadProfile.objects.filter(is_active=True)]
    except Exception:  # noqa: BLE001 - a database without the table yet (migrating): the shipped ones
        cached = None
    if not cached:
        cached = adapters.builtin_profiles()
    _profiles_cache[:] = [cached, time.monotonic()]
    return cached


def forget_profiles(**kwargs):
    _profiles_cache[:] = [None, 0.0]


def topic_prefix():
    import os

    return os.environ.get("MQTT_TOPIC_PREFIX", "firesafe")


class Rejected(Exception):
    def __init__(self, reason, detail, device_code="", device=None):
        super().__init__(detail)
        self.reason, self.detail, self.device_code, self.device = reason, detail, device_code, device


class Item:
    """One reading (or one message that could not be read) and what became of it."""

    __slots__ = ("raw", "topic", "status", "reason", "detail", "device", "device_code", "ts", "row", "_values",
                 "entry", "seq", "skewed", "received", "measured")

    def __init__(self, raw, topic=""):
        self.raw, self.topic = raw, topic
        self.status = self.reason = self.detail = self.device_code = ""  # status: stored | duplicate | rejected
        self.device = self.ts = self.row = self._values = None
        # The decoded record (plain path), sequence number, clock skew flag, receive and device time.
        self.entry = self.seq = self.received = self.measured = None
        self.skewed = False

    @property
    def values(self):
        """The reading's channels with a value, by name (built from ``row`` when first asked for)."""
        if self._values is None:
            self._values = {} if self.row is None else {
                name: value for name, value in zip(CHANNEL_NAMES, self.row[2:], strict=True) if value is not None}
        return self._values


@dataclass
class IngestResult:
    items: list
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    alarms_opened: list = field(default_factory=list)
    bounds: list = None  # where each message's items start in ``items`` (and the end)

    def as_dicts(self):
        out = []
        for i, it in enumerate(self.items):
            row = {"index": i, "status": it.status}
            if it.status == "rejected":
                row.update(reason=it.reason, detail=it.detail)
            out.append(row)
        return out


# The fast path: msgspec decodes and type/range-checks a well-formed reading in C. Anything it does not
# accept (or that fails a check below) goes through the plain path, which gives the exact reason, so the
# fast path changes nothing but the speed: it only ever accepts what the plain path accepts, with the
# same values (floats for measurements, ints for counters).
def _channel_type(name, lo, hi):
    kind = int if name in INT_CHANNELS else float
    return Annotated[kind, msgspec.Meta(ge=lo, le=hi)] | None


FastValues = msgspec.defstruct(
    "FastValues", [(name, _channel_type(name, *CHANNELS[name]), None) for name in CHANNEL_NAMES],
    forbid_unknown_fields=True)
# An RFC 3339 time stamp with its zone is parsed in C; epoch seconds are numbers. A naive or otherwise
# unusual time stamp fails here and goes to the plain path, which accepts or rejects it with the reason.
# The express lane reads its fields by position (``msgspec.structs.astuple``): keep their order.
FastReading = msgspec.defstruct(
    "FastReading", [("device", str), ("ts", Annotated[datetime, msgspec.Meta(tz=True)] | int | float),
                    ("token", str), ("values", FastValues), ("seq", Annotated[int, msgspec.Meta(ge=0)] | None, None),
                    ("event", str | None, None)])
_fast_decoder = msgspec.json.Decoder(FastReading | list[FastReading])
_astuple = msgspec.structs.astuple
_decode_fast = _fast_decoder.decode
_FAST_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)


# Readings older than this are a device clock that was never set (or a forged message), not data.
MIN_TS = datetime(2000, 1, 1, tzinfo=UTC)


def _parse_ts(value):
    """The reading's time in UTC, or ``None`` if it is not a time stamp from ``MIN_TS`` on.

    Out-of-range values (``1e20`` seconds, year 0001 east of UTC) are ``None`` too, not an error.
    """
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            ts = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, str):
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if ts.tzinfo is None:
                return None
            ts = ts.astimezone(UTC)
        elif isinstance(value, datetime) and value.tzinfo is not None:
            ts = value.astimezone(UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return ts if ts >= MIN_TS else None


# What one batch needs of a device: defined with the express lane, so that its build (``fastlane``) reads
# a device's fields as C struct members; the same class as plain Python where the lane is not built.
DeviceRow = _current_lane().DeviceRow


def _decode(item: Item):
    try:
        raw = adapters.parse_json(item.raw)
    except adapters.DecodeError as exc:
        raise Rejected(exc.reason, exc.detail) from None
    if not isinstance(raw, dict | list) or (isinstance(raw, list) and not raw):
        raise Rejected(DeadLetterReason.INVALID, "a reading must be a JSON object (or a non-empty array of them)")
    return raw


def _validate(item: Item, entry, devices: dict, auth_device, now, bump=0):
    """Check a decoded record against its device (active, token, topic) and place it in time."""
    if entry.record is None:
        raise Rejected(entry.reason, entry.detail, entry.device_code)
    record = entry.record
    code = record.device_code
    if not code and auth_device is not None:
        code = auth_device.code
    if not code and entry.username and entry.username in _username_codes:
        code = _username_codes[entry.username]
    if not code:
        raise Rejected(DeadLetterReason.INVALID if not entry.username else DeadLetterReason.BAD_TOKEN,
                       "missing \"device\"" if not entry.username else "no device has this access token")
    device = devices.get(code)
    if device is None or not device.is_active:
        raise Rejected(DeadLetterReason.UNKNOWN_DEVICE, f"unknown device {code!r}"[:200], code)
    if auth_device is not None:
        if auth_device.pk != device.pk:
            raise Rejected(DeadLetterReason.OTHER_DEVICE, "the token belongs to another device", code, device)
    elif not _identity_ok(device, entry):
        raise Rejected(DeadLetterReason.BAD_TOKEN, "wrong or missing device token", code, device)
    received = record.received_at
    ts = record.measured_at
    skewed = abs(ts - received) > max_skew()
    if skewed and (ts > received or ts < MIN_TS):
        # Ahead of the platform, or before 2000 (a clock reset to 1970): the device's clock is wrong.
        # Stored and evaluated at receive time. A clock that is behind keeps its time: it cannot be
        # told apart from a reading that waited in the broker's queue (or a gateway's stored data).
        ts = received + timedelta(microseconds=bump)  # one batch's re-timed readings stay apart, in order
    item.measured, item.received, item.skewed, item.seq = record.measured_at, received, skewed, record.seq
    item.device, item.ts, item._values = device, ts, dict(record.values)
    item.row = (device.id, ts, *map(record.values.get, CHANNEL_NAMES)) if record.values else None


# MQTT user name (a ThingsBoard access token) -> device code, resolved once per batch before the locks.
_username_codes = {}


def _identity_ok(device, entry):
    """The record is the device's: its payload token, its MQTT user name (an access token), or its own
    topic on a broker that authenticates devices (``MQTT_TOPIC_AUTHENTICATED``: the ACL lets only the
    device publish there)."""
    if entry.token is not None:
        return bool(device.token_hash) and _token_ok(device, entry.token)
    if entry.username and device.token_hash and _token_ok(device, entry.username):
        return True
    return bool(entry.topic_device) and entry.topic_device == device.code and getattr(
        settings, "MQTT_TOPIC_AUTHENTICATED", False)


def _token_ok(device, token):
    """SHA-256 of the token against the stored hash. The token that matched is kept on the device object
    (``ok_token``: the consumer's copy lives until the directory version moves) and compared the next
    time; a wrong one is not kept, so a stream of wrong tokens costs a hash each and never grows the
    process."""
    if token == getattr(device, "ok_token", None):  # (a model instance has none until it matched)
        return True
    ok = hmac.compare_digest(hash_token(token), device.token_hash)
    if ok:
        device.ok_token = token
    return ok


def dead_letter_payload(raw) -> tuple[str, str]:
    """``(payload, encoding)`` for a dead letter: any bytes can be stored, on any database.

    UTF-8 text without NUL is kept as text (at most 10,000 characters); anything else — a binary
    frame such as GB/T 26875's, invalid UTF-8, a NUL that PostgreSQL text cannot hold — is kept
    whole (up to 10,000 bytes) as base64, so one hostile message can never stop the ingest.
    """
    import base64

    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)[:10000]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\x00" not in text:
            return text, "text"
        return base64.b64encode(data).decode("ascii"), "base64"
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = json.dumps(raw, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(raw)
    if "\x00" in text:
        return base64.b64encode(text.encode("utf-8", "surrogatepass")[:10000]).decode("ascii"), "base64"
    return text[:10000], "text"


def safe_detail(text) -> str:
    """A reason fit for any database column: no NUL, at most 500 characters."""
    return str(text).replace("\x00", "\\x00")[:500]


# ---------------------------------------------------------------- persistence


STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS monitoring_reading_stage2 (pos integer, device_id bigint, ts timestamptz, "
    + ", ".join(f"{c} {'integer' if c in INT_CHANNELS else 'double precision'}" for c in CHANNEL_NAMES)
    + ", received_at timestamptz, seq bigint, clock_skewed boolean) ON COMMIT DELETE ROWS"
)
EXTRA_COLUMNS = ("received_at", "seq", "clock_skewed")
ALL_COLUMNS = (*COLUMNS, *EXTRA_COLUMNS)


def _persist_staged(rows, extra):
    """The fallback: COPY into a temp staging table, then insert-or-ignore in SQL (cannot collide).

    Returns the positions (in ``rows``) of the rows actually inserted.
    """
    cols = ", ".join(ALL_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # Every batch: a rolled-back transaction may have taken an earlier CREATE with it.
        cursor.execute(STAGE_DDL)
        with raw.copy(f"COPY monitoring_reading_stage2 (pos, {cols}) FROM STDIN") as copy:
            for pos, row in enumerate(rows):
                copy.write_row((pos, *row, *extra(pos)))
        cursor.execute(
            f"WITH ins AS (INSERT INTO monitoring_reading ({cols}) SELECT {cols} FROM monitoring_reading_stage2 "
            "ON CONFLICT DO NOTHING RETURNING device_id, ts) "
            # Positions, not timestamps: integers are far cheaper to send back and parse.
            "SELECT s.pos FROM ins JOIN monitoring_reading_stage2 s ON s.device_id = ins.device_id AND s.ts = ins.ts"
        )
        inserted = sorted(seq for (seq,) in cursor.fetchall())
        cursor.execute("DELETE FROM monitoring_reading_stage2")  # for callers inside a longer transaction
    return inserted


# Readings already stored in the time ranges the batch covers (a range per run of a device's readings,
# so a late reading does not widen the range of the current ones): an index-only range scan each.
# (OFFSET 0 keeps the planner from turning it into a hash join over the whole table.)
EXISTING_SQL = (
    "SELECT r.device_id, r.ts FROM json_array_elements(%s::json) AS k CROSS JOIN LATERAL ("
    "SELECT device_id, ts FROM monitoring_reading WHERE device_id = (k->>0)::bigint "
    "AND ts BETWEEN (k->>1)::timestamptz AND (k->>2)::timestamptz OFFSET 0) AS r"
)
# Rollups travel as one array literal per column (built with str.join; parsed by array_in in C):
# far cheaper for both sides than adapting each element, or extracting fields from JSON.
_UPSERT = (
    "INSERT INTO {table} AS t ({key}, channel, hour, min, max, sum, count) "
    "SELECT d, c, to_timestamp(h), mn, mx, sm, n FROM unnest(%s::bigint[], %s::text[], %s::bigint[], "
    "%s::float8[], %s::float8[], %s::float8[], %s::integer[]) AS r(d, c, h, mn, mx, sm, n) "
    "ON CONFLICT ({key}, channel, hour) DO UPDATE SET min = LEAST(t.min, EXCLUDED.min), "
    "max = GREATEST(t.max, EXCLUDED.max), sum = t.sum + EXCLUDED.sum, count = t.count + EXCLUDED.count"
)
ROLLUP_UPSERT = _UPSERT.format(table="monitoring_hourlyrollup", key="device_id")
AREA_UPSERT = _UPSERT.format(table="monitoring_areahourlyrollup", key="township_id")
_SQLITE_UPSERT = (
    "INSERT INTO {table} ({key}, channel, hour, min, max, sum, count) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT ({key}, channel, hour) DO UPDATE SET min = min({table}.min, excluded.min), "
    "max = max({table}.max, excluded.max), sum = {table}.sum + excluded.sum, count = {table}.count + excluded.count"
)


def _array_literal(values):
    """A PostgreSQL array literal of ints, floats (repr round-trips) or plain identifiers."""
    return "{" + ",".join(map(repr, values) if values and isinstance(values[0], float) else map(str, values)) + "}"


_ROLLUP_INDEX = tuple((i, name) for i, name in enumerate(CHANNEL_NAMES, start=2) if name in ROLLUP_CHANNELS)
RANGE_GAP = timedelta(hours=1)
_HOUR = timedelta(hours=1)


def _hour(ts):
    if ts.tzinfo is not UTC:
        ts = ts.astimezone(UTC)
    return ts.replace(minute=0, second=0, microsecond=0)


def _figures(col):
    """(min, max, sum, count) of a column's values, None when it has none."""
    if None in col:
        if col.count(None) == len(col):  # a channel the device does not have: no per-value loop
            return None
        col = [v for v in col if v is not None]
        if not col:
            return None
    return min(col), max(col), sum(col), len(col)


def rollups_of(rows):
    """min/max/sum/count per (device, channel, UTC hour) of reading rows, sorted by that key.

    The hour is in epoch seconds. Rows are grouped by device first; a device's readings of a batch
    usually fall in one hour, and then need no per-row hour at all.
    """
    by_device = {}
    for r in rows:
        group = by_device.get(r[0])
        if group is None:
            by_device[r[0]] = [r]
        else:
            group.append(r)
    out = []
    append = out.append
    for device_id, group in by_device.items():
        stamps = [r[1] for r in group]
        first, last = _hour(min(stamps)), _hour(max(stamps))
        if first == last:
            parts = ((first, group),)
        else:
            by_hour = defaultdict(list)
            for r in group:
                by_hour[_hour(r[1])].append(r)
            parts = by_hour.items()
        for hour, part in parts:
            columns = list(zip(*part, strict=True))
            epoch = int(hour.timestamp())
            for i, name in _ROLLUP_INDEX:
                f = _figures(columns[i])
                if f is not None:
                    append((device_id, name, epoch, float(f[0]), float(f[1]), float(f[2]), f[3]))
    out.sort(key=_rollup_key)  # one lock order for concurrent upserts
    return out


def _rollup_key(a):
    return a[0], a[1], a[2]


def _merged(agg):
    """Sorted rollup rows with one row per (device, channel, hour): one upsert may not touch a row twice."""
    out = []
    for row in agg:
        if out and _rollup_key(out[-1]) == _rollup_key(row):
            k, c, h, lo, hi, sm, n = out[-1]
            out[-1] = (k, c, h, min(lo, row[3]), max(hi, row[4]), sm + row[5], n + row[6])
        else:
            out.append(row)
    return out


def _ranges(rows):
    """[device id, first ts, last ts] per run of a device's readings (gaps over ``RANGE_GAP`` split runs)."""
    stamps = defaultdict(list)
    for r in rows:
        stamps[r[0]].append(r[1])
    out = []
    for device_id, seq in stamps.items():
        seq.sort()
        lo = prev = seq[0]
        for ts in seq[1:]:
            if ts - prev > RANGE_GAP:
                out.append([device_id, lo.isoformat(), prev.isoformat()])
                lo = ts
            prev = ts
        out.append([device_id, lo.isoformat(), prev.isoformat()])
    return out


COPY_TYPES = ["int8", "timestamptz", *("int4" if c in INT_CHANNELS else "float8" for c in CHANNEL_NAMES),
              "timestamptz", "int8", "bool"]


def _typed(row):
    """A row with floats for the measurements and ints for the counters (binary COPY wants exact types)."""
    return (row[0], row[1], *(None if v is None else int(v) if c in INT_CHANNELS else float(v)
                              for c, v in zip(CHANNEL_NAMES, row[2:], strict=True)))


def _store_postgresql(rows, check=None, extra=None):
    """Skip the rows already stored, COPY the others straight into the table (no rollups).

    ``check``: the rows to look up (None: all). A row newer than its device's high-water mark cannot
    be stored yet (every ingest path holds the batch's device rows locked and moves the mark in the same
    transaction), so only the others are looked up: none at all in the usual, in-order case. Any other
    writer that stored one of these readings makes the ``COPY`` fail on the primary key, and
    ``ingest_batch`` then runs the batch again through ``_persist_staged``, which cannot collide.
    Returns the positions (in ``rows``) of the rows inserted and those rows.
    """
    connection.ensure_connection()
    # Server-side binding: Django's cursors quote parameters into the SQL text.
    with psycopg.Cursor(connection.connection) as cursor:
        if check is None:
            check = rows
        existing = ()
        if check:
            cursor.execute(EXISTING_SQL, [json.dumps(_ranges(check))])
            existing = {(d, ts) for d, ts in cursor.fetchall()}
        if existing:
            positions = [i for i, r in enumerate(rows) if (r[0], r[1]) not in existing]
            rows = [rows[i] for i in positions]
        else:
            positions = range(len(rows))
        if rows:
            # Binary COPY: no text formatting of floats and timestamps on either side.
            with cursor.copy(COPY_SQL) as copy:
                copy.set_types(COPY_TYPES)
                write = copy.write_row
                if type(extra) is tuple:  # the same for every row (one batch's receive time)
                    for row in rows:
                        write(row + extra)
                else:
                    for i, row in zip(positions, rows, strict=True):
                        write(row + extra(i))
    return positions, rows


COPY_SQL = f"COPY monitoring_reading ({', '.join(ALL_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
DEVICE_STATE_CTE = (
    "dev AS (UPDATE monitoring_device d SET eval_state = COALESCE(u.eval_state::jsonb, d.eval_state), "
    "last_seen = u.last_seen, newest_reading = u.newest "
    "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
    "AS u(id, eval_state, last_seen, newest) WHERE d.id = u.id)"
)


def _rollup_params(agg):
    return [_array_literal(col) for col in zip(*agg, strict=True)]


def _device_state_params(devices):
    return [[d.pk for d in devices],
            [json.dumps({"s": d.streaks}) if d.state_changed else None for d in devices],
            [d.last_seen for d in devices],
            [d.newest for d in devices]]


def _finish_postgresql(agg, area, devices):
    """The batch's device and township rollups and its devices' state in ONE statement."""
    ctes, params = [], []
    if agg:
        ctes.append("roll AS (" + ROLLUP_UPSERT + ")")
        params += _rollup_params(agg)
    if area:
        ctes.append("area AS (" + AREA_UPSERT + ")")
        params += _rollup_params(area)
    if devices:
        ctes.append(DEVICE_STATE_CTE)
        params += _device_state_params(devices)
    if ctes:
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute("WITH " + ", ".join(ctes) + " SELECT 1", params)


def write_rollups(agg, area):
    """Upsert device and township rollups (the per-batch deltas) outside the one-statement path."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        _finish_postgresql(agg, area, [])
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for table, key, rows in (("monitoring_hourlyrollup", "device_id", agg),
                                 ("monitoring_areahourlyrollup", "township_id", area)):
            if rows:
                cursor.executemany(_SQLITE_UPSERT.format(table=table, key=key),
                                   [(k, c, adapt(datetime.fromtimestamp(h, tz=UTC)), *v) for k, c, h, *v in rows])


def save_device_state(devices):
    """Write the evaluation state, last-seen and high-water mark of a batch's devices (one statement)."""
    devices = [d for d in devices if d.state_changed or d.seen_changed or d.newest_changed]
    if not devices:
        return
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        _finish_postgresql([], [], devices)
        return
    params = [
        (json.dumps({"s": d.streaks}) if d.state_changed else None, connection.ops.adapt_datetimefield_value(d.last_seen),
         connection.ops.adapt_datetimefield_value(d.newest), d.pk)
        for d in devices
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE monitoring_device SET eval_state = COALESCE(%s, eval_state), last_seen = %s, "
            "newest_reading = %s WHERE id = %s", params)


def _persist_sqlite(rows, extra):
    """Insert-or-ignore on SQLite; returns the positions (in ``rows``) of the rows inserted."""
    if not rows:
        return []
    by_device = defaultdict(list)
    for row in rows:
        by_device[row[0]].append(row[1])
    existing = set()
    with connection.cursor() as cursor:
        for device_id, stamps in by_device.items():
            cursor.execute("SELECT ts FROM monitoring_reading WHERE device_id = %s AND ts >= %s AND ts <= %s",
                           [device_id, connection.ops.adapt_datetimefield_value(min(stamps)),
                            connection.ops.adapt_datetimefield_value(max(stamps))])
            for (ts,) in cursor.fetchall():
                existing.add((device_id, _as_utc(ts)))
        positions = [i for i, r in enumerate(rows) if (r[0], r[1]) not in existing]
        placeholders = ", ".join(["%s"] * len(ALL_COLUMNS))
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT OR IGNORE INTO monitoring_reading ({', '.join(ALL_COLUMNS)}) VALUES ({placeholders})",
            [(*_sqlite_row(rows[i]), adapt(e[0]), e[1], e[2])
             for i in positions for e in (extra(i),)],
        )
    return positions


def _as_utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _sqlite_row(r):
    return (r[0], connection.ops.adapt_datetimefield_value(r[1]), *r[2:])


def store_readings(rows, *, staged=False, check=None, received=None, extra=None):
    """Write reading rows (typed, unique (device, ts), ts aware UTC) without their rollups.

    ``check``: the rows that may be stored already (None: all); the others are newer than their
    device's high-water mark. ``received``: the receive time of every row (default now), or
    ``extra``: per row ``(received_at, seq, clock_skewed)``. Returns the positions in ``rows`` of
    the rows actually inserted.
    """
    if not rows:
        return []
    if extra is None:
        same = (received or timezone.now(), None, False)
        extra_of = lambda _i: same  # noqa: E731
    else:
        same = None
        extra_of = extra.__getitem__
    if connection.vendor == "postgresql":
        if staged:
            return _persist_staged(rows, extra_of)
        return _store_postgresql(rows, check, same if same is not None else extra_of)[0]
    return _persist_sqlite(rows, extra_of)


def persist_rows(rows, *, staged=False, typed=False):
    """Write reading rows (tuples in COLUMNS order) and their device and township rollups.

    For callers outside the ingest core (demo data). ``typed``: the values are already floats
    (measurements) and ints (counters). Returns the positions in ``rows`` of the rows inserted.
    """
    if not rows:
        return set()
    if not typed:
        rows = [_typed(r) for r in rows]
    positions = store_readings(rows, staged=staged)
    agg = rollups_of([rows[i] for i in positions])
    townships = dict(Device.objects.filter(pk__in={r[0] for r in rows}).values_list("pk", "institution__township_id"))
    write_rollups(agg, area_rollups_of(agg, townships))
    return set(positions)


# ---------------------------------------------------------------- the pipeline
#
# Two stages: ``prepare_batch`` is pure Python (no database): decode, check everything that does not need the
# device's row, group by device, and compute each device's hourly aggregates and column extremes;
# ``write_batch`` takes the device locks, checks devices and tokens, stores, upserts the rollups,
# evaluates the thresholds and commits. ``ingest_batch`` runs one after the other.

_device_ids = {}  # device code -> primary key, remembered from earlier batches (checked under the lock)


class _Group:
    """The fast-decoded readings of one device code in a batch, in arrival order."""

    __slots__ = ("code", "items", "values", "src", "tokens", "dups", "rows", "row_id", "lo", "hi", "agg",
                 "extremes")

    def __init__(self, code):
        self.code = code
        self.items, self.values, self.src, self.tokens, self.dups = [], [], [], set(), []
        self.rows, self.row_id = None, _device_ids.get(code)
        self.lo = self.hi = self.agg = self.extremes = None


class Prepared:
    __slots__ = ("items", "groups", "plain", "codes", "now", "latest", "auth_device", "source", "raw",
                 "topics", "given_now", "usernames", "received", "prefix", "profile", "dead_letters", "bounds")


_ROLLUP_VALUE_INDEX = frozenset(i for i, name in enumerate(CHANNEL_NAMES) if name in ROLLUP_CHANNELS)


def _aggregate(g):
    """The time range and per-column (min, max) of one device's readings (for the threshold screen)."""
    stamps = [it.ts for it in g.items]
    g.lo, g.hi = min(stamps), max(stamps)
    values = g.values
    if len(values) == 1:
        g.extremes = None  # one reading: the screen looks at the row itself
        return
    extremes = {}
    for i, col in enumerate(zip(*values, strict=True), start=2):
        f = _figures(col)
        if f is not None:
            extremes[i] = (f[0], f[1])
    g.extremes = extremes


_topic_codes = {}  # prefix -> {topic: the device id it names in the platform's own format, or ""}


def prepare_batch(raw_items, topics=None, *, source="mqtt", auth_device=None, now=None, usernames=None,
                  received=None, prefix=None, profile=None):
    """Stage one (no database): decode and check what needs no device row; group by device.

    ``usernames``/``received``: per message, the MQTT user name (if the transport knows it) and the
    receive time (default ``now``). ``profile``: decode every message with this payload profile (HTTP,
    replay) instead of choosing one by topic.
    """
    prep = Prepared()
    prep.raw, prep.topics, prep.given_now = raw_items, topics, now
    prep.usernames, prep.received, prep.profile = usernames, received, profile
    prep.dead_letters = True
    prep.bounds = bounds = []
    prep.prefix = prefix = prefix or topic_prefix()
    prep.now = now = now or timezone.now()
    skew = max_skew()
    prep.latest = latest = now + skew
    earliest = now - skew
    prep.auth_device, prep.source = auth_device, source
    items, plain, groups, codes, keys = [], [], {}, set(), {}
    topic_code = _topic_codes.get(prefix)
    if topic_code is None or len(topic_code) > 200000:  # kept across batches (a topic per device)
        topic_code = _topic_codes[prefix] = {}
    own_topic = adapters.OWN_TOPIC
    # HTTP items are dicts and may omit "device"; other profiles and user names: the plain path.
    fast = auth_device is None and profile is None
    decode = _decode_fast
    for i, raw in enumerate(raw_items):
        bounds.append(len(items))
        topic = topics[i] if topics else ""
        data = None
        if topic:
            named = topic_code.get(topic)
            if named is None:
                named = topic_code[topic] = adapters.topic_match(own_topic, topic, prefix) or ""
        else:
            named = None
        rec = received[i] if received else None
        if rec is not None:
            latest, earliest = rec + skew, rec - skew
        else:
            rec = now
        if fast and named != "" and not (usernames and usernames[i]):
            try:
                data = decode(raw)
            except (*_FAST_ERRORS, TypeError):
                data = None
            if type(data) is list and not data:
                data = None
        if data is None:
            _prepare_plain(prep, i, raw, topic, items, plain, codes, len(items))
            continue
        single = type(data) is not list
        readings = (data,) if single else data
        for index, r in enumerate(readings):
            item = Item(raw if single else None, topic)
            items.append(item)
            code = r.device
            ts = r.ts
            if type(ts) is not datetime or ts.tzinfo is not UTC or ts < MIN_TS:
                ts = _parse_ts(ts)
            values = _astuple(r.values)
            seq = len(items) - 1
            # A time behind the receive time by more than the skew keeps its time (a queued reading or a
            # slow clock): flagged here; one ahead is re-timed by the plain path.
            if (ts is None or ts > latest or (named and named != code) or r.event is not None
                    or values.count(None) == len(values)):
                # Not accepted as is: the plain path decides, with the exact reason if it rejects.
                plain.append((seq, item, (raw, index, single)))
                codes.add(code)
                continue
            g = groups.get(code)
            if g is None:
                g = groups[code] = _Group(code)
            g.tokens.add(r.token)
            key = (code, ts)
            if key in keys:
                # Repeated in the batch: a duplicate if the device and its token check out (else the
                # plain path sorts the group out in arrival order).
                g.dups.append((seq, item, (raw, index, single)))
                continue
            keys[key] = True
            item.ts = item.measured = ts
            item.received, item.seq = rec, r.seq
            if ts < earliest:
                item.skewed = True
            g.items.append(item)
            g.values.append(values)
            g.src.append((seq, raw, index, single))
    for g in groups.values():
        if not g.items:
            continue
        _aggregate(g)
        if g.row_id is not None:
            pk = g.row_id
            g.rows = rows = [(pk, it.ts, *values) for it, values in zip(g.items, g.values, strict=True)]
            for it, row in zip(g.items, rows, strict=True):
                it.row = row
    bounds.append(len(items))
    codes.update(groups)
    if auth_device is not None:
        codes.add(auth_device.code)
    prep.items, prep.plain, prep.groups, prep.codes = items, plain, groups, codes
    return prep


def _entries(prep, i, raw, topic):
    """The message's records, decoded by its payload profile (``adapters``)."""
    username = prep.usernames[i] if prep.usernames else None
    received = (prep.received[i] if prep.received else None) or prep.now
    if prep.profile is not None:
        return adapters.decode_message(raw, topic, username, received_at=received, profiles=[prep.profile],
                                       profile=prep.profile, topic_device=None,
                                       device_implied=prep.auth_device is not None)
    return adapters.decode_message(raw, topic, username, received_at=received, profiles=active_profiles(),
                                   prefix=prep.prefix, device_implied=prep.auth_device is not None)


def _prepare_plain(prep, i, raw, topic, items, plain, codes, seq):
    entries = _entries(prep, i, raw, topic)
    # One message may carry one reading or an array of readings (a gateway's batch).
    for n, entry in enumerate(entries):
        sub = Item(raw if len(entries) == 1 else entry.raw, topic)
        sub.entry = entry
        sub.seq = n
        items.append(sub)
        if entry.record is None:
            _reject(sub, Rejected(entry.reason, entry.detail, entry.device_code))
            continue
        plain.append((seq, sub, entry))
        if entry.record.device_code:
            codes.add(entry.record.device_code)


def _group_ok(g, device):
    if not g.items or device is None or not device.is_active or not device.token_hash or len(g.tokens) != 1:
        return False
    return _token_ok(device, next(iter(g.tokens)))


def write_batch(prep, *, staged=False):
    """Stage two: check devices and tokens, store, mark hours for the rollups, thresholds, device state."""
    from .store import after_store, directory

    now = prep.now
    result = IngestResult(items=prep.items, bounds=prep.bounds)
    _resolve_usernames(prep)
    with transaction.atomic():
        devices = directory(prep.codes)  # not locked: ``after_store`` locks the devices that may alarm
        auth_device = prep.auth_device
        if auth_device is not None:
            auth_device = devices.get(auth_device.code, auth_device)
        groups, plain = [], list(prep.plain)
        for code, g in prep.groups.items():
            device = devices.get(code)
            if not _group_ok(g, device):
                # Unknown, inactive, or a token that is not the device's: each reading gets its reason.
                plain.extend((src[0], it, src[1:]) for it, src in zip(g.items, g.src, strict=True))
                plain.extend(g.dups)
                continue
            for _seq, it, _src in g.dups:
                it.status = "duplicate"
            if g.row_id != device.pk:
                g.rows = rows = [(device.pk, it.ts, *values) for it, values in zip(g.items, g.values, strict=True)]
                for it, row in zip(g.items, rows, strict=True):
                    it.row = row
            _device_ids[code] = device.pk
            groups.append((device, g))
        by_device = {device: g.items for device, g in groups}
        extremes = {device: g.extremes for device, g in groups}
        plain.sort(key=_first)  # arrival order: the first of repeated readings is the one stored
        plain_items = _validate_plain(prep, plain, devices, auth_device, by_device, extremes)
        rows, check, extra = [], [], []
        for device, g in groups:
            rows += g.rows
            # Per row: receive time, sequence number, clock flagged wrong (stored in the same COPY).
            extra += [(it.received or now, it.seq, it.skewed) for it in g.items]
            if device.newest is None or g.lo <= device.newest:
                check += g.rows
        events = [it for it in plain_items if it.entry.record.event is not None]
        if events:  # a device event without measured values stores no reading row
            plain_items = [it for it in plain_items if it.row is not None]
            for it in events:
                if it.row is None:
                    it.status = "stored"
                    for device, its in list(by_device.items()):
                        if it in its:
                            by_device[device] = [x for x in its if x is not it]
        for it in plain_items:
            rows.append(it.row)
            extra.append((it.received or now, it.seq, bool(it.skewed)))
            device = it.device
            if device.newest is None or it.ts <= device.newest:
                check.append(it.row)
        positions = store_readings(rows, staged=staged, check=check, extra=extra)
        if len(positions) == len(rows):
            for _device, g in groups:
                for it in g.items:
                    it.status = "stored"
            for it in plain_items:
                it.status = "stored"
        else:  # some were stored already: statuses one by one; only what was inserted goes on
            inserted = set(positions)
            stored = {(rows[i][0], rows[i][1]) for i in inserted}
            for device, g in groups:
                for it in g.items:
                    it.status = "stored" if (device.pk, it.ts) in stored else "duplicate"
            for it in plain_items:
                it.status = "stored" if (it.device.pk, it.ts) in stored else "duplicate"
            by_device = {d: kept for d, items in by_device.items()
                         if (kept := [it for it in items if it.status == "stored"])}
            extremes = {d: None for d in by_device}
        dead = [
            DeadLetter(received_at=now, source=prep.source, topic=it.topic[:300],
                       device_code=(it.device_code or "")[:64], device_id=it.device.pk if it.device is not None else None,
                       reason=it.reason, detail=safe_detail(it.detail),
                       **dict(zip(("payload", "payload_encoding"), dead_letter_payload(it.raw), strict=True)))
            for it in prep.items if it.status == "rejected"
        ]
        if dead and prep.dead_letters:
            DeadLetter.objects.bulk_create(dead)
        by_device = {d: its for d, its in by_device.items() if its}
        if events:
            from .services import device_events

            result.alarms_opened += device_events([(it.device, it.entry.record, it.ts) for it in events])
        from .clock import note_batch

        note_batch(by_device, [it for it in events if it.row is None], now)
        opened = after_store(by_device, extremes, now=now)
        result.alarms_opened += opened
    for it in prep.items:
        if it.status == "stored":
            result.stored += 1
        elif it.status == "duplicate":
            result.duplicates += 1
        else:
            result.rejected += 1
    return result


def _resolve_usernames(prep):
    """MQTT user names that are access tokens (ThingsBoard) -> their devices' codes, one query per batch."""
    wanted = {}
    for _seq, _item, entry in prep.plain:
        if type(entry) is not tuple and entry.username and entry.record and not entry.record.device_code:
            wanted[hash_token(entry.username)] = entry.username
    if not wanted:
        return
    if len(_username_codes) > 10000:
        _username_codes.clear()
    for token_hash, code in Device.objects.filter(token_hash__in=list(wanted)).values_list("token_hash", "code"):
        _username_codes[wanted[token_hash]] = code
        prep.codes.add(code)


def _first(entry):
    return entry[0]


def _validate_plain(prep, plain, devices, auth_device, by_device, extremes):
    """Readings the fast path did not take: the exact checks, one by one (rare)."""
    valid = []
    cache = {}
    keys = {(device.pk, it.ts) for device, items in by_device.items() for it in items}
    for bump, (_seq, item, data) in enumerate(plain):
        if type(data) is tuple:  # (raw, index, single) of a fast-decoded reading
            raw, index, single = data
            data = _plain_element(prep, cache, raw, index, item.topic)
            item.entry = data
            item.seq = index
            if not single:
                item.raw = data.raw
        try:
            _validate(item, data, devices, auth_device, prep.now, bump)
        except Rejected as exc:
            _reject(item, exc)
            continue
        key = (item.device.pk, item.ts)
        if key in keys:
            item.status = "duplicate"
            continue
        keys.add(key)
        valid.append(item)
        device = item.device
        if device in by_device:
            by_device[device] = [*by_device[device], item]
            extremes[device] = None  # a mixed group: the evaluation reads the rows
        else:
            by_device[device] = [item]
            extremes[device] = None
    return valid


def ingest_batch(raw_items, *, source, topics=None, auth_device=None, now=None, usernames=None, received=None,
                 prefix=None, profile=None):
    """Ingest a batch of raw messages; returns an ``IngestResult`` with one status per item.

    The cyclic garbage collector is paused for the batch: a batch allocates a few objects per
    reading, all freed by reference counting when it is done, yet enough of them to set off
    collections that walk every object of the process (a quarter of the Python time of a batch of
    5,000). It runs again as soon as the batch is done.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        if (source == "mqtt" and auth_device is None and profile is None and not any(usernames or ())
                and connection.vendor == "postgresql" and getattr(settings, "MONITORING_EXPRESS_LANE", True)):
            return _ingest_with_lane(raw_items, topics, now or timezone.now(), received, prefix or topic_prefix())
        return write_prepared(prepare_batch(raw_items, topics, source=source, auth_device=auth_device, now=now,
                                            usernames=usernames, received=received, prefix=prefix, profile=profile))
    finally:
        if paused:
            gc.enable()


def _ingest_with_lane(raw_items, topics, now, received, prefix):
    """MQTT on PostgreSQL: the live stream's ordinary readings through the express lane (``lane``), the
    other messages through the exact path, in one transaction; statuses in message order. The lane is
    lane.py, compiled where it was built (``fastlane``)."""
    from .fastlane import current

    lane = current()

    connection.ensure_connection()
    taken, rest, dups, attention, check = lane.take(raw_items, topics, received, now, prefix)
    if not taken and not dups:
        return write_prepared(prepare_batch(raw_items, topics, source="mqtt", now=now, received=received,
                                            prefix=prefix))
    statuses = [lane.STORED] * len(raw_items)  # the lane's; the others' are set below
    for i in rest:
        statuses[i] = None
    try:
        with transaction.atomic():
            stored, duplicates, opened = lane.store_taken(taken, dups, attention, check, statuses, now)
            exact = None
            if rest:
                exact = write_prepared(prepare_batch(
                    [raw_items[i] for i in rest], [topics[i] for i in rest] if topics else None, source="mqtt",
                    now=now, received=[received[i] for i in rest] if received else None, prefix=prefix))
    except (IntegrityError, psycopg.errors.UniqueViolation):
        # Another writer stored one of these readings meanwhile: the whole batch the exact way, through
        # the staging table, which cannot collide.
        log.warning("reading stored concurrently; ingesting the batch again through the staging table")
        return write_batch(prepare_batch(raw_items, topics, source="mqtt", now=now, received=received,
                                         prefix=prefix), staged=True)
    items = statuses
    result = IngestResult(items=items, stored=stored, alarms_opened=opened)
    result.duplicates = duplicates
    if exact is not None:
        bounds = exact.bounds
        # The exact path's items (one or more per message) in their messages' places.
        merged, k = [], 0
        for status in statuses:
            if status is not None:
                merged.append(status)
            else:
                merged.extend(exact.items[bounds[k]:bounds[k + 1]])
                k += 1
        result.items = merged
        result.stored += exact.stored
        result.duplicates += exact.duplicates
        result.rejected = exact.rejected
        result.alarms_opened = opened + exact.alarms_opened
    return result


def write_prepared(prep):
    """``write_batch``, and once more through the staging table if another writer got in between."""
    try:
        return write_batch(prep)
    except (IntegrityError, psycopg.errors.UniqueViolation):
        # Another writer stored one of these readings between the look-up and the COPY: do it again
        # the slower way (insert-or-ignore from a staging table), which cannot collide.
        log.warning("reading stored concurrently; ingesting the batch again through the staging table")
        again = prepare_batch(prep.raw, prep.topics, source=prep.source, auth_device=prep.auth_device,
                              now=prep.given_now, usernames=prep.usernames, received=prep.received,
                              prefix=prep.prefix, profile=prep.profile)
        return write_batch(again, staged=True)


def _plain_element(prep, cache, raw, index, topic):
    """The decoded record of a fast-decoded reading (the platform's own format): the message's
    ``index``-th record."""
    data = cache.get(id(raw))
    if data is None:
        own = next(p for p in adapters.builtin_profiles() if p.code == "firesafe")
        topic_device = adapters.topic_match(own.topic, topic, prep.prefix) if topic else None
        entries = adapters.decode_message(raw, topic, received_at=prep.now, profiles=[own], profile=own,
                                          topic_device=topic_device)
        data = cache[id(raw)] = (entries, raw)  # keep raw alive: ids stay unique
    entries = data[0]
    return entries[index] if index < len(entries) else entries[-1]


def _reject(item, exc):
    item.status = "rejected"
    item.reason = exc.reason
    item.detail = exc.detail
    item.device_code = exc.device_code
    item.device = exc.device

