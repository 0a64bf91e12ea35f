"""Storage for a live stream: what happens to decoded readings once they are known to be valid.

Every device reports about once a minute, so a batch holds one reading of each of thousands of
devices. Per batch, and never per reading:

1. the readings are written with one binary ``COPY`` (SQLite: batched insert-or-ignore);
2. one ``RollupMark`` row per hour touched says which devices' rollups are out of date; the
   hourly, township and daily rollups are computed later by ``rollups.roll_up_hours``, a periodic
   idempotent job, and the charts read the marked hours from the raw readings meanwhile;
3. the thresholds are *screened*: only the devices with a value beyond a threshold, an open alarm or
   a streak in progress are locked (``SELECT … FOR UPDATE``) and evaluated — the others' normal
   readings would change nothing in their evaluation state;
4. the other devices' last-seen time and last values are written lazily: in the batch when the
   stored time is more than ``MONITORING_DEVICE_STATE_SECONDS`` (300) older, else kept in the
   process and written by ``flush_device_state`` (the consumer's periodic check, or the next batch
   once that interval has passed).

The caller commits; the MQTT consumer acknowledges the messages only after that.
``store_batch`` is the entry for decoded records (``adapters.Normalized``).
"""
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .choices import CHANNEL_NAMES, CHANNELS, INT_CHANNELS, OPEN_ALARM_STATES

EXTRA_COLUMNS = ("received_at", "seq", "clock_skewed")


def state_interval():
    return timedelta(seconds=getattr(settings, "MONITORING_DEVICE_STATE_SECONDS", 300))


def prepared():
    """Whether the ingest's per-batch statements are prepared (once per connection; psycopg's protocol-
    level prepare): planning them costs more than running them. Off (``DB_PREPARED_STATEMENTS=0``)
    behind a pooler in transaction mode that does not keep prepared statements (PgBouncer before 1.21,
    or without ``max_prepared_statements``)."""
    return getattr(settings, "DB_PREPARED_STATEMENTS", True)


def seen_every(offline_window):
    """How often a reporting device's last-seen is written: every interval, and at least three times
    within its offline window. So an offline check anywhere (the consumer's or the scheduled job's, in
    another process) finds the last-seen of a device that keeps reporting a third of its window old at
    most; what a silent device's last message adds is written before the consumer's own check."""
    interval = state_interval()
    if offline_window:
        return min(interval, offline_window / 3)
    return interval


# ---------------------------------------------------------------- devices

READ_SQL = (
    "SELECT d.id, d.code, d.kind, d.is_active, d.token_hash, d.thresholds, d.eval_state, d.last_seen, "
    "d.newest_reading, EXISTS (SELECT 1 FROM monitoring_alarm a WHERE a.device_id = d.id AND a.state = ANY(%s)), "
    "d.institution_id, i.township_id, d.channels, d.clock_offset_seconds, d.seq_state, d.offline_after_minutes "
    "FROM monitoring_device d JOIN ledger_institution i ON i.id = d.institution_id "
    "WHERE d.{key} = ANY(%s) ORDER BY d.id"
)


# The same, with the evaluation state reduced to "not clean" (an open alarm or a streak in progress):
# such a device reads as having an open alarm, so the screen locks and re-reads it.
SCREEN_SQL = (
    "SELECT d.id, d.code, d.kind, d.is_active, d.token_hash, "
    "CASE WHEN d.thresholds = '{{}}'::jsonb THEN NULL ELSE d.thresholds::text END, NULL, d.last_seen, "
    "d.newest_reading, (EXISTS (SELECT 1 FROM monitoring_alarm a WHERE a.device_id = d.id AND a.state = ANY(%s)) "
    "OR EXISTS (SELECT 1 FROM jsonb_each(COALESCE(d.eval_state->'s', '{{}}'::jsonb)) e "
    "WHERE jsonb_typeof(e.value) = 'array' AND (e.value->>0)::numeric <> 0)), "
    "d.institution_id, i.township_id, d.channels, d.clock_offset_seconds, d.seq_state, d.offline_after_minutes "
    "FROM monitoring_device d JOIN ledger_institution i ON i.id = d.institution_id "
    "WHERE d.{key} = ANY(%s) ORDER BY d.id"
)


