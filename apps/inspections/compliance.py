"""Derived facts: missed patrols and frequency compliance, computed from the records alone.

No job needs to have run: a night whose patrol times leave a gap longer than the rule, or a day
with too few rounds, is a missed patrol whenever anyone asks. A constant number of grouped
queries serves any number of institutions.
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, Min
from django.utils import timezone

from .choices import ChecklistPurpose, InspectionState
from .models import Checkpoint, FrequencyRule, Inspection, PatrolRound


@dataclass
class MissedPatrol:
    institution_id: int
    kind: str  # "night" (a gap over the rule) or "day" (too few rounds)
    day: datetime.date
    gap_from: datetime.datetime | None = None
    gap_to: datetime.datetime | None = None
    rounds: int = 0

    @property
    def gap_hours(self):
        if self.gap_from is None:
            return None
        return round((self.gap_to - self.gap_from).total_seconds() / 3600, 1)


def _fallback():
    return FrequencyRule(institution_kind="", daily_patrols=1, night_interval_hours=None,
                         inspection_interval_days=31, self_assessment_interval_days=366)


def rules_by_kind():
    """institution kind -> the active platform-default FrequencyRule of the highest version ('' holds
    the default). The rules of administrations: :func:`rules_for_institutions`."""
    rules = {}
    for rule in FrequencyRule.objects.filter(is_active=True, administration__isnull=True).order_by(
            "institution_kind", "-version"):
        rules.setdefault(rule.institution_kind, rule)
    if "" not in rules:
        rules[""] = _fallback()
    return rules


def rule_for(rules, kind):
    return rules.get(kind) or rules[""]


def rules_for_institutions(institutions):
    """institution id -> the FrequencyRule in force for it (rules by level, ``apps.orgs.rules``): per
    kind, the rule of the nearest administration above its township, else the platform default;
    within one level a rule for the kind beats the one for every kind, then the highest version.

    One query for the rules; one more for the institutions' paths only when an administration
    defines a rule of its own."""
    from apps.orgs import rules as levels

    rules = list(FrequencyRule.objects.filter(is_active=True).select_related("administration"))
    defined = {r.administration.path for r in rules if r.administration_id}
    paths = {}
    if defined:
        from apps.ledger.models import Institution

        paths = dict(Institution.objects.filter(pk__in=[i.pk for i in institutions])
                     .values_list("pk", "township__path"))
    fallback, found, out = _fallback(), {}, {}
    for inst in institutions:
        path = paths.get(inst.pk) or ""
        level = next((p for p in reversed(levels.ancestor_paths(path)) if p in defined), "") if defined else ""
        key = (level, inst.kind)
        if key not in found:
            candidates = [r for r in rules if r.institution_kind in ("", inst.kind)]
            found[key] = levels.effective(candidates, level, looser=FrequencyRule.looser,
                                          order=lambda r: (1 if r.institution_kind else 0, r.version)) or fallback
        out[inst.pk] = found[key]
    return out


def _aware(day, t):
    return timezone.make_aware(datetime.datetime.combine(day, t))


def _as_time(value):
    return datetime.time.fromisoformat(value) if isinstance(value, str) else value


def missed_for_institution(institution_id, rule, times, first_day, last_day, now):
    """Missed patrols of one institution for days ``first_day..last_day`` given its patrol times."""
    missed = []
    times = sorted(times)
    by_day = defaultdict(int)
    for t in times:
        by_day[timezone.localdate(t)] += 1
    day = first_day
    night_start, night_end = _as_time(rule.night_start), _as_time(rule.night_end)
    while day <= last_day:
        day_end = _aware(day + datetime.timedelta(days=1), datetime.time(0))
        if day_end <= now and by_day[day] < rule.daily_patrols:
            missed.append(MissedPatrol(institution_id, "day", day, rounds=by_day[day]))
        if rule.night_interval_hours:
            start = _aware(day, night_start)
            end_day = day + datetime.timedelta(days=1) if night_end <= night_start else day
            end = _aware(end_day, night_end)
            if end <= now:
                limit = datetime.timedelta(hours=rule.night_interval_hours)
                points = [start, *[t for t in times if start < t < end], end]
                worst = max(zip(points, points[1:], strict=False), key=lambda p: p[1] - p[0])
                if worst[1] - worst[0] > limit:
                    missed.append(MissedPatrol(institution_id, "night", day, worst[0], worst[1],
                                               rounds=len(points) - 2))
        day += datetime.timedelta(days=1)
    return missed


def missed_patrols(institutions, first_day, last_day, now=None):
    """Missed patrols for ``institutions`` (objects with ``pk`` and ``kind``), from two queries."""
    now = now or timezone.now()
    rules = rules_for_institutions(institutions)
    kinds = {i.pk: i.kind for i in institutions}
    times = defaultdict(list)
    start = _aware(first_day, datetime.time(0))
    end = _aware(last_day + datetime.timedelta(days=2), datetime.time(0))
    rows = PatrolRound.objects.filter(institution_id__in=list(kinds), started_at__gte=start, started_at__lt=end)
    for inst_id, started in rows.values_list("institution_id", "started_at"):
        times[inst_id].append(started)
    starts = _existed_from(institutions)
    result = {}
    for inst_id in kinds:
        # Nothing is missed before the institution existed on the platform, nor before its first checkpoint.
        start = max(first_day, starts[inst_id]) if starts[inst_id] else first_day
        result[inst_id] = missed_for_institution(inst_id, rules[inst_id], times[inst_id], start, last_day, now)
    return result


def _existed_from(institutions):
    """institution id -> the first day its patrols are counted: the day it was entered on the platform,
    or the day its first checkpoint was set up when that is later (patrols walk the checkpoints; an
    institution without any checkpoint still owes its daily round, from the day it was entered).

    Objects that carry ``created`` are read as they are; the others in one query; the checkpoints in one
    grouped query."""
    out, missing = {}, []
    for inst in institutions:
        created = inst.__dict__.get("created")  # not a deferred load per object
        if created is not None:
            out[inst.pk] = timezone.localdate(created)
        else:
            missing.append(inst.pk)
    if missing:
        from apps.ledger.models import Institution

        for pk, created in Institution.objects.filter(pk__in=missing).values_list("pk", "created"):
            out[pk] = timezone.localdate(created) if created else None
    first_checkpoints = (Checkpoint.objects.filter(institution_id__in=[i.pk for i in institutions])
                         .values("institution_id").annotate(first=Min("created")).order_by())
    for row in first_checkpoints:
        day = timezone.localdate(row["first"])
        entered = out.get(row["institution_id"])
        out[row["institution_id"]] = max(day, entered) if entered else day
    return {inst.pk: out.get(inst.pk) for inst in institutions}


def last_inspections(institution_ids):
    """institution id -> {"inspection": date|None, "self_assessment": date|None} (one grouped query)."""
    out = {pk: {"inspection": None, "self_assessment": None} for pk in institution_ids}
    rows = (Inspection.objects.filter(institution_id__in=list(institution_ids), state=InspectionState.SUBMITTED)
            .values("institution_id", "template__purpose").annotate(last=Max("inspected_on")))
    for row in rows:
        entry = out[row["institution_id"]]
        key = "self_assessment" if row["template__purpose"] == ChecklistPurpose.SELF_ASSESSMENT else "inspection"
        if row["template__purpose"] == ChecklistPurpose.PATROL:
            continue
        if entry[key] is None or row["last"] > entry[key]:
            entry[key] = row["last"]
        # A winter self-assessment is also a full inspection of the institution.
        if key == "self_assessment" and (entry["inspection"] is None or row["last"] > entry["inspection"]):
            entry["inspection"] = row["last"]
    return out


def compliance(institutions, today, now=None):
    """Per institution: patrol, inspection and self-assessment status with what is missing since when."""
    now = now or timezone.now()
    rules = rules_for_institutions(institutions)
    first = today - datetime.timedelta(days=30)
    missed = missed_patrols(institutions, first, today, now=now)
    last = last_inspections([i.pk for i in institutions])
    out = {}
    week_ago = today - datetime.timedelta(days=7)
    for inst in institutions:
        rule = rules[inst.pk]
        misses = missed[inst.pk]
        recent = [m for m in misses if m.day >= week_ago]
        li, ls = last[inst.pk]["inspection"], last[inst.pk]["self_assessment"]
        inspection_due = li + datetime.timedelta(days=rule.inspection_interval_days) if li else None
        sa_due = ls + datetime.timedelta(days=rule.self_assessment_interval_days) if ls else None
        out[inst.pk] = {
            "patrol_ok": not recent,
            "missed_patrols_30d": len(misses),
            "missed_since": min((m.day for m in misses), default=None),
            "last_missed": max(misses, key=lambda m: m.day, default=None),
            "inspection_ok": bool(li and inspection_due >= today),
            "last_inspection": li,
            "inspection_missing_since": inspection_due if (li and inspection_due < today) else None,
            "self_assessment_ok": bool(ls and sa_due >= today),
            "last_self_assessment": ls,
            "self_assessment_missing_since": sa_due if (ls and sa_due < today) else None,
            "rule": rule,
        }
    return out
