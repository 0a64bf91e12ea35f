"""Threshold evaluation: streaks per device channel, one open alarm per device+channel+type.

Runs inside the ingest transaction with the batch's devices locked, so two consumers never
evaluate the same device at once. Readings older than the last evaluated one (late or
redelivered) are stored but not evaluated again, so a redelivered batch never double counts.
"""
import json
import time
from datetime import datetime, timedelta

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from .choices import BELOW_IS_ABNORMAL, OPEN_ALARM_STATES, RULE_COLUMNS, RuleChannel
from .models import Alarm, ThresholdRule

RULES_TTL = 5.0  # seconds a process keeps the rules; a change in this process drops them at once
_rules_cache = [None, 0.0]


def _active_rules():
    """(every active rule, the paths of the administrations defining one), kept for ``RULES_TTL``."""
    cached, at = _rules_cache
    if cached is not None and time.monotonic() - at < RULES_TTL:
        return cached
    rules = list(ThresholdRule.objects.filter(is_active=True).select_related("administration").order_by("pk"))
    levels = frozenset(r.administration.path for r in rules if r.administration_id)
    _township_paths.clear()  # (a township may have moved in the tree)
    signature = (_signature(rules), levels)
    if cached is not None and signature == _rules_signature[0]:
        # The same rules: the same objects, so what is kept with them stays (the plans, and the screen
        # plan on each device's copy). A live stream's device reports less often than the TTL: without
        # this, each of its readings would plan its device again.
        _rules_cache[1] = time.monotonic()
        return cached
    cached = (rules, levels)
    _rules_cache[:] = [cached, time.monotonic()]
    _rules_signature[0] = signature
    _plans.clear()
    _kinds.clear()
    return cached


_rules_signature = [None]


def _signature(rules):
    """Every stored field of every rule, with its administration's path: equal only for the same rules."""
    return tuple((tuple(getattr(r, f.attname) for f in r._meta.concrete_fields),
                  r.administration.path if r.administration_id else None) for r in rules)


def rules_by_kind(path=""):
    """{device kind: {rule channel: rule}} in force at the tree ``path`` (a township's; "" for the
    platform default): per channel, the rule of the nearest administration defining one (rules by
    level, ``apps.orgs.rules``); within one level a rule for the kind beats a rule for every kind.

    Kept for ``RULES_TTL`` seconds (the ingest core asks on every batch); saving or deleting a rule
    in this process drops it, and another process (the MQTT consumer) sees the change within the TTL.
    """
    from apps.orgs import rules as levels

    from .choices import DeviceKind

    rules, defined = _active_rules()
    level = _level(path, defined)
    kinds = _kinds.get(level)
    if kinds is None:
        kinds = {}
        for kind in DeviceKind.values:
            candidates = [r for r in rules if not r.device_kind or r.device_kind == kind]
            found = levels.resolve(candidates, [level], key=lambda r: r.channel, looser=ThresholdRule.looser,
                                   order=lambda r: 1 if r.device_kind else 0)[level]
            kinds[kind] = found
        _kinds[level] = kinds
    return kinds


def _level(path, defined):
    """The deepest administration path above ``path`` that defines a rule ("" when none does)."""
    if not defined or not path:
        return ""
    from apps.orgs.tree import ancestor_paths

    return next((p for p in reversed(ancestor_paths(path)) if p in defined), "")


def township_paths(township_ids):
    """{township id: tree path} for the batch's devices: one query for the townships not yet known
    (kept with the rules); none at all while no administration defines a rule of its own."""
    _rules, defined = _active_rules()
    if not defined:
        return {}
    missing = {t for t in township_ids if t is not None and t not in _township_paths}
    if missing:
        from apps.orgs.models import Organization

        _township_paths.update(Organization.objects.filter(pk__in=missing).values_list("pk", "path"))
    return _township_paths


def kinds_resolver(devices):
    """For one batch: ``device -> {device kind: {channel: rule}}`` in force at the device's township
    (rules by level). While no administration defines a rule this is the default for every device,
    without a query; otherwise one query at most for the townships not yet known."""
    default = rules_by_kind()
    if not _active_rules()[1]:  # no administration defines a rule of its own: the default everywhere
        uniform = lambda device: default  # noqa: E731
        uniform.uniform = default  # callers in a loop may use it without the call
        return uniform
    paths = township_paths({getattr(d, "township_id", None) for d in devices})
    if not paths:
        return lambda device: default

    def kinds_for(device):
        path = paths.get(getattr(device, "township_id", None))
        return rules_by_kind(path) if path else default

    return kinds_for


def forget_rules(**kwargs):
    _rules_cache[:] = [None, 0.0]
    _rules_signature[0] = None
    _plans.clear()
    _kinds.clear()
    _township_paths.clear()


_kinds = {}  # level path -> {device kind: {channel: rule}}
_township_paths = {}


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


_plans = {}


