"""The ingest core, one function for HTTP and MQTT: decode → validate → persist → rollups → evaluate.

``ingest_batch(items, source=...)`` takes raw messages (bytes/str from MQTT, dicts from HTTP)
and runs in ONE transaction: valid readings are written (COPY into a staging table then
``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL; batched ``INSERT OR IGNORE`` on
SQLite), the hourly rollups are upserted from the rows actually inserted, the threshold
rules are evaluated and alarms raised/updated/cleared, and rejected messages are kept in
the dead-letter table. A message is acknowledged to the broker only after this returns.
"""
import hmac
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .choices import CHANNEL_NAMES, CHANNELS, ROLLUP_CHANNELS, DeadLetterReason
from .models import DeadLetter, Device, hash_token

log = logging.getLogger(__name__)

COLUMNS = ("device_id", "ts", *CHANNEL_NAMES)
INT_CHANNELS = {"arc_count", "faults"}


def max_future():
    return timedelta(seconds=getattr(settings, "MONITORING_MAX_FUTURE_SECONDS", 300))


class Rejected(Exception):
    def __init__(self, reason, detail, device_code="", device=None):
        super().__init__(detail)
        self.reason, self.detail, self.device_code, self.device = reason, detail, device_code, device


@dataclass
class Item:
    raw: object
    topic: str = ""
    status: str = ""  # stored | duplicate | rejected
    reason: str = ""
    detail: str = ""
    device: Device | None = None
    ts: datetime | None = None
    values: dict = field(default_factory=dict)


@dataclass
class IngestResult:
    items: list
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    alarms_opened: list = field(default_factory=list)

    def as_dicts(self):
        out = []
        for i, it in enumerate(self.items):
            row = {"index": i, "status": it.status}
            if it.status == "rejected":
                row.update(reason=it.reason, detail=it.detail)
            out.append(row)
        return out


def _parse_ts(value):
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if ts.tzinfo is None:
            return None
        return ts.astimezone(UTC)
    return None


class DeviceCache:
    """Devices by code for one batch (one query), so each message costs no query."""

    def __init__(self, codes):
        self.by_code = {d.code: d for d in Device.objects.filter(code__in=codes)} if codes else {}


def _decode(item: Item):
    raw = item.raw
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            raw = json.loads(bytes(raw).decode("utf-8"))  # str skips json's encoding detection
        except (ValueError, UnicodeDecodeError) as exc:
            raise Rejected(DeadLetterReason.MALFORMED, f"malformed JSON: {exc}"[:200]) from None
    elif isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise Rejected(DeadLetterReason.MALFORMED, f"malformed JSON: {exc}"[:200]) from None
    if not isinstance(raw, dict | list) or (isinstance(raw, list) and not raw):
        raise Rejected(DeadLetterReason.INVALID, "a reading must be a JSON object (or a non-empty array of them)")
    return raw


def _validate(item: Item, data: dict, devices: dict, auth_device, latest):
    code = data.get("device")
    if auth_device is not None and code in (None, ""):
        code = auth_device.code
    if not isinstance(code, str) or not code:
        raise Rejected(DeadLetterReason.INVALID, "missing \"device\"")
    device = devices.get(code)
    if device is None or not device.is_active:
        raise Rejected(DeadLetterReason.UNKNOWN_DEVICE, f"unknown device {code!r}"[:200], code)
    if auth_device is not None:
        if auth_device.pk != device.pk:
            raise Rejected(DeadLetterReason.OTHER_DEVICE, "the token belongs to another device", code, device)
    else:
        token = data.get("token")
        if not isinstance(token, str) or not device.token_hash or not _token_ok(device, token):
            raise Rejected(DeadLetterReason.BAD_TOKEN, "wrong or missing device token", code, device)
    if item.topic:
        parts = item.topic.split("/")
        if len(parts) >= 2 and parts[-2] != code:
            raise Rejected(DeadLetterReason.INVALID, "the topic names another device", code, device)
    ts = _parse_ts(data.get("ts"))
    if ts is None:
        raise Rejected(DeadLetterReason.INVALID, "\"ts\" must be ISO 8601 with a time zone or epoch seconds",
                       code, device)
    if ts > latest:
        raise Rejected(DeadLetterReason.FUTURE, f"timestamp {ts.isoformat()} is in the future", code, device)
    values = data.get("values")
    if not isinstance(values, dict) or not values:
        raise Rejected(DeadLetterReason.INVALID, "\"values\" must be a non-empty object", code, device)
    clean = {}
    for name, value in values.items():
        spec = CHANNELS.get(name)
        if spec is None:
            raise Rejected(DeadLetterReason.INVALID, f"unknown channel {name!r}"[:200], code, device)
        kind = type(value)
        if kind is float or kind is int:
            if value != value:
                raise Rejected(DeadLetterReason.INVALID, f"{name} must be a number", code, device)
        elif value is None:
            continue
        else:
            raise Rejected(DeadLetterReason.INVALID, f"{name} must be a number", code, device)
        if not spec[0] <= value <= spec[1]:
            raise Rejected(DeadLetterReason.OUT_OF_RANGE, f"{name}={value} outside {spec[0]}..{spec[1]}", code,
                           device)
        if name in INT_CHANNELS:
            if int(value) != value:
                raise Rejected(DeadLetterReason.INVALID, f"{name} must be an integer", code, device)
            clean[name] = int(value)
        else:
            clean[name] = float(value)
    if not clean:
        raise Rejected(DeadLetterReason.INVALID, "no values", code, device)
    item.device, item.ts, item.values = device, ts, clean


