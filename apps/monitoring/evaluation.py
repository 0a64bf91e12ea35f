"""Threshold evaluation: streaks per device channel, one open alarm per device+channel+type.

Runs inside the ingest transaction with the batch's devices locked, so two consumers never
evaluate the same device at once. Readings older than the last evaluated one (late or
redelivered) are stored but not evaluated again, so a redelivered batch never double counts.
"""
from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from .choices import BELOW_IS_ABNORMAL, OPEN_ALARM_STATES, RULE_COLUMNS, RuleChannel
from .models import Alarm, Device, ThresholdRule


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


def evaluate(items, *, now=None):
    """Evaluate the stored readings of a batch (``ingest.Item`` list); returns the alarms opened."""
    from . import services

    now = now or timezone.now()
    by_device = defaultdict(list)
    for it in items:
        by_device[it.device.pk].append(it)
    devices = {it.device.pk: it.device for it in items}
    kinds = rules_by_kind()
    open_alarms = {
        (a.device_id, a.channel, a.kind): a
        for a in Alarm.objects.filter(device_id__in=list(devices), state__in=OPEN_ALARM_STATES)
    }
    opened, dirty = [], {}
    for device_id, device_items in by_device.items():
        device = devices[device_id]
        device_items.sort(key=lambda it: it.ts)
        state = dict(device.eval_state or {})
        streaks = dict(state.get("s") or {})
        last_eval = datetime.fromisoformat(state["ts"]) if state.get("ts") else None
        rules = [r for ch, r in kinds.get(device.kind, {}).items() if ch != RuleChannel.OFFLINE]
        for it in device_items:
            if last_eval is not None and it.ts <= last_eval:
                continue
            last_eval = it.ts
            offline = open_alarms.pop((device_id, Alarm.OFFLINE_CHANNEL, RuleChannel.OFFLINE), None)
            if offline is not None:
                services.auto_clear(offline, it.ts, "device reporting again")
                dirty.pop(offline.pk, None)
            for rule in rules:
                threshold = threshold_for(device, rule)
                for col in RULE_COLUMNS[rule.channel]:
                    value = it.values.get(col)
                    if value is None:
                        continue
                    key = f"{rule.channel}:{col}"
                    n, normal_since, peak = (list(streaks.get(key) or ()) + [0, None, None])[:3]
                    akey = (device_id, col, rule.channel)
                    alarm = open_alarms.get(akey)
                    worse = min if rule.channel in BELOW_IS_ABNORMAL else max
                    if is_abnormal(rule, value, threshold):
                        n += 1
                        normal_since = None
                        peak = value if peak is None else worse(peak, value)
                        if alarm is not None:
                            if n == rule.consecutive:
                                alarm.count += 1  # a new episode of the same condition
                            alarm.last_value, alarm.last_at = value, it.ts
                            alarm.peak = worse(alarm.peak if alarm.peak is not None else value, peak)
                            dirty[alarm.pk] = alarm
                        elif n >= rule.consecutive:
                            alarm = services.open_alarm(device, rule, col, value, threshold, it.ts, peak=peak)
                            open_alarms[akey] = alarm
                            opened.append(alarm)
                        if alarm is not None and n >= rule.consecutive and services.should_open_hazard(
                                alarm, rule, it.ts):
                            services.open_hazard(alarm)
                            dirty.pop(alarm.pk, None)
                    else:
                        n, peak = 0, None
                        normal_since = normal_since or _iso(it.ts)
                        if alarm is not None and it.ts - datetime.fromisoformat(normal_since) >= timedelta(
                                minutes=rule.clear_after_minutes):
                            services.auto_clear(alarm, it.ts, "values normal")
                            open_alarms.pop(akey, None)
                            dirty.pop(alarm.pk, None)
                    streaks[key] = (n, normal_since, peak)
        state["s"] = streaks
        if last_eval is not None:
            state["ts"] = _iso(last_eval)
        device.eval_state = state
        newest = max(device_items, key=lambda it: it.ts)
        if (device.last_seen is None or newest.ts > device.last_seen) and newest.ts <= now + timedelta(minutes=5):
            device.last_seen = newest.ts
            device.last_values = {**newest.values, "ts": _iso(newest.ts)}
    if dirty:
        Alarm.objects.bulk_update(list(dirty.values()), ["count", "last_value", "last_at", "peak"])
    Device.objects.bulk_update(list(devices.values()), ["eval_state", "last_seen", "last_values"])
    return opened
