"""Bulk providers of risk metrics that live in the ledger, hazards and incidents.

Each provider takes many institution ids (plus ``today`` or ``now``) and answers
``{id: {metric: value}}`` for EVERY id with a constant number of grouped queries. The
inspections, monitoring and training apps provide theirs in ``apps.<app>.metrics``.
"""
import datetime

from django.db.models import Count, Max, Min, Q, Sum
from django.utils.translation import gettext as _

from apps.hazards.choices import OPEN_STATES, HazardLevel
from apps.hazards.models import Hazard
from apps.ledger.choices import ColourSteel, SafetyRating
from apps.ledger.models import Building, Institution


def building_facts(institution_ids, today):
    """Fire facilities and buildings: colour-steel panels, sprinklers, alarm, age, dangerous rating."""
    ids = list(institution_ids)
    out = {i: {"has_sprinklers": False, "has_auto_alarm": False, "has_electrical_monitoring": False,
               "combustible_colour_steel": False, "dangerous_building": False, "building_age": None}
           for i in ids}
    for row in Institution.objects.filter(pk__in=ids).values("pk", "has_sprinklers", "has_auto_alarm",
                                                              "has_electrical_monitoring"):
        out[row.pop("pk")].update(row)
    rows = (Building.objects.filter(institution_id__in=ids).values("institution_id").annotate(
        combustible=Count("pk", filter=Q(colour_steel=ColourSteel.COMBUSTIBLE)),
        dangerous=Count("pk", filter=Q(safety_rating__in=[SafetyRating.C, SafetyRating.D])),
        oldest=Min("year_built")))
    for row in rows:
        entry = out[row["institution_id"]]
        entry["combustible_colour_steel"] = row["combustible"] > 0
        entry["dangerous_building"] = row["dangerous"] > 0
        entry["building_age"] = today.year - row["oldest"] if row["oldest"] else None
    return out


def facility_facts(institution_ids, today):
    """Sprinklers and the fire alarm system: missing where a ``FacilityRequirement`` asks for them.

    ``sprinklers_missing`` / ``auto_alarm_missing`` are true only when the institution's kind and
    size require the facility and it is absent; a note per metric names the clause (or says that
    nothing requires it). Three queries for any number of institutions.
    """
    from .choices import RequiredFacility
    from .models import FacilityRequirement

    ids = list(institution_ids)
    requirements = list(FacilityRequirement.objects.filter(is_active=True).order_by("pk"))
    areas = dict(Building.objects.filter(institution_id__in=ids).values("institution_id")
                 .annotate(total=Sum("area_m2")).values_list("institution_id", "total"))
    out = {}
    for row in Institution.objects.filter(pk__in=ids).values(
            "pk", "kind", "beds", "has_sprinklers", "has_auto_alarm", "has_smoke_alarms"):
        area = areas.get(row["pk"])
        entry, notes = {}, {}
        for facility, metric, present in (
                (RequiredFacility.SPRINKLERS, "sprinklers_missing", row["has_sprinklers"]),
                (RequiredFacility.AUTO_ALARM, "auto_alarm_missing", row["has_auto_alarm"])):
            rule = next((r for r in requirements if r.facility == facility
                         and r.requires(row["kind"], row["beds"] or 0, area)), None)
            if rule is None:
                entry[metric] = False
                notes[metric] = str(_("not required for this kind and size"))
                continue
            if (not present and facility == RequiredFacility.AUTO_ALARM and rule.alternative_below_m2 is not None
                    and area is not None and area < rule.alternative_below_m2 and row["has_smoke_alarms"]):
                present = True
            entry[metric] = not present
            notes[metric] = str(_("required by %(clause)s") % {"clause": rule.citation})
            if not rule.verified:
                notes[metric] += str(_(" (clause text not yet checked)"))
        entry["_notes"] = notes
        out[row["pk"]] = entry
    return out


NO_STAFFING_RATIO = 999.0  # residents and staff on record, but nobody on duty at night: the worst ratio


def people_facts(institution_ids, today):
    """Beds, the share of disabled and bedridden residents, residents per night staff.

    The ratio needs both sides on record: an institution without residents or without any staff
    entered (e.g. imported today with its beds only) has no ratio (``None``, shown as "—" with a
    note, counting nothing), never the worst one. Residents and staff on record with nobody on duty
    at night is the worst ratio.
    """
    ids = list(institution_ids)
    out = {i: {"beds": 0, "vulnerable_share": 0.0, "residents_per_night_staff": None} for i in ids}
    for row in Institution.objects.filter(pk__in=ids).values(
            "pk", "beds", "residents", "residents_disabled", "residents_bedridden", "staff_count",
            "night_staff_count"):
        residents = row["residents"] or 0
        vulnerable = min(residents, (row["residents_disabled"] or 0) + (row["residents_bedridden"] or 0))
        night = row["night_staff_count"] or 0
        entry = {"beds": row["beds"] or 0, "vulnerable_share": vulnerable / residents if residents else 0.0}
        if not residents or not (row["staff_count"] or night):
            entry["residents_per_night_staff"] = None
            entry["_notes"] = {"residents_per_night_staff": str(_("no data: residents and staff not entered"))}
        else:
            entry["residents_per_night_staff"] = residents / night if night else NO_STAFFING_RATIO
        out[row["pk"]] = entry
    return out


def hazard_facts(institution_ids, today):
    """Open general and major hazards, overdue ones, re-opened ones (one grouped query)."""
    ids = list(institution_ids)
    out = {i: {"open_general": 0, "open_major": 0, "overdue": 0, "reopened": 0} for i in ids}
    rows = (Hazard.objects.filter(institution_id__in=ids, state__in=OPEN_STATES).values("institution_id")
            .annotate(open_general=Count("pk", filter=Q(level=HazardLevel.GENERAL)),
                      open_major=Count("pk", filter=Q(level=HazardLevel.MAJOR)),
                      overdue=Count("pk", filter=Q(deadline__lt=today)),
                      reopened=Count("pk", filter=Q(reopened_count__gt=0))))
    for row in rows:
        out[row.pop("institution_id")] = row
    return out


def incident_facts(institution_ids, today):
    """Fires in the last three years and the days since the last one."""
    from .models import FireIncident

    ids = list(institution_ids)
    out = {i: {"fires_3y": 0} for i in ids}
    since = today - datetime.timedelta(days=3 * 365)
    rows = (FireIncident.objects.filter(institution_id__in=ids, occurred_at__date__gte=since)
            .values("institution_id").annotate(n=Count("pk"), last=Max("occurred_at")))
    for row in rows:
        out[row["institution_id"]]["fires_3y"] = row["n"]
    return out
