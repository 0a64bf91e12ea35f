"""Chart series from the rollups (one query, two at most), for ECharts."""
from collections import defaultdict
from datetime import UTC, timedelta

from django.db.models import CharField, Count, IntegerField, Max, Min, Subquery, Sum, Value
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import BELOW_IS_ABNORMAL, CHANNEL_LABELS, ROLLUP_CHANNELS, RuleChannel
from .models import Alarm, DailyRollup, HourlyRollup, Reading, RollupMark

# Up to this range a chart has a point per hour; beyond it, a point per whole local day: a 90-day
# chart is 91 points, read from the daily rollups (and today's from the hourly ones).
HOURLY_UP_TO = timedelta(days=7)


# One panel per physical unit: readings in mA, °C, A and V never share an axis.
UNITS = {"residual_ma": "mA", "t1": "°C", "t2": "°C", "t3": "°C", "t4": "°C", "ia": "A", "ib": "A", "ic": "A",
         "ua": "V", "ub": "V", "uc": "V", "arc_count": ""}
UNIT_ORDER = ("mA", "°C", "A", "V", "")
UNIT_LABELS = {"mA": _("Residual current (mA)"), "°C": _("Temperature (°C)"), "A": _("Current (A)"),
               "V": _("Voltage (V)"), "": _("Arc faults")}
RULE_UNITS = {RuleChannel.RESIDUAL: "mA", RuleChannel.TEMPERATURE: "°C", RuleChannel.CURRENT: "A",
              RuleChannel.OVERVOLTAGE: "V", RuleChannel.UNDERVOLTAGE: "V", RuleChannel.ARC: ""}


def chart_data(device, start, end, channels=None):
    """{"step": "hour"|"day", "channels": [{"name", "label", "unit", "points": [[time, min, avg, max], ...]}]}."""
    daily = end - start > HOURLY_UP_TO
    series = _daily(device, start, end, channels) if daily else _hourly(device, start, end, channels)
    order = [c for c in ROLLUP_CHANNELS if c in series]
    return {"step": "day" if daily else "hour",
            "channels": [{"name": c, "label": str(CHANNEL_LABELS.get(c, c)), "unit": UNITS.get(c, ""),
                          "points": series[c]} for c in order]}


def device_chart(device, start, end, channels=None):
    """What the device and alarm pages draw: :func:`chart_data` plus
    ``"panels": [{"unit", "label", "channels": [names], "thresholds": [{"value", "label", "below"}]}]`` (one
    panel per unit) and ``"alarms": [{"time", "channel", "value", "severity", "label", "url"}]`` (where
    they were raised). Every point carries the minimum and maximum of its hour or day besides the
    mean, and the chart draws all three: a reading at its worst is what an alarm is about."""
    chart = chart_data(device, start, end, channels)
    names = [c["name"] for c in chart["channels"]]
    chart["panels"] = _panels(device, names)
    chart["alarms"] = _alarms(device, start, end, channels)
    return chart


def _panels(device, channels):
    """The channels grouped by unit, each group with the thresholds that apply to this device."""
    from .evaluation import rules_by_kind, threshold_for

    township = device.institution.township
    rules = rules_by_kind(township.path if township else "").get(device.kind, {})
    panels = []
    for unit in UNIT_ORDER:
        names = [c for c in channels if UNITS.get(c, "") == unit]
        if not names:
            continue
        thresholds = [{"value": threshold_for(device, rule), "label": str(rule.get_channel_display()),
                       "below": rule.channel in BELOW_IS_ABNORMAL}
                      for channel, rule in sorted(rules.items()) if RULE_UNITS.get(channel) == unit]
        panels.append({"unit": unit, "label": str(UNIT_LABELS[unit]), "channels": names, "thresholds": thresholds})
    return panels


def _alarms(device, start, end, channels):
    """The device's alarms opened in the range, to mark where they were raised (one query)."""
    qs = Alarm.objects.filter(device=device, opened_at__gte=start, opened_at__lte=end).order_by("opened_at")
    if channels:
        qs = qs.filter(channel__in=channels)
    return [{"time": timezone.localtime(a.opened_at).strftime("%Y-%m-%d %H:%M:%S"), "channel": a.channel,
             "value": a.first_value if a.first_value is not None else a.peak, "severity": a.severity,
             "label": f"{a.get_severity_display()} {a.get_kind_display()}", "url": a.get_absolute_url()}
            for a in qs[:200]]


def _point(label, lo, hi, total, n):
    return [label, round(lo, 2), round(total / n, 2) if n else None, round(hi, 2)]


def _pending():
    return RollupMark.objects.values("hour")


