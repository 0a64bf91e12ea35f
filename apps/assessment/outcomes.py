"""W1 outcome figures over time: fires, deaths, injuries, losses and major hazards by month."""
import datetime

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.hazards.choices import HazardLevel
from apps.hazards.models import Hazard

from .models import FireIncident


def month_starts(today, months):
    """The first day of each of the last ``months`` months, oldest first (this month included)."""
    out, year, month = [], today.year, today.month
    for _ in range(months):
        out.append(datetime.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def _next_month(day):
    return datetime.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _aware(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def monthly_outcomes(user, today, months=12, institutions=None):
    """One row per month: fires, deaths, injuries, loss, major hazards found and open at month end.

    Three queries whatever the number of months. ``institutions`` (a queryset) narrows the scope.
    """
    starts = month_starts(today, months)
    first = _aware(starts[0])
    incidents = FireIncident.objects.visible_to(user).filter(occurred_at__gte=first)
    hazards = Hazard.objects.visible_to(user).filter(level=HazardLevel.MAJOR)
    if institutions is not None:
        incidents = incidents.filter(institution__in=institutions)
        hazards = hazards.filter(institution__in=institutions)
    fires = {
        timezone.localtime(r["m"]).date() if isinstance(r["m"], datetime.datetime) else r["m"]: r
        for r in incidents.annotate(m=TruncMonth("occurred_at")).values("m").annotate(
            fires=Count("pk"), deaths=Sum("deaths"), injuries=Sum("injuries"), loss=Sum("direct_loss"))
    }
    found = {
        timezone.localtime(r["m"]).date() if isinstance(r["m"], datetime.datetime) else r["m"]: r["n"]
        for r in hazards.filter(found_at__gte=first).annotate(m=TruncMonth("found_at")).values("m")
        .annotate(n=Count("pk"))
    }
    ends = {s: _aware(_next_month(s)) for s in starts}
    open_end = hazards.aggregate(**{
        f"m{i}": Count("pk", filter=Q(found_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end)))
        for i, end in enumerate(ends.values())
    })
    rows = []
    for i, s in enumerate(starts):
        f = fires.get(s, {})
        rows.append({"month": s, "label": f"{s:%Y-%m}", "fires": f.get("fires", 0), "deaths": f.get("deaths") or 0,
                     "injuries": f.get("injuries") or 0, "loss": float(f.get("loss") or 0),
                     "major_found": found.get(s, 0), "major_open_end": open_end[f"m{i}"]})
    return rows
