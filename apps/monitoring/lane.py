"""The express lane of the ingest: the live stream's ordinary reading, with no object built per reading.

Nearly every message of a live stream is the same case: the platform's own format, one reading of a
known device with its right token, on its own topic, measured within the clock skew of its receive
time, no event, no sequence number, newer than what is stored. ``take`` decodes such a message with
msgspec straight into a ``COPY`` row, and per batch (never per reading):

- looks devices up in the process's directory (``store.directory``'s copy; the missing ones in one
  query) and asks once which devices need the exact evaluation (an open alarm or a streak);
- screens the row against the device's threshold plan; a device whose reading may alarm is handed,
  with its readings, to the exact path (``store.after_store``: locked, evaluated, alarms opened in
  the same transaction);
- writes the rows with one binary ``COPY``, one ``RollupMark`` per hour, and the last-seen state
  lazily (``calm_rows``).

Everything else — another payload format, a device event, a wrong clock, a sequence number, an
unknown device or token, bytes that are not JSON — is left to the exact path
(``ingest.prepare_batch``/``write_batch``), in the same transaction, which accepts or rejects it
with its reason; so are all the messages of the batch of a device with one such message. Repeats
within the batch and readings stored before are duplicates, as on the exact path. The lane only
ever accepts what that path accepts, with the same row (``tests/test_lane.py`` compares them).
"""
import json
from datetime import UTC, datetime, timedelta

import cython
import psycopg
from django.db import connection

from . import store
from .choices import CHANNEL_NAMES

_N = len(CHANNEL_NAMES)


class Done:
    """A message the lane stored (or found repeated in the batch): its status for ``IngestResult``."""

    __slots__ = ("status",)

    def __init__(self, status):
        self.status = status

    reason = detail = ""


STORED, DUPLICATE = Done("stored"), Done("duplicate")


@cython.cclass
class DeviceRow:
    """What one batch needs of a device (``ingest.DeviceRow``), read without its model: no model instance, no
    audit machinery. ``model`` loads the full ``Device`` when an alarm has to be opened (rare).

    An extension type where the lane is built: the lane reads a device's fields as C struct members, not
    through attribute look-ups (a stream of 5,000 devices reads a dozen fields of each per reading).
    """

    pk = cython.declare(object, visibility="public")
    id = cython.declare(object, visibility="public")
    code = cython.declare(object, visibility="public")
    kind = cython.declare(object, visibility="public")
    is_active = cython.declare(object, visibility="public")
    token_hash = cython.declare(object, visibility="public")
    # The token that matched ``token_hash`` (one can): compared, not hashed again. A wrong one is never kept.
    ok_token = cython.declare(object, visibility="public")
    thresholds = cython.declare(object, visibility="public")
    eval_state = cython.declare(object, visibility="public")
    last_seen = cython.declare(object, visibility="public")
    newest = cython.declare(object, visibility="public")
    has_open = cython.declare(object, visibility="public")
    institution_id = cython.declare(object, visibility="public")
    township_id = cython.declare(object, visibility="public")
    _model = cython.declare(object, visibility="public")
    streaks = cython.declare(object, visibility="public")
    state_changed = cython.declare(object, visibility="public")
    seen_changed = cython.declare(object, visibility="public")
    newest_changed = cython.declare(object, visibility="public")
    channels = cython.declare(object, visibility="public")
    clock_offset = cython.declare(object, visibility="public")
    seq_state = cython.declare(object, visibility="public")
    screen_plan = cython.declare(object, visibility="public")
    offline_window = cython.declare(object, visibility="public")
    seen_every = cython.declare(object, visibility="public")

    FIELDS = ("pk", "code", "kind", "is_active", "token_hash", "thresholds", "eval_state", "last_seen",
              "newest_reading", "has_open", "institution_id", "institution__township_id", "channels",
              "clock_offset_seconds", "seq_state", "offline_after_minutes")

    def __init__(self, pk, code, kind, is_active, token_hash, thresholds, eval_state, last_seen, newest, has_open,
                 institution_id, township_id, channels=None, clock_offset=None, seq_state=None,
                 offline_after_minutes=None):
        from .choices import KIND_CHANNELS

        self.pk = self.id = pk
        self.code, self.kind, self.is_active, self.token_hash = code, kind, is_active, token_hash
        if type(thresholds) is str:  # jsonb as text (Django leaves JSON decoding to its fields)
            thresholds = json.loads(thresholds)
        if type(eval_state) is str:
            eval_state = json.loads(eval_state)
        self.thresholds, self.eval_state = thresholds or {}, eval_state or {}
        self.last_seen, self.has_open, self.institution_id = last_seen, has_open, institution_id
        self.township_id = township_id
        if type(channels) is str:
            channels = json.loads(channels)
        if type(seq_state) is str:
            seq_state = json.loads(seq_state)
        self.channels = frozenset(channels or KIND_CHANNELS.get(kind, CHANNEL_NAMES))
        self.clock_offset, self.seq_state = clock_offset, seq_state or {}
        if newest is None and self.eval_state.get("ts"):
            newest = datetime.fromisoformat(self.eval_state["ts"])  # written before the mark had a column
        self.newest = newest
        self.ok_token = self._model = None
        self.streaks = self.screen_plan = None
        self.state_changed = self.seen_changed = self.newest_changed = False
        # Its offline window, and how often its last-seen is written while it reports (store.seen_every).
        self.offline_window = None if offline_after_minutes is None else timedelta(minutes=offline_after_minutes)
        self.seen_every = store.seen_every(self.offline_window)

    @property
    def model(self):
        if self._model is None:
            from .models import Device

            self._model = Device.objects.select_related("institution", "building").get(pk=self.pk)
        return self._model


