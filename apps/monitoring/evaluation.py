"""Threshold evaluation: streaks per device channel, one open alarm per device+channel+type.

Runs inside the ingest transaction with the batch's devices locked, so two consumers never
evaluate the same device at once. Readings older than the last evaluated one (late or
redelivered) are stored but not evaluated again, so a redelivered batch never double counts.
"""
import json
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from .choices import BELOW_IS_ABNORMAL, OPEN_ALARM_STATES, RULE_COLUMNS, RuleChannel
from .models import Alarm, ThresholdRule


def rules_by_kind():
    """{device kind: {rule channel: rule}}; a rule for the kind beats a rule for every kind."""
    generic, specific = {}, defaultdict(dict)
    for rule in ThresholdRule.objects.filter(is_active=True).order_by("pk"):
        if rule.device_kind:
            specific[rule.device_kind][rule.channel] = rule
        else:
            generic[rule.channel] = rule
    from .choices import DeviceKind

    return {kind: {**generic, **specific.get(kind, {})} for kind in DeviceKind.values}


def threshold_for(device, rule):
    override = (device.thresholds or {}).get(rule.channel)
    if isinstance(override, int | float) and not isinstance(override, bool):
        return float(override)
    return rule.threshold


def is_abnormal(rule, value, threshold):
    if rule.channel in BELOW_IS_ABNORMAL:
        return value < threshold
    return value >= threshold


def _iso(ts):
    return ts.isoformat()


def _plan(device, kinds):
    """Per device: (rule, threshold, below, [(column, state key, alarm key)]) for each active rule."""
    plan = []
    for channel, rule in kinds.get(device.kind, {}).items():
        if channel == RuleChannel.OFFLINE:
            continue
        cols = [(col, f"{rule.channel}:{col}", (device.pk, col, rule.channel)) for col in RULE_COLUMNS[channel]]
        plan.append((rule, threshold_for(device, rule), rule.channel in BELOW_IS_ABNORMAL, cols))
    return plan


def _column_index():
    from .choices import CHANNEL_NAMES

    return {name: i for i, name in enumerate(CHANNEL_NAMES, start=2)}


COLUMN_INDEX = _column_index()


def _all_normal(device_items, plan, open_alarms):
    """True when no rule column of these readings is beyond its threshold and none has an open alarm.

    Then the per-reading loop would only mark each column's streak normal from its first value on,
    which ``_mark_normal`` does in one pass per column; anything else takes the loop.
    """
    columns = list(zip(*(it.row for it in device_items), strict=True))
    for _rule, threshold, below, cols in plan:
        for col, _key, akey in cols:
            if akey in open_alarms:
                return False
            vals = [v for v in columns[COLUMN_INDEX[col]] if v is not None]
            if vals and (min(vals) < threshold if below else max(vals) >= threshold):
                return False
    return True


def _mark_normal(device_items, plan, streaks):
    for _rule, _threshold, _below, cols in plan:
        for col, key, _akey in cols:
            streak = streaks.get(key)
            if streak is None or streak[0] or streak[1] is None:
                i = COLUMN_INDEX[col]
                for it in device_items:
                    if it.row[i] is not None:
                        streaks[key] = (0, it.ts.isoformat(), None)
                        break


