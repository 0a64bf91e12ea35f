"""Campaign progress and festival status boards, computed from the records (never stored)."""
import datetime

from django.db.models import Count, Q
from django.utils import timezone

from apps.hazards.choices import OPEN_STATES, HazardState
from apps.hazards.models import Hazard
from apps.ledger.models import Institution

from .choices import InspectionState
from .models import Inspection, PatrolRound


def _day_bounds(first, last):
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time(0)))
    end = timezone.make_aware(datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(0)))
    return start, end


COUNTS = ("inspected", "found", "rectified", "closed", "overdue")


def progress_area(user, value):
    """The organisation a progress view is narrowed to (``?area=<id>``): one the user sees, else None
    for no narrowing; ``LookupError`` for an id that is not one of them (the caller answers 404)."""
    from apps.core.badinput import valid_id
    from apps.orgs.models import Organization

    if value in (None, ""):
        return None
    if not valid_id(value):
        raise LookupError(value)
    area = Organization.objects.filter(Organization.scope_q(user), pk=value).first()
    if area is None:
        raise LookupError(value)
    return area


def rollup(rows, user, area=None):
    """The per-institution rows summed one level below ``area`` (or the user's administration): per
    district for a city, per city for a province, per township for a district. Each group's figures are
    the sums of the rows under it, so they equal the page narrowed to that group (``?area=<id>``).
    One query (the groups' names)."""
    from apps.orgs.models import Organization
    from apps.orgs.tree import ancestor_ids

    base = area.path if area is not None else (user.administration_path if not user.is_superuser else "")
    depth = len(ancestor_ids(base))
    groups = {}
    for row in rows:
        ids = ancestor_ids(row["institution"].township.path)
        key = ids[depth] if len(ids) > depth else (ids[-1] if ids else None)
        g = groups.setdefault(key, {"unit_id": key, "institutions": 0, **{k: 0 for k in COUNTS}})
        g["institutions"] += 1
        for k in COUNTS:
            g[k] += int(row[k])
    names = {o.pk: o for o in Organization.objects.filter(pk__in=[k for k in groups if k])}
    out = []
    for key, g in groups.items():
        g["unit"] = names.get(key)
        g["inspected_share"] = round(100 * g["inspected"] / g["institutions"]) if g["institutions"] else 0
        out.append(g)
    out.sort(key=lambda g: (g["unit"].kind, g["unit"].order, g["unit"].sort_name) if g["unit"] else ("", 0, ""))
    return out


def campaign_progress(campaign, user, today, area=None):
    """Per institution in scope (and visible to ``user``): inspected?, hazards found/rectified/closed/overdue,
    and the same rolled up one level below ``area`` or the user's administration (``rollup``).

    Inspected: a submitted inspection dated within the campaign. Hazards: found within the
    campaign's dates. Rectified: has a rectification time. Overdue: open past its deadline today.
    ``area`` (an organisation) narrows the rows to the institutions under it.
    """
    qs = campaign.institutions_in_scope().filter(Institution.scope_q(user))
    if area is not None:
        qs = qs.filter(township__path__startswith=area.path)
    institutions = list(qs.select_related("township")
                        .order_by("township__order", "township__sort_name", "order", "sort_name"))
    ids = [i.pk for i in institutions]
    inspected = set(Inspection.objects.filter(
        institution_id__in=ids, state=InspectionState.SUBMITTED,
        inspected_on__gte=campaign.starts_on, inspected_on__lte=campaign.ends_on,
    ).values_list("institution_id", flat=True).distinct())
    start, end = _day_bounds(campaign.starts_on, campaign.ends_on)
    hazard_rows = (Hazard.objects.filter(institution_id__in=ids, found_at__gte=start, found_at__lt=end)
                   .values("institution_id").annotate(
                       found=Count("id"),
                       rectified=Count("id", filter=Q(rectified_at__isnull=False)),
                       closed=Count("id", filter=Q(state=HazardState.CLOSED)),
                       overdue=Count("id", filter=Q(state__in=OPEN_STATES, deadline__lt=today))))
    hazards = {row["institution_id"]: row for row in hazard_rows}
    responsibles = dict(campaign.responsibles.filter(institution_id__in=ids).values_list("institution_id", "person"))
    rows = []
    totals = {"institutions": len(ids), "inspected": 0, "found": 0, "rectified": 0, "closed": 0, "overdue": 0}
    for inst in institutions:
        h = hazards.get(inst.pk, {})
        row = {"institution": inst, "inspected": inst.pk in inspected, "responsible": responsibles.get(inst.pk, ""),
               "found": h.get("found", 0), "rectified": h.get("rectified", 0), "closed": h.get("closed", 0),
               "overdue": h.get("overdue", 0)}
        rows.append(row)
        totals["inspected"] += row["inspected"]
        for key in ("found", "rectified", "closed", "overdue"):
            totals[key] += row[key]
    totals["inspected_share"] = round(100 * totals["inspected"] / len(ids)) if ids else 0
    return {"rows": rows, "totals": totals, "rollup": rollup(rows, user, area), "area": area}


def period_status(period, user, now):
    """Slots done / missed / pending (a patrol or submitted inspection at the place within the slot) and who
    is on duty now."""
    slots = list(period.slots.visible_to(user).select_related("institution").order_by("starts_at"))
    ids = {s.institution_id for s in slots}
    rounds = list(PatrolRound.objects.filter(institution_id__in=ids, started_at__gte=period.starts_at,
                                             started_at__lte=period.ends_at).values_list("institution_id",
                                                                                         "started_at"))
    inspections = list(Inspection.objects.filter(
        institution_id__in=ids, state=InspectionState.SUBMITTED, submitted_at__gte=period.starts_at,
        submitted_at__lte=period.ends_at).values_list("institution_id", "submitted_at"))
    events = rounds + inspections
    counts = {"done": 0, "missed": 0, "pending": 0}
    for slot in slots:
        done = any(i == slot.institution_id and slot.starts_at <= t <= slot.ends_at for i, t in events)
        slot.status = "done" if done else ("missed" if slot.ends_at < now else "pending")
        counts[slot.status] += 1
    shifts = list(period.shifts.visible_to(user).select_related("institution").order_by("starts_at"))
    on_duty = [s for s in shifts if s.starts_at <= now < s.ends_at]
    readiness = list(period.readiness_template.items.all()) if period.readiness_template_id else []
    return {"slots": slots, "slot_counts": counts, "shifts": shifts, "on_duty": on_duty, "readiness": readiness,
            "now": now}
