"""Chart series from the hourly rollups (one query), for ECharts."""
from collections import defaultdict
from datetime import timedelta

from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .choices import CHANNEL_LABELS, ROLLUP_CHANNELS
from .models import HourlyRollup

# Up to this range a chart has a point per hour; beyond it, a point per (local) day, summed up
# from the hourly rollups in the database: a 90-day chart is 90 points, not 2,160.
HOURLY_UP_TO = timedelta(days=7)


def chart_data(device, start, end, channels=None):
    """{"channels": [{"name", "label", "points": [[time, min, avg, max], ...]}], "step": "hour"|"day"}."""
    qs = HourlyRollup.objects.filter(device=device, hour__gte=start.replace(minute=0, second=0, microsecond=0),
                                     hour__lte=end)
    if channels:
        qs = qs.filter(channel__in=channels)
    series = defaultdict(list)
    daily = end - start > HOURLY_UP_TO
    if daily:
        rows = (qs.annotate(day=TruncDate("hour", tzinfo=timezone.get_current_timezone()))
                .values("channel", "day").annotate(lo=Min("min"), hi=Max("max"), total=Sum("sum"), n=Sum("count"))
                .order_by("channel", "day").values_list("channel", "day", "lo", "hi", "total", "n"))
        label = "%Y-%m-%d"
    else:
        rows = qs.order_by("channel", "hour").values_list("channel", "hour", "min", "max", "sum", "count")
        label = "%Y-%m-%d %H:%M"
    for channel, when, lo, hi, total, n in rows:
        if not daily:
            when = timezone.localtime(when)
        series[channel].append([when.strftime(label), round(lo, 2), round(total / n, 2) if n else None,
                                round(hi, 2)])
    order = [c for c in ROLLUP_CHANNELS if c in series]
    return {"step": "day" if daily else "hour",
            "channels": [{"name": c, "label": str(CHANNEL_LABELS.get(c, c)), "points": series[c]} for c in order]}
