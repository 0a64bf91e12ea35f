"""Chart series from the rollups (one query, two at most), for ECharts."""
from collections import defaultdict
from datetime import timedelta

from django.db.models import IntegerField, Value
from django.utils import timezone

from .choices import CHANNEL_LABELS, ROLLUP_CHANNELS
from .models import DailyRollup, HourlyRollup

# Up to this range a chart has a point per hour; beyond it, a point per whole local day: a 90-day
# chart is 91 points, read from the daily rollups (and today's from the hourly ones).
HOURLY_UP_TO = timedelta(days=7)


def chart_data(device, start, end, channels=None):
    """{"channels": [{"name", "label", "points": [[time, min, avg, max], ...]}], "step": "hour"|"day"}."""
    daily = end - start > HOURLY_UP_TO
    series = _daily(device, start, end, channels) if daily else _hourly(device, start, end, channels)
    order = [c for c in ROLLUP_CHANNELS if c in series]
    return {"step": "day" if daily else "hour",
            "channels": [{"name": c, "label": str(CHANNEL_LABELS.get(c, c)), "points": series[c]} for c in order]}


def _point(label, lo, hi, total, n):
    return [label, round(lo, 2), round(total / n, 2) if n else None, round(hi, 2)]


def _hourly(device, start, end, channels):
    qs = HourlyRollup.objects.filter(device=device, hour__gte=start.replace(minute=0, second=0, microsecond=0),
                                     hour__lte=end)
    if channels:
        qs = qs.filter(channel__in=channels)
    series = defaultdict(list)
    for channel, hour, lo, hi, total, n in qs.order_by("channel", "hour").values_list(
            "channel", "hour", "min", "max", "sum", "count"):
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
    for src, channel, day, lo, hi, total, n in stored.union(_summed_days(device, tail, last, channels), all=True):
        (summed if src else days)[(channel, day)] = (lo, hi, total, n)
    done = {day for _channel, day in days}
    todo = first
    while todo in done and todo < last:
        todo += timedelta(days=1)
    if todo not in done:
        if todo < tail:  # a day before the last two is not rolled up: sum those days too
            summed.update(((channel, day), figures) for _src, channel, day, *figures in
                          _summed_days(device, todo, tail - timedelta(days=1), channels))
        for (channel, day), figures in summed.items():
            if day >= todo and day not in done:
                days[(channel, day)] = figures
    series = defaultdict(list)
    for (channel, day), figures in sorted(days.items()):
        series[channel].append(_point(day.strftime("%Y-%m-%d"), *figures))
    return series


def _summed_days(device, first, last, channels):
    """(1, channel, local day, min, max, sum, count) of the days ``first``..``last`` from the hourly rollups."""
    from .daily import day_start, sum_hours_by_day

    hourly = HourlyRollup.objects.filter(device=device, hour__gte=day_start(first),
                                         hour__lt=day_start(last + timedelta(days=1)))
    if channels:
        hourly = hourly.filter(channel__in=channels)
    return (sum_hours_by_day(hourly, "channel").annotate(src=Value(1, IntegerField()))
            .values_list("src", "channel", "day", "lo", "hi", "total", "n"))