def evaluate(items, *, now=None):
    """Evaluate the stored readings of a batch (``ingest.Item`` list); returns the alarms opened."""
    from . import services

    now = now or timezone.now()
    by_device = defaultdict(list)
    for it in items:
        by_device[it.device.id].append(it)
    devices = {it.device.id: it.device for it in items}
    kinds = rules_by_kind()
    open_alarms = {
        (a.device_id, a.channel, a.kind): a
        for a in Alarm.objects.filter(device_id__in=list(devices), state__in=OPEN_ALARM_STATES)
    }
    opened, dirty = [], {}
    offline_kind = RuleChannel.OFFLINE.value
    for device_id, device_items in by_device.items():
        device = devices[device_id]
        device_items.sort(key=lambda it: it.ts)
        state = dict(device.eval_state or {})
        streaks = dict(state.get("s") or {})
        last_eval = datetime.fromisoformat(state["ts"]) if state.get("ts") else None
        plan = _plan(device, kinds)
        offline_key = (device_id, Alarm.OFFLINE_CHANNEL, offline_kind)
        fresh = device_items if last_eval is None else [it for it in device_items if it.ts > last_eval]
        if fresh and _all_normal(fresh, plan, open_alarms):
            # The common case, in bulk: normal values, nothing open (the same outcome as the loop below).
            if open_alarms and offline_key in open_alarms:
                offline = open_alarms.pop(offline_key)
                services.auto_clear(offline, fresh[0].ts, "device reporting again")
                dirty.pop(offline.pk, None)
            _mark_normal(fresh, plan, streaks)
            last_eval = fresh[-1].ts
            fresh = ()
        for it in fresh:
            ts = it.ts
            last_eval = ts
            values = it.values
            if open_alarms and offline_key in open_alarms:
                offline = open_alarms.pop(offline_key)
                services.auto_clear(offline, ts, "device reporting again")
                dirty.pop(offline.pk, None)
            for rule, threshold, below, cols in plan:
                for col, key, akey in cols:
                    value = values.get(col)
                    if value is None:
                        continue
                    abnormal = value < threshold if below else value >= threshold
                    streak = streaks.get(key)
                    alarm = open_alarms.get(akey)
                    if not abnormal and alarm is None:
                        # The common case: normal value, nothing open.
                        if streak is None or streak[0] or streak[1] is None:
                            streaks[key] = (0, ts.isoformat(), None)
                        continue
                    n, normal_since, peak = (list(streak or ()) + [0, None, None])[:3]
                    worse = min if below else max
                    if abnormal:
                        n += 1
                        normal_since = None
                        peak = value if peak is None else worse(peak, value)
                        if alarm is not None:
                            if n == rule.consecutive:
                                alarm.count += 1  # a new episode of the same condition
                            alarm.last_value, alarm.last_at = value, ts
                            alarm.peak = worse(alarm.peak if alarm.peak is not None else value, peak)
                            dirty[alarm.pk] = alarm
                        elif n >= rule.consecutive:
                            alarm = services.open_alarm(device, rule, col, value, threshold, ts, peak=peak)
                            open_alarms[akey] = alarm
                            opened.append(alarm)
                        if alarm is not None and n >= rule.consecutive and services.should_open_hazard(
                                alarm, rule, ts):
                            services.open_hazard(alarm)
                            dirty.pop(alarm.pk, None)
                    else:
                        n, peak = 0, None
                        normal_since = normal_since or ts.isoformat()
                        if ts - datetime.fromisoformat(normal_since) >= timedelta(minutes=rule.clear_after_minutes):
                            services.auto_clear(alarm, ts, "values normal")
                            open_alarms.pop(akey, None)
                            dirty.pop(alarm.pk, None)
                    streaks[key] = (n, normal_since, peak)
        state["s"] = streaks
        if last_eval is not None:
            state["ts"] = last_eval.isoformat()
        device.eval_state = state
        newest = max(device_items, key=lambda it: it.ts)
        if (device.last_seen is None or newest.ts > device.last_seen) and newest.ts <= now + timedelta(minutes=5):
            device.last_seen = newest.ts
            device.last_values = {**newest.values, "ts": newest.ts.isoformat()}
    if dirty:
        Alarm.objects.bulk_update(list(dirty.values()), ["count", "last_value", "last_at", "peak"])
    save_device_state(devices.values())
    return opened


def save_device_state(devices):
    """Write evaluation state, last_seen and last values of the batch's devices in one statement."""
    devices = list(devices)
    if not devices:
        return
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:  # server-side binding, binary arrays
            cursor.execute(
                "UPDATE monitoring_device d SET eval_state = u.eval_state::jsonb, last_seen = u.last_seen, "
                "last_values = u.last_values::jsonb FROM unnest(%b::bigint[], %b::text[], %b::timestamptz[], "
                "%b::text[]) AS u(id, eval_state, last_seen, last_values) WHERE d.id = u.id",
                [[d.pk for d in devices], [json.dumps(d.eval_state) for d in devices], [d.last_seen for d in devices],
                 [json.dumps(d.last_values, ensure_ascii=False) for d in devices]])
        return
    params = [
        (json.dumps(d.eval_state), connection.ops.adapt_datetimefield_value(d.last_seen),
         json.dumps(d.last_values, ensure_ascii=False), d.pk)
        for d in devices
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE monitoring_device SET eval_state = %s, last_seen = %s, last_values = %s WHERE id = %s", params)