@cython.locals(i=cython.Py_ssize_t, taken=list, rest=list, unknown=list, check=list, dups=list, firsts=dict,
               pairs=set, split=set, recs=list, topic_code=dict, directory=dict, row=tuple, values=tuple,
               f=tuple, device=DeviceRow)
def take(raw_items, topics, received, now, prefix):
    """The messages of a batch the lane can store, decoded: ``(taken, rest, dups, attention, check)``.

    ``taken``: ``[(index, device, row)]`` with ``row`` a full ``COPY`` row (device, ts, channels,
    received_at, seq, clock_skewed), one per (device, time) of the batch; ``rest``: the indexes left to
    the exact path; ``dups``: ``(index, device pk)`` of the repeats within the batch; ``attention``: the devices that need the
    exact evaluation (an open alarm or a streak in progress); ``check``: the rows not newer than their
    device's high-water mark (they may be stored already).
    """
    from .adapters import OWN_TOPIC, topic_match
    from .ingest import _FAST_ERRORS, MIN_TS, _astuple, _decode_fast, _token_ok, _topic_codes, max_skew

    skew = max_skew()
    errors = (*_FAST_ERRORS, TypeError)
    directory, attention = store.batch_view()
    topic_code = _topic_codes.setdefault(prefix, {})
    taken, rest, unknown, check, dups = [], [], [], [], []
    firsts, pairs, split = {}, set(), set()
    utc, dt = UTC, datetime
    recs = received or [now] * len(raw_items)
    # A time within the skew of every receive time of the batch is within the skew of its own: one
    # comparison per reading (the others are checked against their own receive time).
    lo, hi = max(max(recs) - skew, MIN_TS), min(recs) + skew
    for i, raw in enumerate(raw_items):
        try:
            r = _decode_fast(raw)
        except errors:
            rest.append(i)
            continue
        if type(r) is list:
            rest.append(i)
            split.update(x.device for x in r)
            continue
        f = _astuple(r)  # (device, ts, token, values, seq, event): one call, no attribute look-ups
        code = f[0]
        if f[5] is not None or f[4] is not None:
            rest.append(i)
            split.add(code)
            continue
        if topics:
            topic = topics[i]
            named = topic_code.get(topic)
            if named is None:
                named = topic_code[topic] = topic_match(OWN_TOPIC, topic, prefix) or ""
            if named != code:
                rest.append(i)
                split.add(code)
                continue
        ts = f[1]
        rec = recs[i]
        if type(ts) is not dt or ts.tzinfo is not utc or not lo <= ts <= hi:
            if type(ts) is not dt or ts.tzinfo is not utc or ts < MIN_TS or not rec - skew <= ts <= rec + skew:
                rest.append(i)
                split.add(code)
                continue
        values = _astuple(f[3])
        token = f[2]
        device = directory.get(code)
        if device is None:
            unknown.append((i, code, token, ts, values, rec))
            continue
        ok = token == device.ok_token or (bool(device.token_hash) and _token_ok(device, token))
        if not ok or not device.is_active or device.clock_offset is not None or values == _NONE:
            rest.append(i)
            split.add(code)
            continue
        pk = device.pk
        if firsts.setdefault(pk, ts) is not ts:  # the device's second reading in the batch (rare)
            if ts == firsts[pk] or (pk, ts) in pairs:
                dups.append((i, pk))
                continue
            pairs.add((pk, ts))
        row = (pk, ts, *values, rec, None, False)
        newest = device.newest
        if newest is not None and ts <= newest:
            check.append(row)
        taken.append((i, device, row))
    if unknown:
        found = store.read_into_directory({u[1] for u in unknown})
        for i, code, token, ts, values, rec in unknown:
            device = found.get(code)
            if (device is None or not device.is_active or device.clock_offset is not None
                    or not device.token_hash or not _token_ok(device, token) or values == _NONE):
                rest.append(i)
                split.add(code)
                continue
            pk = device.pk
            if firsts.setdefault(pk, ts) is not ts:
                if ts == firsts[pk] or (pk, ts) in pairs:
                    dups.append((i, pk))
                    continue
                pairs.add((pk, ts))
            row = (pk, ts, *values, rec, None, False)
            if device.newest is not None and ts <= device.newest:
                check.append(row)
            taken.append((i, device, row))
    if split and taken:
        # A device with a message for the exact path has all its messages of the batch go there: its
        # readings are evaluated together, in time order.
        moved = [t for t in taken if t[1].code in split]
        if moved:
            rest.extend(t[0] for t in moved)
            taken = [t for t in taken if t[1].code not in split]
            gone = {t[1].pk for t in moved}
            check = [row for row in check if row[0] not in gone]
            rest.extend(i for i, pk in dups if pk in gone)
            dups = [d for d in dups if d[1] not in gone]
    if unknown or split:
        rest.sort()
    return taken, rest, dups, attention, check