# The devices that need the exact evaluation: an open alarm or a streak in progress (``streak``: a
# generated column with a partial index, migration 0011), whichever devices the batch holds: only the
# few concerned are read, no list of the batch's devices is sent.
ATTENTION_SQL = (
    "SELECT a.device_id FROM monitoring_alarm a WHERE a.state = ANY(%s) "
    "UNION SELECT d.id FROM monitoring_device d WHERE d.streak"
)
# With it, per batch, the version of the devices' configuration (migration 0013): one round trip.
BATCH_VIEW_SQL = (
    "SELECT (SELECT version FROM monitoring_directory_version WHERE id = 1), ARRAY(" + ATTENTION_SQL + ")"
)
_OPEN_STATES = [s.value for s in OPEN_ALARM_STATES]
# Seconds a process keeps what it read of a device (token, kind, thresholds, service, township). On
# PostgreSQL a change anywhere moves the directory version, read every batch, and the copies are
# dropped at once; the time limit is then only a safety net (a change made with the triggers off).
DIRECTORY_TTL = 10.0
DIRECTORY_TTL_VERSIONED = 600.0
_directory = {}  # code -> DeviceRow (unlocked; ``has_open`` set per batch)
_directory_at = [0.0, None]  # read at (monotonic), the directory version it was read under


def forget_devices(**kwargs):
    _directory.clear()
    _directory_at[0] = 0.0


def fresh_directory(version=None):
    """The process's copy of the devices (``{code: DeviceRow}``): emptied when the directory version
    moved (PostgreSQL), or once the time limit passed."""
    now = time.monotonic()
    ttl = DIRECTORY_TTL if version is None else DIRECTORY_TTL_VERSIONED
    if now - _directory_at[0] > ttl or version != _directory_at[1]:
        _directory.clear()
        _directory_at[0], _directory_at[1] = now, version
    return _directory


def read_into_directory(codes):
    """Read these devices into the process's copy (one query); returns ``{code: DeviceRow}`` of those found."""
    found = read_devices(list(codes))
    _directory.update(found)
    return found