def _raw_tail(device, lo, hi, channels, *group):
    """Per channel, the figures of ``device``'s raw readings in ``lo``..``hi`` of the hours the rollup job
    has not done yet (``RollupMark``), grouped by ``group`` (annotations): querysets to UNION."""
    first = Subquery(RollupMark.objects.filter(hour__gte=lo, hour__lt=hi).order_by("hour").values("hour")[:1])
    base = (Reading.objects.filter(device=device, ts__gte=lo, ts__lt=hi).filter(ts__gte=first)
            .annotate(h=TruncHour("ts", tzinfo=UTC)).filter(h__in=_pending()))
    out = []
    for channel in channels or ROLLUP_CHANNELS:
        if channel not in ROLLUP_CHANNELS:  # an unknown channel has no readings (not a column to query)
            continue
        qs = base.filter(**{f"{channel}__isnull": False})
        if group:
            qs = qs.annotate(**group[0])
        keys = list(group[0]) if group else ["h"]
        out.append(qs.values(*keys).order_by().annotate(
            channel=Value(channel, CharField()), lo=Min(channel), hi=Max(channel), total=Sum(channel),
            n=Count(channel)))
    return out


def hourly_rows(device, start, end, channels=None):
    """(channel, hour, min, max, sum, count) of the hours ``start``..``end`` (inclusive) in ONE query:
    the rollups of the hours the job has done, the raw readings of the others (exact either way)."""
    first = start.replace(minute=0, second=0, microsecond=0)
    qs = HourlyRollup.objects.filter(device=device, hour__gte=first, hour__lte=end).exclude(hour__in=_pending())
    if channels:
        qs = qs.filter(channel__in=channels)
    rolled = qs.order_by().values_list("channel", "hour", "min", "max", "sum", "count")
    raw = [q.values_list("channel", "h", "lo", "hi", "total", "n")
           for q in _raw_tail(device, first, end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1),
                              channels)]
    return sorted(rolled.union(*raw, all=True), key=lambda r: (r[0], r[1]))


def _hourly(device, start, end, channels):
    series = defaultdict(list)
    for channel, hour, lo, hi, total, n in hourly_rows(device, start, end, channels):
        series[channel].append(_point(timezone.localtime(hour).strftime("%Y-%m-%d %H:%M"), lo, hi, total, n))
    return series


def _daily(device, start, end, channels):
    """Whole local days from the first to the last of the range: the days already rolled up from
    the daily rollups, the others (today; any day not rolled up yet) summed from the hourly ones.

    Exactly: every daily row of the range, and the hourly sums of the days from the first day
    without a daily row (scanning from the first day) to the last that have none. The daily job
    leaves only the last day or two to the hourly rollups, so the usual case is ONE query: the
    daily rows with the hourly sums of the last two days (a UNION); only when a day before those
    turns out not rolled up (before the job's first run, say) does a second query sum the rest.
    """

    first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    tail = max(first, last - timedelta(days=1))
    stored = DailyRollup.objects.filter(device=device, day__gte=first, day__lte=last)
    if channels:
        stored = stored.filter(channel__in=channels)
    stored = stored.order_by().annotate(src=Value(0, IntegerField())).values_list(
        "src", "channel", "day", "min", "max", "sum", "count")
    days, summed = {}, {}
    for src, channel, day, lo, hi, total, n in stored.union(*_summed_days(device, tail, last, channels), all=True):
        if src:
            _merge(summed, (channel, day), (lo, hi, total, n))
        else:
            days[(channel, day)] = (lo, hi, total, n)
    done = {day for _channel, day in days}
    todo = first
    while todo in done and todo < last:
        todo += timedelta(days=1)
    if todo not in done:
        if todo < tail:  # a day before the last two is not rolled up: sum those days too
            more = _summed_days(device, todo, tail - timedelta(days=1), channels)
            for _src, channel, day, *figures in more[0].union(*more[1:], all=True):
                _merge(summed, (channel, day), figures)
        for (channel, day), figures in summed.items():
            if day >= todo and day not in done:
                days[(channel, day)] = figures
    series = defaultdict(list)
    for (channel, day), figures in sorted(days.items()):
        series[channel].append(_point(day.strftime("%Y-%m-%d"), *figures))
    return series


def _merge(out, key, figures):
    lo, hi, total, n = figures
    had = out.get(key)
    out[key] = (lo, hi, total, n) if had is None else (min(had[0], lo), max(had[1], hi), had[2] + total, had[3] + n)


def _summed_days(device, first, last, channels):
    """Querysets (to UNION) of (1, channel, local day, min, max, sum, count) of the days ``first``..``last``:
    from the hourly rollups, and from the raw readings for the hours not rolled up yet (a day may
    come in two rows, merged by the caller)."""
    from .daily import day_start, sum_hours_by_day

    lo, hi = day_start(first), day_start(last + timedelta(days=1))
    hourly = HourlyRollup.objects.filter(device=device, hour__gte=lo, hour__lt=hi).exclude(hour__in=_pending())
    if channels:
        hourly = hourly.filter(channel__in=channels)
    one = Value(1, IntegerField())
    rolled = (sum_hours_by_day(hourly, "channel").annotate(src=one)
              .values_list("src", "channel", "day", "lo", "hi", "total", "n"))
    day = {"day": TruncDate("ts", tzinfo=timezone.get_current_timezone())}
    raw = [q.annotate(src=one).values_list("src", "channel", "day", "lo", "hi", "total", "n")
           for q in _raw_tail(device, lo, hi, channels, day)]
    return [rolled, *raw]