_NONE = (None,) * _N


@cython.locals(risky=dict, calm=list, flat=tuple, row=tuple, col=cython.Py_ssize_t, threshold=cython.double,
               below=cython.bint, x=cython.double, duplicates=cython.Py_ssize_t, device=DeviceRow)
def store_taken(taken, dups, attention, check, statuses, now):
    """Store the lane's readings (inside the caller's transaction); ``statuses[index]`` set per message.

    One pass over the stored rows after the ``COPY``: the device's high-water mark and the threshold
    screen; then the hours to roll up and the last-seen state of the calm devices. Returns
    ``(stored, duplicates, alarms opened)``; the alarms are those of the devices handed to the exact evaluation.
    """
    from .evaluation import kinds_resolver
    from .ingest import COPY_SQL, COPY_TYPES, EXISTING_SQL, _ranges

    for i, _pk in dups:
        statuses[i] = DUPLICATE
    duplicates = len(dups)
    with psycopg.Cursor(connection.connection) as cursor:
        if check:
            cursor.execute(EXISTING_SQL, [json.dumps(_ranges(check))])
            existing = set(cursor.fetchall())
            if existing:
                for i, _device, row in taken:
                    if (row[0], row[1]) in existing:
                        statuses[i] = DUPLICATE
                        duplicates += 1
                taken = [t for t in taken if (t[2][0], t[2][1]) not in existing]
        if taken:
            with cursor.copy(COPY_SQL) as copy:
                copy.set_types(COPY_TYPES)
                write = copy.write_row
                for t in taken:
                    write(t[2])
    kinds_for = kinds_resolver(t[1] for t in taken)  # (the devices are only looked at with rules by level)
    uniform = getattr(kinds_for, "uniform", None)
    flat_for = store.flat_for
    risky, calm = {}, []
    for _i, device, row in taken:
        ts = row[1]
        newest = device.newest
        if newest is None or ts > newest:
            device.newest = ts  # in this batch's transaction: a repeat of it is looked up, not COPY'd again
        if device.pk in attention or device in risky:
            risky.setdefault(device, []).append(row)
            continue
        cached = device.screen_plan
        kinds = uniform if uniform is not None else kinds_for(device)
        flat = cached[1] if cached is not None and cached[0] is kinds else flat_for(device, kinds_for)
        for col, threshold, below in flat:
            v = row[col]
            if v is not None:
                x = v  # (a C double when compiled: values are range-checked numbers)
                if x < threshold if below else x >= threshold:
                    risky[device] = [row]
                    break
        else:
            calm.append((device, row))
    if risky and not risky.keys().isdisjoint([t[0] for t in calm]):
        # A device's earlier calm readings of the batch go with its others to the evaluation.
        kept = []
        for device, row in calm:
            if device in risky:
                risky[device].append(row)
            else:
                kept.append((device, row))
        calm = kept
    calm_rows(calm, now)
    opened = []
    if risky:
        opened = store.after_store(store.records_of(risky, attention), {}, now=now)
    return len(taken), duplicates, opened