def batch_view():
    """PostgreSQL, once per batch: the process's copy of the devices (dropped if the directory version
    moved) and the primary keys of the devices that need the exact evaluation now. One query."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(BATCH_VIEW_SQL, [_OPEN_STATES], prepare=prepared())
        version, pks = cursor.fetchone()
    return fresh_directory(version), set(pks)


def directory(codes):
    """``{code: DeviceRow}`` for a batch, without locks: the process's copy of each device (read again
    when the directory version moves, at once after a change in this process) and, per batch, the
    devices that need the exact evaluation (marked ``has_open``; the screen locks those)."""
    if connection.vendor == "postgresql":
        known, attention_pks = batch_view()
    else:
        known = fresh_directory()
    missing = [c for c in codes if c not in known]
    if missing:
        read_into_directory(missing)
    found = {c: known[c] for c in codes if c in known}
    if not found:
        return found
    if connection.vendor != "postgresql":
        fresh = read_devices(pks=[d.pk for d in found.values()])
        attention_pks = {d.pk for d in fresh.values() if not is_clean(d)}
    for d in found.values():
        d.has_open = d.pk in attention_pks
        d.eval_state = {}
    return found


def read_devices(codes=None, pks=None, *, lock=False):
    """``{code: DeviceRow}`` of these codes (or primary keys); ``lock``: their rows locked (PostgreSQL).

    One query, in primary-key order (one lock order for every consumer).
    """
    from django.db.models import Exists, OuterRef

    from .ingest import DeviceRow
    from .models import Alarm, Device

    keys = list(codes if pks is None else pks)
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        if not lock:
            # The screen needs no evaluation state, only whether it is clean (decided in SQL: no JSON
            # to parse per device); binary results: no text parsing of the time stamps.
            with psycopg.Cursor(connection.connection) as cursor:
                cursor.execute(SCREEN_SQL.format(key="code" if pks is None else "id"),
                               [[s.value for s in OPEN_ALARM_STATES], keys], binary=True)
                return {row[1]: DeviceRow(*row) for row in cursor.fetchall()}
        sql = READ_SQL.format(key="code" if pks is None else "id") + " FOR UPDATE OF d"
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, [[s.value for s in OPEN_ALARM_STATES], keys])
            return {row[1]: DeviceRow(*row) for row in cursor.fetchall()}
    has_open = Exists(Alarm.objects.filter(device_id=OuterRef("pk"), state__in=OPEN_ALARM_STATES))
    qs = Device.objects.filter(**({"code__in": keys} if pks is None else {"pk__in": keys}))
    qs = qs.annotate(has_open=has_open).order_by("pk")
    return {row[1]: DeviceRow(*row) for row in qs.values_list(*DeviceRow.FIELDS)}


def is_clean(device):
    """No open alarm and no streak of abnormal values in progress: normal readings change nothing."""
    if device.has_open:
        return False
    for streak in (device.eval_state.get("s") or {}).values():
        if streak and streak[0]:
            return False
    return True


_flat = {}


def _flat_plan(plan):
    """((column index, threshold, below is abnormal), ...) of a device's plan (kept with the plan)."""
    got = _flat.get(id(plan))
    if got is None or got[0] is not plan:
        got = _flat[id(plan)] = (plan, tuple((i, threshold, below) for _rule, threshold, below, cols in plan
                                             for _col, _key, i in cols))
    return got[1]


def flat_for(device, kinds_for):
    """The device's screen plan (column, threshold, below), kept on its copy while its rules are the same."""
    kinds = kinds_for(device)
    cached = device.screen_plan
    if cached is not None and cached[0] is kinds:
        return cached[1]
    flat = _flat_plan(_plan(device, kinds))
    device.screen_plan = (kinds, flat)
    return flat


def _plan(device, kinds):
    from .evaluation import _plan as plan

    return plan(device, kinds)


def screen(by_device, extremes):
    """The devices of a batch whose readings may change their evaluation state (to be locked)."""
    from .evaluation import _extremes, kinds_resolver

    kinds_for = kinds_resolver(by_device)
    out = []
    for device, items in by_device.items():
        if not is_clean(device):
            out.append(device)
            continue
        flat = flat_for(device, kinds_for)
        ext = extremes.get(device)
        if ext is None and len(items) == 1:  # the live stream: one reading of the device
            if _beyond(flat, items[0].row):
                out.append(device)
            continue
        if ext is None:
            ext = _extremes([it.row for it in items])
        for i, threshold, below in flat:
            e = ext.get(i)
            if e is not None and (e[0] < threshold if below else e[1] >= threshold):
                out.append(device)
                break
    return out


def _beyond(flat, row):
    """A value of the row at or beyond a threshold of the plan."""
    for i, threshold, below in flat:
        v = row[i]
        if v is not None and (v < threshold if below else v >= threshold):
            return True
    return False


def _record_of(device, row, width):
    """A lane row as the exact evaluation sees a reading (rare: only for a device that may alarm)."""
    plain = row[:width]
    rec = _Record(row[1], plain, {k: v for k, v in zip(CHANNEL_NAMES, plain[2:], strict=True) if v is not None},
                  device)
    rec.received = row[width]
    return rec


def records_of(risky, attention_pks):
    """The express lane's rows of devices that may alarm (``{device: [COPY row]}``) as the exact
    evaluation sees readings (``{device: [record]}``, in time order)."""
    width = 2 + len(CHANNEL_NAMES)
    out = {}
    for device, rows in risky.items():
        device.has_open = device.pk in attention_pks
        device.eval_state = {}
        out[device] = sorted((_record_of(device, row, width) for row in rows), key=_ts_of)
    return out