def _token_ok(device, token):
    """SHA-256 of the token against the stored hash, remembered on the device object for the batch."""
    seen = device.__dict__.setdefault("_tokens_ok", {})
    ok = seen.get(token)
    if ok is None:
        ok = seen[token] = hmac.compare_digest(hash_token(token), device.token_hash)
    return ok


def _payload_text(raw):
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)[:10000].decode("utf-8", "replace")
    if isinstance(raw, str):
        return raw[:10000]
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)[:10000]
    except (TypeError, ValueError):
        return repr(raw)[:10000]


# ---------------------------------------------------------------- persistence


STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS monitoring_reading_stage (seq integer, device_id bigint, ts timestamptz, "
    + ", ".join(f"{c} {'integer' if c in INT_CHANNELS else 'double precision'}" for c in CHANNEL_NAMES)
    + ") ON COMMIT DELETE ROWS"
)


def _persist_postgresql(rows):
    """COPY into a temp staging table, then insert-or-ignore and upsert the rollups in one statement.

    Returns the set of positions (in ``rows``) of the rows actually inserted.
    """
    cols = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # Every batch: a rolled-back transaction may have taken an earlier CREATE with it.
        cursor.execute(STAGE_DDL)
        with raw.copy(f"COPY monitoring_reading_stage (seq, {cols}) FROM STDIN") as copy:
            for seq, row in enumerate(rows):
                copy.write_row((seq, *row))
        lateral = ", ".join(f"('{c}', ins.{c}::double precision)" for c in ROLLUP_CHANNELS)
        cursor.execute(
            f"WITH ins AS (INSERT INTO monitoring_reading ({cols}) SELECT {cols} FROM monitoring_reading_stage "
            f"ON CONFLICT DO NOTHING RETURNING {cols}), "
            "roll AS (INSERT INTO monitoring_hourlyrollup (device_id, channel, hour, min, max, sum, count) "
            "SELECT ins.device_id, v.channel, date_trunc('hour', ins.ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "
            "min(v.val), max(v.val), sum(v.val), count(*) "
            f"FROM ins CROSS JOIN LATERAL (VALUES {lateral}) AS v(channel, val) WHERE v.val IS NOT NULL "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 "
            "ON CONFLICT (device_id, channel, hour) DO UPDATE SET "
            "min = LEAST(monitoring_hourlyrollup.min, EXCLUDED.min), "
            "max = GREATEST(monitoring_hourlyrollup.max, EXCLUDED.max), "
            "sum = monitoring_hourlyrollup.sum + EXCLUDED.sum, count = monitoring_hourlyrollup.count + EXCLUDED.count) "
            # Positions, not timestamps: integers are far cheaper to send back and parse.
            "SELECT s.seq FROM ins JOIN monitoring_reading_stage s ON s.device_id = ins.device_id AND s.ts = ins.ts"
        )
        inserted = {seq for (seq,) in cursor.fetchall()}
        cursor.execute("DELETE FROM monitoring_reading_stage")  # for callers inside a longer transaction
    return inserted


