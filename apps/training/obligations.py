"""Every person's training obligations, derived at read time from the records and the rules.

Nothing is stored and no job runs: ``evaluate(staff, today)`` takes any number of staff
members and answers with a constant number of queries (rules, and one grouped query over
attendance: the last session date per person and category).
"""
import datetime
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils.translation import gettext as _

from .choices import ObligationKind, ObligationStatus
from .models import Attendance, DrillRule, ObligationRule

D = datetime.timedelta


@dataclass
class Obligation:
    kind: str
    name: str
    status: str
    since: datetime.date | None  # since when the status holds
    due_on: datetime.date | None = None  # by when (the next date for a done periodic one)
    done_on: datetime.date | None = None

    @property
    def kind_display(self):
        return ObligationKind(self.kind).label

    @property
    def status_display(self):
        return ObligationStatus(self.status).label

    def as_dict(self):
        return {"kind": self.kind, "name": self.name, "status": self.status, "since": self.since,
                "due_on": self.due_on, "done_on": self.done_on}


NOT_STARTED = "not_started"  # a person entered before their start date: nothing is due yet


@dataclass
class PersonStatus:
    staff: object
    obligations: list = field(default_factory=list)
    starts_on: datetime.date | None = None  # set for a person not started yet: obligations count from then

    @property
    def status(self):
        if self.starts_on is not None:
            return NOT_STARTED
        statuses = {o.status for o in self.obligations}
        for s in (ObligationStatus.OVERDUE, ObligationStatus.DUE):
            if s in statuses:
                return s
        return ObligationStatus.DONE

    @property
    def status_display(self):
        if self.starts_on is not None:
            return _("Not started (from %(day)s)") % {"day": self.starts_on.isoformat()}
        return ObligationStatus(self.status).label

    @property
    def since(self):
        dates = [o.since for o in self.obligations if o.status == self.status and o.since]
        return min(dates) if dates else None


def load_rules():
    """Active obligation rules grouped as {institution kind or "": [rule, ...]} (one query)."""
    by_kind = {}
    for rule in ObligationRule.objects.filter(is_active=True).order_by("id"):
        by_kind.setdefault(rule.institution_kind, []).append(rule)
    return by_kind


def rules_for(kind, by_kind):
    """The rules for an institution kind: its own rows replace the general rows of the same obligation."""
    own = by_kind.get(kind, [])
    own_kinds = {r.obligation for r in own}
    return own + [r for r in by_kind.get("", []) if r.obligation not in own_kinds]


def last_dates(staff_ids):
    """{staff_id: {category: last session date}} in one grouped query."""
    out = {}
    rows = (Attendance.objects.filter(staff_id__in=staff_ids).values("staff_id", "session__category")
            .annotate(last=Max("session__date")).order_by())
    for row in rows:
        out.setdefault(row["staff_id"], {})[row["session__category"]] = row["last"]
    return out


def _last(dates, categories, not_before=None):
    values = [dates[c] for c in categories if c in dates and (not_before is None or dates[c] >= not_before)]
    return max(values) if values else None


def _pending(name, kind, trigger, due_on, today):
    """Not done: due from ``trigger`` until ``due_on``, overdue after it."""
    if today > due_on:
        return Obligation(kind, name, ObligationStatus.OVERDUE, due_on + D(days=1), due_on)
    return Obligation(kind, name, ObligationStatus.DUE, trigger, due_on)


def _role_start(staff):
    """When the person took on their roles: the latest of hiring, change of post and role change."""
    return max(d for d in (staff.hired_on, staff.post_changed_on, staff.roles_since) if d)