# ---------------------------------------------------------------- the batch after the readings are stored


def after_store(by_device, extremes, *, now):
    """Rollup marks, screened evaluation, device state, for the stored readings of a batch.

    ``by_device``: ``{DeviceRow: [Item, ...]}`` (items with ``ts``, ``row``, ``values``), rows
    already written. Returns the alarms opened.
    """
    from .evaluation import evaluate

    if not by_device:
        return []
    mark_hours(by_device)
    risky = screen(by_device, extremes)
    opened = []
    if risky:
        locked = read_devices(pks=[d.pk for d in risky], lock=True)
        locked_by_pk = {d.pk: d for d in locked.values()}
        evaluated = {locked_by_pk[d.pk]: by_device[d] for d in risky if d.pk in locked_by_pk}
        opened = evaluate(evaluated, now=now, extremes={locked_by_pk[d.pk]: extremes.get(d) for d in risky
                                                        if d.pk in locked_by_pk})
        save_device_state([d for d in evaluated if d.state_changed or d.seen_changed or d.newest_changed])
        for d in evaluated:
            _pending.pop(d.pk, None)
            _remember(d.code, d.last_seen, d.newest)
        calm = [d for d in by_device if d.pk not in locked_by_pk]
    else:
        calm = list(by_device)
    note_seen(calm, by_device, now)
    return opened


# ---------------------------------------------------------------- device state, written lazily

_pending = {}  # device pk -> [last_seen, newest, its DeviceRow]: seen by this process, not written yet
_pending_clock = {}  # device pk -> (clock offset in seconds, checked at): a wrong clock's drift, not written yet
_flushed = [time.monotonic()]


def keep_clock_offset(pk, offset, at):
    """A wrong clock whose offset moved (the flag is unchanged): written with the device state."""
    _pending_clock[pk] = (offset, at)


def _write_clock(due):
    """Write the kept clock offsets (one statement); only onto a clock still flagged wrong."""
    due = sorted(due)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                "UPDATE monitoring_device d SET clock_offset_seconds = u.o, clock_checked_at = u.at "
                "FROM jsonb_to_recordset(%s::jsonb) AS u(id bigint, o integer, at timestamptz) "
                "WHERE d.id = u.id AND d.id = ANY(%s::bigint[]) AND d.clock_offset_seconds IS NOT NULL",
                [json.dumps([{"id": pk, "o": o, "at": at.isoformat()} for pk, (o, at) in due]),
                 id_array(pk for pk, _entry in due)])
        return
    from .models import Device

    for pk, (offset, at) in due:
        Device.objects.filter(pk=pk, clock_offset_seconds__isnull=False).update(
            clock_offset_seconds=offset, clock_checked_at=at)


def note_seen(devices, by_device, now):
    """Last-seen time and high-water mark of devices that were not evaluated.

    Written now for a device whose stored last-seen time is ``seen_every`` old (or none), else kept
    (``flush_device_state``, ``flush_before_offline_check`` and the batches' periodic turn write it).
    (The last values are not device state: they are the newest reading's, read from the readings.)
    """
    interval = state_interval()
    seen_limit = now + _SEEN_AHEAD
    due = []
    for device in devices:
        items = by_device[device]
        # Last seen is the platform's receive time (a device clock may be wrong); the high-water mark
        # is the newest reading by device time.
        seen = max((getattr(it, "received", None) or now) for it in items)
        if seen > seen_limit:
            continue
        ts = max(items, key=_ts_of).ts
        entry = _pending.get(device.pk)
        if entry is None:
            entry = _pending[device.pk] = [seen, ts, device]
        else:
            if seen > entry[0]:
                entry[0] = seen
            if ts > entry[1]:
                entry[1] = ts
            entry[2] = device
        if device.last_seen is None or entry[0] - device.last_seen >= device.seen_every:
            _pending.pop(device.pk)
            due.append((device.pk, entry[0], entry[1]))
    _finish(due, interval, {d.pk: d for d in devices}, now)