@cython.locals(pending=dict, due=list, written=dict, hours=dict, row=tuple, entry=list, pks=list,
               at=cython.Py_ssize_t, device=DeviceRow)
def calm_rows(calm, now):
    """The express lane's calm rows (``[(device, COPY row)]``, time stamps in UTC, the receive time in the
    row), in one pass: their hour marks (``store.mark_hours``) and their devices' last-seen state
    (``store.note_seen``), row by row: a device is due when a reading's receive time is the interval past its
    last write (``seen_every``). The marks and the due state go out in one statement."""
    interval = store.state_interval()
    seen_limit = now + store._SEEN_AHEAD
    pending, at, hour = store._pending, store._WIDTH, store._HOUR
    due, written, hours = [], {}, {}
    lo = hi = pks = None
    for device, row in calm:
        pk, ts = device.pk, row[1]
        if lo is None or not lo <= ts < hi:  # a batch of a live stream is mostly in one hour
            lo = ts.replace(minute=0, second=0, microsecond=0)
            hi = lo + hour
            pks = hours.get(lo)
            if pks is None:
                pks = hours[lo] = []
        pks.append(pk)
        seen = row[at]
        if seen > seen_limit:
            continue
        entry = pending.get(pk)
        last = device.last_seen
        if entry is None:
            if last is None or seen - last >= device.seen_every:
                due.append((pk, seen, ts))
                written[pk] = device
                device.last_seen = seen  # a device's later readings of the batch count from this write
            else:
                pending[pk] = [seen, ts, device]
            continue
        if seen > entry[0]:
            entry[0] = seen
        if ts > entry[1]:
            entry[1] = ts
        entry[2] = device
        if last is None or entry[0] - last >= device.seen_every:
            del pending[pk]
            due.append((pk, entry[0], entry[1]))
            written[pk] = device
            device.last_seen = entry[0]
    store._finish(due, interval, written, now, hours)  # the marks with the device state: one statement