def _plan(device, kinds):
    """Per device: (rule, threshold, below, [(column, state key, alarm key)]) for each active rule.

    Plans are the same for every device of a kind without overrides; they are kept with the rules.
    """
    declared = getattr(device, "channels", None)
    if not isinstance(declared, frozenset):
        declared = frozenset(device.declared_channels)
    key = (device.kind, json.dumps(device.thresholds, sort_keys=True) if device.thresholds else "", declared,
           id(kinds))
    shared = _plans.get(key)
    if shared is None:
        shared = []
        for channel, rule in kinds.get(device.kind, {}).items():
            if channel == RuleChannel.OFFLINE:
                continue
            # Only the device's declared channels are evaluated (a residual-current detector's stray t1 is not).
            cols = [(col, f"{rule.channel}:{col}", COLUMN_INDEX[col]) for col in RULE_COLUMNS[channel]
                    if col in declared]
            if not cols:
                continue
            shared.append((rule, threshold_for(device, rule), rule.channel in BELOW_IS_ABNORMAL, cols))
        _plans[key] = shared
    return shared


def _column_index():
    from .choices import CHANNEL_NAMES

    return {name: i for i, name in enumerate(CHANNEL_NAMES, start=2)}


COLUMN_INDEX = _column_index()


def _extremes(rows):
    """{column index: (min, max)} of reading rows (columns without a value left out)."""
    from .ingest import _figures

    out = {}
    for i, vals in enumerate(zip(*rows, strict=True)):
        if i >= 2 and (f := _figures(vals)) is not None:
            out[i] = (f[0], f[1])
    return out


def _all_normal(device_id, extremes, plan, open_alarms):
    """True when no rule column is beyond its threshold (``extremes``: {column: (min, max)} of the
    readings) and none has an open alarm.

    Then the per-reading loop would only mark each column's streak normal from its first value on,
    which ``_mark_normal`` does in one pass per column; anything else takes the loop.
    """
    for rule, threshold, below, cols in plan:
        for col, _key, i in cols:
            if open_alarms and (device_id, col, rule.channel) in open_alarms:
                return False
            ext = extremes.get(i)
            if ext is not None and (ext[0] < threshold if below else ext[1] >= threshold):
                return False
    return True


def _mark_normal(device_items, plan, streaks):
    """Each rule column's streak: normal since its first value in these (time-ordered) readings."""
    for _rule, _threshold, _below, cols in plan:
        for _col, key, i in cols:
            streak = streaks.get(key)
            if streak is None or streak[0] or streak[1] is None:
                for it in device_items:
                    if it.row[i] is not None:
                        streaks[key] = (0, it.ts.isoformat(), None)
                        break


def evaluate(by_device, *, now=None, extremes=None):
    """Evaluate the valid readings of a batch: ``{ingest.DeviceRow: [ingest.Item, ...]}``.

    ``extremes``: per device, {column: (min, max)} of all its readings in the batch, when known
    (the prepare stage computes them); used when all of them are new. Sets on each device its new
    streaks, last-seen time and high-water mark (the ingest core writes them with the batch);
    returns the alarms opened.
    """
    from . import services

    now = now or timezone.now()
    extremes = extremes or {}
    kinds_for = kinds_resolver(by_device)
    with_open = [d.pk for d in by_device if d.has_open]
    open_alarms = {
        (a.device_id, a.channel, a.kind): a
        for a in Alarm.objects.filter(device_id__in=with_open, state__in=OPEN_ALARM_STATES)
    } if with_open else {}
    opened, dirty = [], {}
    offline_kind = RuleChannel.OFFLINE.value
    for device, device_items in by_device.items():
        device_id = device.pk
        before = device.eval_state.get("s") or {}
        streaks = dict(before)
        last_eval = device.newest
        plan = _plan(device, kinds_for(device))
        offline_key = (device_id, Alarm.OFFLINE_CHANNEL, offline_kind)
        ext = extremes.get(device)
        if last_eval is None or min(device_items, key=_ts_of).ts > last_eval:
            fresh = sorted(device_items, key=_ts_of)
        else:
            fresh = sorted((it for it in device_items if it.ts > last_eval), key=_ts_of)
            ext = None
        if fresh and ext is None:
            ext = _extremes([it.row for it in fresh])
        if fresh and _all_normal(device_id, ext, plan, open_alarms):
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
                for col, key, _i in cols:
                    value = values.get(col)
                    if value is None:
                        continue
                    abnormal = value < threshold if below else value >= threshold
                    streak = streaks.get(key)
                    akey = (device_id, col, rule.channel)
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
                            alarm = services.open_alarm(device.model, rule, col, value, threshold, ts, peak=peak)
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
        if streaks != before:
            device.streaks, device.state_changed = streaks, True
        if last_eval is not None and (device.newest is None or last_eval > device.newest):
            device.newest, device.newest_changed = last_eval, True
        # Last seen is the platform's receive time, never the device's clock (a slow clock is not offline).
        received = max((it.received or now for it in device_items), default=now)
        if device.last_seen is None or received > device.last_seen:
            device.last_seen = received
            device.seen_changed = True
    if dirty:
        Alarm.objects.bulk_update(list(dirty.values()), ["count", "last_value", "last_at", "peak"])
    return opened


def _ts_of(item):
    return item.ts


post_save.connect(forget_rules, sender=ThresholdRule, dispatch_uid="monitoring-forget-rules-save")
post_delete.connect(forget_rules, sender=ThresholdRule, dispatch_uid="monitoring-forget-rules-delete")