def evaluate_person(staff, dates, rules, today):
    result = []
    roles = set(staff.roles or [])
    for rule in rules:
        ob = rule.obligation
        if ob == ObligationKind.ONBOARDING:
            # The earliest qualifying category: the onboarding session rather than later all-staff ones.
            firsts = [dates[c] for c in rule.categories
                      if c in dates and dates[c] >= staff.hired_on - D(days=rule.warn_days)]
            done = min(firsts) if firsts else None
            if done:
                result.append(Obligation(ob, rule.name, ObligationStatus.DONE, done, done_on=done))
            else:
                result.append(_pending(rule.name, ob, staff.hired_on, staff.hired_on + D(days=rule.grace_days),
                                       today))
        elif ob == ObligationKind.CHANGE_OF_POST:
            if not staff.post_changed_on:
                continue
            # Due before the new post: a session up to ``warn_days`` before the change counts, and
            # without one the person is overdue from the day after the change (``grace_days`` = 0).
            lead_from = staff.post_changed_on - D(days=rule.warn_days)
            done = _last(dates, rule.categories, lead_from)
            if done:
                result.append(Obligation(ob, rule.name, ObligationStatus.DONE, done, done_on=done))
            else:
                result.append(_pending(rule.name, ob, lead_from,
                                       staff.post_changed_on + D(days=rule.grace_days), today))
        elif ob in (ObligationKind.PERIODIC, ObligationKind.SPECIAL):
            if ob == ObligationKind.SPECIAL and not roles & set(rule.roles or []):
                continue
            done = _last(dates, rule.categories)
            if done is None:
                if ob == ObligationKind.SPECIAL:
                    start = _role_start(staff)
                    result.append(_pending(rule.name, ob, start, start + D(days=rule.grace_days), today))
                    continue
                # Never trained: not done (已完成 needs a record), due from the start until one interval on.
                next_on = staff.hired_on + D(days=rule.interval_days or 36500)
                result.append(_pending(rule.name, ob, staff.hired_on, next_on, today))
                continue
            next_on = done + D(days=rule.interval_days) if rule.interval_days else None
            if next_on is None or today < next_on - D(days=rule.warn_days):
                result.append(Obligation(ob, rule.name, ObligationStatus.DONE, done, due_on=next_on, done_on=done))
            else:
                result.append(_pending(rule.name, ob, next_on - D(days=rule.warn_days), next_on, today))
        elif ob == ObligationKind.CERTIFICATE:
            if not roles & set(rule.roles or []):
                continue
            expires = staff.certificate_expires
            if not staff.certificate_no or expires is None:
                start = _role_start(staff)
                result.append(_pending(rule.name, ob, start, start + D(days=rule.grace_days), today))
            elif today > expires:
                result.append(Obligation(ob, rule.name, ObligationStatus.OVERDUE, expires + D(days=1), expires))
            elif today >= expires - D(days=rule.warn_days):
                result.append(Obligation(ob, rule.name, ObligationStatus.DUE, expires - D(days=rule.warn_days),
                                         expires))
            else:
                result.append(Obligation(ob, rule.name, ObligationStatus.DONE, None, due_on=expires))
    order = {k: i for i, k in enumerate(ObligationKind.values)}
    result.sort(key=lambda o: order[o.kind])
    return PersonStatus(staff, result)


def evaluate(staff_members, today, rules_by_kind=None):
    """PersonStatus for each staff member (who must carry ``institution`` loaded or ``inst_kind``).

    Queries: one for the rules (unless given), one for the attendance dates.
    """
    staff_members = list(staff_members)
    by_kind = rules_by_kind if rules_by_kind is not None else load_rules()
    dates = last_dates([s.pk for s in staff_members])
    out = []
    for s in staff_members:
        kind = getattr(s, "inst_kind", None) or s.institution.kind
        if not s.is_active_on(today):
            # Not started yet (hired on a later day): nothing is due before the start date, nor done.
            out.append(PersonStatus(s, [], starts_on=s.hired_on if s.hired_on > today else None))
            continue
        out.append(evaluate_person(s, dates.get(s.pk, {}), rules_for(kind, by_kind), today))
    return out


# --- Drill frequency ------------------------------------------------------------------------


def load_drill_rules():
    return list(DrillRule.objects.filter(is_active=True).order_by("id"))


def drill_interval(kind, is_key_unit, rules):
    """Days allowed between drills for an institution: the most specific matching rule."""
    best, best_score = None, -1
    for r in rules:
        if r.institution_kind and r.institution_kind != kind:
            continue
        if r.key_units is not None and r.key_units != is_key_unit:
            continue
        score = (2 if r.institution_kind else 0) + (1 if r.key_units is not None else 0)
        if score > best_score:
            best, best_score = r, score
    return best.interval_days if best else 365
