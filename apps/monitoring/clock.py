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
    reading row (they have ``device``).
    """
    from .ingest import max_skew

    skew = max_skew().total_seconds()
    per_device = {device: list(items) for device, items in by_device.items()}
    for it in extra:
        per_device.setdefault(it.device, []).append(it)
    for device, its in per_device.items():
        if not its:
            continue
        fields = {}
        newest = max(its, key=_arrival)
        offset = ((newest.measured or newest.ts) - (newest.received or now)).total_seconds()
        wrong = int(round(offset)) if abs(offset) > skew else None
        if wrong != device.clock_offset and not (wrong is not None and device.clock_offset is not None
                                                 and abs(wrong - device.clock_offset) < 60):
            fields["clock_offset_seconds"] = wrong
            fields["clock_checked_at"] = now
            device.clock_offset = wrong
        numbers = [n for n in map(_seq_of, its) if n is not None]
        if numbers:
            state = note_sequence(device.seq_state, numbers)
            if state != device.seq_state:
                fields["seq_state"] = state
                fields["seq_missing"] = missing_count(state)
                device.seq_state = state
        if fields:
            Device.objects.filter(pk=device.pk).update(**fields)


def _arrival(it):
    return it.received or it.ts, it.measured or it.ts


def _seq_of(it):
    entry = it.entry
    if entry is not None:
        return entry.record.seq if entry.record is not None else None
    return it.seq