def _persist_sqlite(rows):
    if not rows:
        return set()
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
        new_rows = [r for r in rows if (r[0], r[1]) not in existing]
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(
            f"INSERT OR IGNORE INTO monitoring_reading ({', '.join(COLUMNS)}) VALUES ({placeholders})",
            [_sqlite_row(r) for r in new_rows],
        )
        agg = {}
        for r in new_rows:
            hour = r[1].replace(minute=0, second=0, microsecond=0)
            for i, name in enumerate(CHANNEL_NAMES, start=2):
                val = r[i]
                if val is None or name not in ROLLUP_CHANNELS:
                    continue
                key = (r[0], name, hour)
                a = agg.get(key)
                if a is None:
                    agg[key] = [val, val, val, 1]
                else:
                    a[0] = min(a[0], val)
                    a[1] = max(a[1], val)
                    a[2] += val
                    a[3] += 1
        cursor.executemany(
            "INSERT INTO monitoring_hourlyrollup (device_id, channel, hour, min, max, sum, count) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (device_id, channel, hour) DO UPDATE SET "
            "min = min(monitoring_hourlyrollup.min, excluded.min), max = max(monitoring_hourlyrollup.max, excluded.max), "
            "sum = monitoring_hourlyrollup.sum + excluded.sum, count = monitoring_hourlyrollup.count + excluded.count",
            [(k[0], k[1], connection.ops.adapt_datetimefield_value(k[2]), *v) for k, v in sorted(agg.items())],
        )
    return {i for i, r in enumerate(rows) if (r[0], r[1]) not in existing}


def _as_utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _sqlite_row(r):
    return (r[0], connection.ops.adapt_datetimefield_value(r[1]), *r[2:])


def persist_rows(rows):
    """Write reading rows (tuples in COLUMNS order, unique (device, ts), ts aware UTC).

    Returns the positions in ``rows`` of the rows actually inserted (the others were duplicates).
    """
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _persist_postgresql(rows)
    return _persist_sqlite(rows)


# ---------------------------------------------------------------- the pipeline


def ingest_batch(raw_items, *, source, topics=None, auth_device=None, now=None):
    """Ingest a batch of raw messages; returns an ``IngestResult`` with one status per item."""
    from .evaluation import evaluate

    now = now or timezone.now()
    items, decoded = [], []
    for i, raw in enumerate(raw_items):
        topic = topics[i] if topics else ""
        item = Item(raw=raw, topic=topic)
        try:
            data = _decode(item)
        except Rejected as exc:
            _reject(item, exc)
            items.append(item)
            continue
        # One MQTT message may carry one reading or an array of readings (a gateway's batch).
        for element in (data if isinstance(data, list) else [data]):
            sub = Item(raw=element, topic=topic) if isinstance(data, list) else item
            items.append(sub)
            if isinstance(element, dict):
                decoded.append((sub, element))
            else:
                _reject(sub, Rejected(DeadLetterReason.INVALID, "a reading must be a JSON object"))
    codes = {d.get("device") for _it, d in decoded if isinstance(d.get("device"), str)}
    if auth_device is not None:
        codes.add(auth_device.code)
    result = IngestResult(items=items)
    with transaction.atomic():
        devices = {}
        if codes:
            qs = Device.objects.filter(code__in=codes).order_by("pk")
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(of=("self",))  # serialise evaluation state per device
            devices = {d.code: d for d in qs}
        if auth_device is not None and auth_device.code in devices:
            auth_device = devices[auth_device.code]
        valid, seen, latest = [], set(), now + max_future()
        for item, data in decoded:
            try:
                _validate(item, data, devices, auth_device, latest)
            except Rejected as exc:
                _reject(item, exc)
                continue
            key = (item.device.id, item.ts)
            if key in seen:
                item.status = "duplicate"
                continue
            seen.add(key)
            valid.append(item)
        rows = [(it.device.id, it.ts, *map(it.values.get, CHANNEL_NAMES)) for it in valid]
        inserted = persist_rows(rows)
        for i, it in enumerate(valid):
            it.status = "stored" if i in inserted else "duplicate"
        dead = [
            DeadLetter(received_at=now, source=source, topic=it.topic[:300], device_code=(it.device_code or "")[:64],
                       device_id=it.device.pk if it.device is not None else None, reason=it.reason,
                       detail=it.detail[:500], payload=_payload_text(it.raw))
            for it in items if it.status == "rejected"
        ]
        if dead:
            DeadLetter.objects.bulk_create(dead)
        if valid:
            result.alarms_opened = evaluate(valid, now=now)
    for it in items:
        if it.status == "stored":
            result.stored += 1
        elif it.status == "duplicate":
            result.duplicates += 1
        else:
            result.rejected += 1
    return result


def _reject(item, exc):
    item.status = "rejected"
    item.reason = exc.reason
    item.detail = exc.detail
    item.device_code = exc.device_code
    item.device = exc.device


Item.device_code = ""