_SEEN_AHEAD = timedelta(minutes=5)


def _finish(due, interval, devices, now, hours=None):
    """Write the due device state; once the interval has passed since the last such turn, also what was
    kept of devices whose written last-seen is as old as they are written (a device that went silent:
    one still reporting is written by its next reading). What was written moves the process's copies
    forward (``devices``: {pk: DeviceRow} of the batch). ``hours``: the batch's rollup marks
    (``insert_marks``), written with the device state in one statement."""
    if (_pending or _pending_clock) and time.monotonic() - _flushed[0] >= interval.total_seconds():
        due += _take_kept(lambda d: now - d.seen_every, devices)
        if _pending_clock:
            _write_clock(list(_pending_clock.items()))
            _pending_clock.clear()
        _flushed[0] = time.monotonic()
    if due:
        _write_seen(due, hours)
        _written(due, devices)
    elif hours:
        insert_marks(hours)
    if not _pending and not _pending_clock:
        _flushed[0] = time.monotonic()


def _take_kept(cutoff=None, devices=None):
    """The kept entries (all, or those whose device's written last-seen is ``cutoff(device)`` or older),
    as due rows, out of ``_pending``; their devices in ``devices``."""
    out = []
    for pk, (seen, newest, device) in list(_pending.items()):
        if cutoff is None or device.last_seen is None or device.last_seen <= cutoff(device):
            del _pending[pk]
            out.append((pk, seen, newest))
            if devices is not None:
                devices[pk] = device
    return out


def _written(due, devices):
    """What was just written moves the copies forward: the batch's (``devices``: {pk: DeviceRow}) and the
    process's current copy of each device, if another."""
    for pk, seen, newest in due:
        d = devices.get(pk)
        if d is not None:
            _advance(d, seen, newest)
            if _directory.get(d.code) is not d:
                _remember(d.code, seen, newest)


def _remember(code, last_seen, newest):
    """What was just written, in the process's copy (never moved back)."""
    d = _directory.get(code)
    if d is not None:
        _advance(d, last_seen, newest)


def _advance(d, last_seen, newest):
    if last_seen is not None and (d.last_seen is None or last_seen > d.last_seen):
        d.last_seen = last_seen
    if newest is not None and (d.newest is None or newest > d.newest):
        d.newest = newest


def flush_device_state(cutoff=None):
    """Write what this process kept of its devices' last-seen state: all of it (when the consumer stops),
    or only the devices whose written last-seen is ``cutoff(device)`` or older. Returns the number of
    devices written."""
    if not _pending and not _pending_clock:
        return 0
    written = {}
    due = _take_kept(cutoff, written)
    clock = list(_pending_clock.items()) if cutoff is None else []
    if clock:
        _pending_clock.clear()
    with transaction.atomic():
        if due:
            _write_seen(due)
        if clock:
            _write_clock(clock)
    _written(due, written)
    if cutoff is None:
        _flushed[0] = time.monotonic()
    return len(due)


def flush_before_offline_check(now=None, period=timedelta(minutes=1)):
    """Before an offline check (every ``period``): write the kept last-seen times that the check would
    otherwise miss, those of devices whose written last-seen is as old as their offline window less one
    period. A device still reporting is written a third of its window at most after its last write
    (``seen_every``) and is not written again each minute."""
    now = now or timezone.now()
    return flush_device_state(lambda d: now - max((d.offline_window or timedelta(0)) - period, timedelta(0)))


_WIDTH = 2 + len(CHANNEL_NAMES)
_encode = msgspec.json.Encoder().encode
# One JSON document for the whole list, encoded by msgspec (time stamps included) and read by
# jsonb_to_recordset: cheaper for both sides than an array per column (psycopg adapts a list of
# datetimes element by element in Python; Unix seconds as text cost Python more than msgspec's encoding
# and the server no less, once prepared). The ids once more, as an array: the planner takes a set-
# returning function for 100 rows; an array's length it knows, so it plans for the rows really touched
# (without it, a hash join over the whole device table). Prepared: its planning cost as much as a
# third of its run (200 rows).
_SEEN_SQL = (
    "UPDATE monitoring_device d SET "
    "last_seen = GREATEST(d.last_seen, u.seen), newest_reading = GREATEST(d.newest_reading, u.newest) "
    "FROM jsonb_to_recordset(%s::jsonb) AS u(id bigint, seen timestamptz, newest timestamptz) "
    "WHERE d.id = u.id AND d.id = ANY(%s::bigint[])"
)


