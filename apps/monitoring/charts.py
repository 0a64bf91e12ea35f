"""Chart series from the hourly rollups (one query), for ECharts."""
from collections import defaultdict

from django.utils import timezone

from .choices import CHANNEL_LABELS, ROLLUP_CHANNELS
from .models import HourlyRollup


def chart_data(device, start, end, channels=None):
    """{"channels": [{"name", "label", "points": [[iso hour, min, avg, max], ...]}]} from the rollups."""
    qs = HourlyRollup.objects.filter(device=device, hour__gte=start.replace(minute=0, second=0, microsecond=0),
                                     hour__lte=end)
    if channels:
        qs = qs.filter(channel__in=channels)
    series = defaultdict(list)
    for channel, hour, lo, hi, total, n in qs.order_by("channel", "hour").values_list(
            "channel", "hour", "min", "max", "sum", "count"):
        series[channel].append([timezone.localtime(hour).strftime("%Y-%m-%d %H:%M"), round(lo, 2),
                                round(total / n, 2) if n else None, round(hi, 2)])
    order = [c for c in ROLLUP_CHANNELS if c in series]
    return {"channels": [{"name": c, "label": str(CHANNEL_LABELS.get(c, c)), "points": series[c]} for c in order]}
