"""Pure read functions over many institutions at once (for the cockpit and the risk score).

A constant number of grouped queries, never one per institution; an entry for every id given.
"""
import datetime

from django.db.models import Count, Q

from .choices import OPEN_STATES, HazardLevel, HazardState, SupervisionState
from .models import Hazard, Supervision


def rectification_rate(found, closed_of_found):
    """整改率 (%): of the hazards found in a window, the share closed (cockpit and reports alike)."""
    return round(100 * closed_of_found / found, 1) if found else None


def institution_hazard_stats(institution_ids, today):
    """``{id: {open, overdue, major_open, closed_30d, reopened_open, listed}}`` (ints)."""
    ids = list(institution_ids)
    out = {i: {"open": 0, "overdue": 0, "major_open": 0, "closed_30d": 0, "reopened_open": 0, "listed": 0}
           for i in ids}
    since = today - datetime.timedelta(days=30)
    rows = (Hazard.objects.filter(institution_id__in=ids).values("institution_id").annotate(
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        overdue=Count("id", filter=Q(state__in=OPEN_STATES, deadline__lt=today)),
        major_open=Count("id", filter=Q(state__in=OPEN_STATES, level=HazardLevel.MAJOR)),
        closed_30d=Count("id", filter=Q(state=HazardState.CLOSED, closed_at__date__gte=since)),
        reopened_open=Count("id", filter=Q(state__in=OPEN_STATES, reopened_count__gt=0)),
    ))
    for row in rows:
        out[row.pop("institution_id")].update(row)
    listed = (Supervision.objects.filter(hazard__institution_id__in=ids, state=SupervisionState.LISTED)
              .values("hazard__institution_id").annotate(n=Count("id")))
    for row in listed:
        out[row["hazard__institution_id"]]["listed"] = row["n"]
    return out
