"""Per-device clock and sequence bookkeeping of the ingest (``Device.clock_offset_seconds``, ``seq_state``).

Both are written only when they change: a device whose clock is right and that sends no sequence
numbers costs nothing here. Sequence numbers: a jump past ``last + 1`` records the numbers skipped
as missing; a late message (redelivered, or handled by another consumer of the shared group) that
fills a missing number removes it; a number far below the last one is the device restarting its
count and starts afresh.
"""
from .models import Device

MAX_MISSING_RANGES = 50  # the oldest ranges are dropped past this (their count stays in seq_missing)
RESTART_BELOW = 1000  # a number this far below the last one is a restarted counter, not a late message
OFFSET_LIMIT = 2**31 - 1  # clock_offset_seconds is a 32-bit integer


def note_sequence(state, numbers):
    """The new ``seq_state`` ({"last", "missing": [[a, b], ...]}) after these sequence numbers."""
    last = state.get("last")
    missing = [list(r) for r in state.get("missing", [])]
    for n in numbers:
        if last is None:
            last = n
            continue
        if n == last + 1:
            last = n
        elif n > last + 1:
            missing.append([last + 1, n - 1])
            last = n
        elif n <= last:
            if n < last - RESTART_BELOW or n == 0:
                last, missing = n, []  # the device restarted its counter
                continue
            kept = []
            for a, b in missing:  # a late message fills a hole
                if a <= n <= b:
                    if a < n:
                        kept.append([a, n - 1])
                    if n < b:
                        kept.append([n + 1, b])
                else:
                    kept.append([a, b])
            missing = kept
    missing = missing[-MAX_MISSING_RANGES:]
    return {"last": last, "missing": missing}


def missing_count(state):
    return sum(b - a + 1 for a, b in state.get("missing", []))


def note_batch(by_device, extra, now):
    """Update the clock offset and sequence state of the batch's devices (inside its transaction).

    ``by_device``: {device row: [items]} of the batch's valid readings; ``extra``: event items without a
    reading row (they have ``device``). Whatever changed is written in ONE statement for all devices:
    a clock that turns wrong or right (the flag the device page shows) and new sequence state; a wrong
    clock whose offset only drifted (a minute or more) is kept in the process and written with the
    device state (``store.flush_device_state``: per interval and when the consumer stops).
    """
    from .ingest import max_skew
    from .store import keep_clock_offset

    skew = max_skew().total_seconds()
    per_device = by_device
    if extra:
        per_device = {device: list(items) for device, items in by_device.items()}
        for it in extra:
            per_device.setdefault(it.device, []).append(it)
    changes = []
    for device, its in per_device.items():
        if not its:
            continue
        newest = max(its, key=_arrival) if len(its) > 1 else its[0]
        offset = ((newest.measured or newest.ts) - (newest.received or now)).total_seconds()
        # Clamped to the column (a 32-bit integer: ±68 years); a clock at year 1 is as wrong as it gets.
        wrong = max(-OFFSET_LIMIT, min(OFFSET_LIMIT, int(round(offset)))) if abs(offset) > skew else None
        clock = seq = None
        current = device.clock_offset
        if (wrong is None) != (current is None):
            clock = (wrong,)  # the flag turns on or off: now
            device.clock_offset = wrong
        elif wrong is not None and abs(wrong - current) >= 60:
            keep_clock_offset(device.pk, wrong, now)  # only the size of the offset moved: lazily
            device.clock_offset = wrong
        numbers = [n for n in map(_seq_of, its) if n is not None]
        if numbers:
            state = note_sequence(device.seq_state, numbers)
            if state != device.seq_state:
                seq = state
                device.seq_state = state
        if clock is not None or seq is not None:
            changes.append((device.pk, clock, seq))
    if changes:
        write_clock_and_sequence(changes, now)


def write_clock_and_sequence(changes, now):
    """``changes``: [(device pk, (offset,) or None, seq state or None)], written in one statement."""
    import json

    from django.db import connection

    changes.sort(key=lambda c: c[0])  # one lock order for every consumer
    if connection.vendor == "postgresql":
        import psycopg

        from .store import id_array

        connection.ensure_connection()
        doc = [{"id": pk, "c": clock is not None, "o": clock[0] if clock else None, "s": seq,
                "m": missing_count(seq) if seq is not None else None} for pk, clock, seq in changes]
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                "UPDATE monitoring_device d SET "
                "clock_offset_seconds = CASE WHEN u.c THEN u.o ELSE d.clock_offset_seconds END, "
                "clock_checked_at = CASE WHEN u.c THEN %s ELSE d.clock_checked_at END, "
                "seq_state = COALESCE(u.s, d.seq_state), seq_missing = COALESCE(u.m, d.seq_missing) "
                "FROM jsonb_to_recordset(%s::jsonb) AS u(id bigint, c boolean, o integer, s jsonb, m integer) "
                "WHERE d.id = u.id AND d.id = ANY(%s::bigint[])",  # the ids again: see store._SEEN_SQL
                [now, json.dumps(doc), id_array(pk for pk, _clock, _seq in changes)])
        return
    for pk, clock, seq in changes:
        fields = {}
        if clock is not None:
            fields.update(clock_offset_seconds=clock[0], clock_checked_at=now)
        if seq is not None:
            fields.update(seq_state=seq, seq_missing=missing_count(seq))
        Device.objects.filter(pk=pk).update(**fields)


def _arrival(it):
    return it.received or it.ts, it.measured or it.ts


def _seq_of(it):
    entry = it.entry
    if entry is not None:
        return entry.record.seq if entry.record is not None else None
    return it.seq