def id_array(pks):
    """An array literal of primary keys (``{1,2,3}``), sent as text: parsed by the server in C."""
    return "{" + ",".join(map(str, pks)) + "}"


def _write_seen(due, hours=None):
    """Move last-seen and the high-water mark forward (never back: consumers race). ``due``:
    ``[(device pk, last seen, newest reading time)]``; ``hours``: rollup marks to insert with it
    (``insert_marks``), in the same statement: one round trip a batch, not two."""
    due.sort(key=_first)  # one lock order
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        params = [_encode([{"id": pk, "seen": seen, "newest": newest} for pk, seen, newest in due]).decode(),
                  id_array(t[0] for t in due)]
        with psycopg.Cursor(connection.connection) as cursor:
            if hours:
                cursor.execute(_MARKS_CTE + _SEEN_SQL, [*_marks_params(hours), *params], prepare=prepared())
            else:
                cursor.execute(_SEEN_SQL, params, prepare=prepared())
        return
    if hours:
        insert_marks(hours)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE monitoring_device SET "
            "last_seen = CASE WHEN last_seen IS NULL OR %s > last_seen THEN %s ELSE last_seen END, "
            "newest_reading = CASE WHEN newest_reading IS NULL OR %s > newest_reading THEN %s "
            "ELSE newest_reading END WHERE id = %s",
            [(adapt(seen), adapt(seen), adapt(newest), adapt(newest), pk) for pk, seen, newest in due])


def save_device_state(devices):
    """Evaluation state, last-seen and high-water mark of evaluated (locked) devices, one statement."""
    from .ingest import save_device_state as save

    save(devices)


def _ts_of(item):
    return item.ts


def _first(t):
    return t[0]


# ---------------------------------------------------------------- rollup marks


_HOUR = timedelta(hours=1)
# A mark lists its devices up to this many; past it the mark is the hour's (every device with readings
# in it): the job recomputes that hour for every device, as it would for a list of most of them.
MARK_LIST_LIMIT = 200


def _hour_of(ts):
    if ts.tzinfo is not UTC:
        ts = ts.astimezone(UTC)
    return ts.replace(minute=0, second=0, microsecond=0)


def mark_hours(by_device):
    """One ``RollupMark`` per hour the batch's readings fall in, with the devices concerned."""
    hours = {}
    for device, items in by_device.items():
        if len(items) == 1:  # the live stream: one reading of the device
            ts = items[0].ts
            hour = ts.replace(minute=0, second=0, microsecond=0) if ts.tzinfo is UTC else _hour_of(ts)
            pks = hours.get(hour)
            if pks is None:
                hours[hour] = [device.pk]
            else:
                pks.append(device.pk)
            continue
        first, last = _hour_of(items[0].ts), _hour_of(items[-1].ts)
        if first == last and len(items) <= 2:
            stamps = {first, last}
        else:
            stamps = {_hour_of(it.ts) for it in items}
        for hour in stamps:
            hours.setdefault(hour, []).append(device.pk)
    insert_marks(hours)


_MARKS_SQL = ("INSERT INTO monitoring_rollupmark (hour, devices) "
              "SELECT h, d::jsonb FROM unnest(%s::timestamptz[], %s::text[]) AS u(h, d)")
# The marks written by the statement that writes the device state (``_write_seen``).
_MARKS_CTE = "WITH marks AS (" + _MARKS_SQL + ") "


