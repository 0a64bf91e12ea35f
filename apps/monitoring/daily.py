"""Daily rollups: whole local days summed up from the hourly rollups, once the day is over."""
import datetime

from django.db import transaction
from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import DailyRollup, HourlyRollup


def day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def sum_hours_by_day(hourly, *keys):
    """``hourly`` (HourlyRollup rows) summed per ``keys`` and local day: values with ``day``, ``lo``,
    ``hi``, ``total``, ``n`` (the daily rollups and the charts' not-yet-rolled-up days alike)."""
    return (hourly.annotate(day=TruncDate("hour", tzinfo=timezone.get_current_timezone())).values(*keys, "day")
            .annotate(lo=Min("min"), hi=Max("max"), total=Sum("sum"), n=Sum("count")).order_by())


def roll_up_days(first=None, last=None):
    """(Re)compute the daily rollups of the local days ``first``..``last`` (dates) from the hourly ones.

    By default: from the last day already rolled up (readings may have come in late for it) up to
    yesterday, or from the first hourly rollup when there is none yet. Idempotent: the days are
    rewritten whole, in one transaction. Returns the number of daily rows written.
    """
    from .rollups import roll_up_hours

    roll_up_hours()  # the days are summed from the hours: those first
    today = timezone.localdate()
    last = last or today - datetime.timedelta(days=1)
    if first is None:
        done = DailyRollup.objects.aggregate(day=Max("day"))["day"]
        if done is not None:
            first = done
        else:
            oldest = HourlyRollup.objects.aggregate(hour=Min("hour"))["hour"]
            if oldest is None:
                return 0
            first = timezone.localtime(oldest).date()
    if first > last:
        return 0
    rows = sum_hours_by_day(HourlyRollup.objects.filter(
        hour__gte=day_start(first), hour__lt=day_start(last + datetime.timedelta(days=1))), "device_id", "channel")
    with transaction.atomic():
        DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
        made = DailyRollup.objects.bulk_create(
            (DailyRollup(device_id=r["device_id"], channel=r["channel"], day=r["day"], min=r["lo"], max=r["hi"],
                         sum=r["total"], count=r["n"]) for r in rows.iterator(chunk_size=5000)),
            batch_size=5000)
    return len(made)