def _marks_params(hours):
    """The hours and, per hour, its devices as a JSON array (``None``: the hour's, past ``MARK_LIST_LIMIT``)."""
    return [list(hours), [None if len(v) > MARK_LIST_LIMIT else "[" + ",".join(map(str, sorted(v))) + "]"
                          for v in hours.values()]]


def insert_marks(hours):
    """One ``RollupMark`` per hour of ``hours`` ({hour: [device pk]}): the rollup job recomputes them."""
    if not hours:
        return
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(_MARKS_SQL, _marks_params(hours), prepare=prepared())
        return
    from .models import RollupMark

    RollupMark.objects.bulk_create([RollupMark(hour=h, devices=None if len(v) > MARK_LIST_LIMIT else sorted(v))
                                    for h, v in hours.items()])


# ---------------------------------------------------------------- decoded records


@dataclass
class StoreResult:
    stored: int = 0
    duplicates: int = 0
    unknown: list = field(default_factory=list)  # records whose device is unknown or out of service
    alarms_opened: list = field(default_factory=list)


class _Record:
    """A decoded record as the evaluation sees a reading (``ts``, ``row``, ``values``)."""

    __slots__ = ("ts", "row", "values", "device", "status", "received", "measured")

    def __init__(self, ts, row, values, device):
        self.ts, self.row, self.values, self.device, self.status = ts, row, values, device, ""
        self.received = None
        self.measured = ts


def store_batch(records, *, now=None):
    """Store decoded readings (``adapters.Normalized``) in one transaction: COPY, rollup marks,
    screened thresholds, lazy device state. Readings are evaluated on their measurement time, or on
    the receive time when the device clock is flagged as skewed. Events (``record.event``) are the
    caller's (they open alarms at once). Returns a ``StoreResult``; the caller acknowledges after it.
    """
    from .ingest import store_readings

    now = now or timezone.now()
    result = StoreResult()
    readings = [r for r in records if r.event is None]
    if not readings:
        return result
    with transaction.atomic():
        devices = directory({r.device_code for r in readings})
        newest = {d.pk: d.newest for d in devices.values()}
        by_device, seen, rows = {}, set(), []
        for rec in readings:
            device = devices.get(rec.device_code)
            if device is None or not device.is_active:
                result.unknown.append(rec)
                continue
            ts = rec.received_at if rec.clock_skewed else rec.measured_at
            key = (device.pk, ts)
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            values = {k: (int(v) if k in INT_CHANNELS else float(v)) for k, v in rec.values.items()
                      if k in CHANNELS and v is not None}
            row = (device.pk, ts, *map(values.get, CHANNEL_NAMES))
            item = _Record(ts, row, values, device)
            rows.append((row, (rec.received_at, rec.seq, bool(rec.clock_skewed))))
            by_device.setdefault(device, []).append(item)
        plain_rows, extra = [r for r, _e in rows], [e for _r, e in rows]
        check = [r for r in plain_rows if (n := newest.get(r[0])) is None or r[1] <= n]
        try:
            with transaction.atomic():  # a savepoint: a reading stored meanwhile by another writer
                positions = store_readings(plain_rows, check=check, extra=extra)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            positions = store_readings(plain_rows, staged=True, extra=extra)
        inserted = set(positions)
        result.stored = len(inserted)
        result.duplicates += len(rows) - len(inserted)
        if len(inserted) != len(rows):
            keys = {(rows[i][0][0], rows[i][0][1]) for i in inserted}
            by_device = {d: [it for it in items if (d.pk, it.ts) in keys] for d, items in by_device.items()}
            by_device = {d: items for d, items in by_device.items() if items}
        for items in by_device.values():
            items.sort(key=_ts_of)
        result.alarms_opened = after_store(by_device, {}, now=now)
    return result


def utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _connect_signals():
    from django.db.models.signals import post_delete, post_save

    from .models import Device

    post_save.connect(forget_devices, sender=Device, dispatch_uid="monitoring-forget-devices-save")
    post_delete.connect(forget_devices, sender=Device, dispatch_uid="monitoring-forget-devices-delete")


_connect_signals()
