"""Date and count rules as data: one table, checked by ``AuditedModel.clean`` and by the services.

The pages (model forms, or the service behind a plain form) and the API (``ScopedModelSerializer``
runs ``clean``; the other endpoints call the same services) therefore refuse the same values with
the same message. The rules:

- ``NotPast``: a deadline is not before today (local time) when it is set — on create, or when an
  edit changes it (a deadline that has passed since stays as it was).
- ``NotFuture``: a record of work done (an inspection, a follow-up visit, a patrol, a drill, a
  training session) is not dated after today; times get ``CLOCK_SKEW`` of tolerance.
- ``EndAfterStart``: a period, slot, stage or campaign does not end before it starts.
- ``AtMost``: a count does not exceed the total it is part of (residents evacuated in a drill: at
  most the institution's residents; the bedridden among them: at most the residents evacuated).
- ``NotNegative``: money is not negative.

Demo data and imports of history write rows directly and are not held to "not in the past".
"""
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CLOCK_SKEW = datetime.timedelta(minutes=5)


def _label(model, path):
    """The verbose name of a field, or of ``relation.field`` on the related model."""
    *relations, name = path.split(".")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return str(model._meta.get_field(name).verbose_name)


def _value(values, instance, path):
    """``values[path]``; a dotted path (``institution.residents``) is read through the instance."""
    if "." not in path:
        return values.get(path)
    obj = instance
    for name in path.split("."):
        if obj is None:
            return None
        if not getattr(obj, f"{name}_id", True):  # an unset foreign key: nothing to compare with
            return None
        obj = getattr(obj, name, None)
    return obj


def _changed(instance, name):
    if instance is None or instance._state.adding:
        return True
    before = getattr(instance, "_audit_before", None)
    return before is None or name not in before or before[name] != getattr(instance, name)


@dataclass(frozen=True)
class NotPast:
    field: str
    message: str = _("%(field)s cannot be in the past.")

    def error(self, model, values, instance):
        value = values.get(self.field)
        if value is None or not _changed(instance, self.field):
            return None
        if isinstance(value, datetime.datetime):
            late = value < timezone.now() - CLOCK_SKEW
        else:
            late = value < timezone.localdate()
        return self.field, late


@dataclass(frozen=True)
class NotFuture:
    field: str
    message: str = _("%(field)s cannot be in the future: record work once it is done.")

    def error(self, model, values, instance):
        value = values.get(self.field)
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            early = value > timezone.now() + CLOCK_SKEW
        else:
            early = value > timezone.localdate()
        return self.field, early


EARLIEST = datetime.date(1950, 1, 1)


@dataclass(frozen=True)
class NotBefore:
    """A record of work done is not older than the records this platform can mean (a mistyped
    year such as 0556 is refused, not stored and shown in a time zone's pre-1901 local mean time)."""

    field: str
    earliest: datetime.date = EARLIEST
    message: str = _("%(field)s is too far in the past: check the year.")

    def error(self, model, values, instance):
        value = values.get(self.field)
        if value is None:
            return None
        day = timezone.localtime(value).date() if isinstance(value, datetime.datetime) and timezone.is_aware(value) \
            else value.date() if isinstance(value, datetime.datetime) else value
        return self.field, day < self.earliest


@dataclass(frozen=True)
class EndAfterStart:
    start: str
    end: str
    strict: bool = False  # times: the end must be later; dates: a one-day period ends on its start day
    message: str = _("The end is before the start.")

    def error(self, model, values, instance):
        start, end = values.get(self.start), values.get(self.end)
        if start is None or end is None:
            return None
        return self.end, (end <= start) if self.strict else (end < start)


@dataclass(frozen=True)
class AtMost:
    field: str
    total: str  # a field of the same record, or ``relation.field`` (read through the instance)
    message: str = _("%(field)s cannot exceed %(total)s.")

    def error(self, model, values, instance):
        value, total = values.get(self.field), _value(values, instance, self.total)
        if value is None or total is None:
            return None
        return self.field, value > total


@dataclass(frozen=True)
class NotNegative:
    field: str
    message: str = _("%(field)s cannot be negative.")

    def error(self, model, values, instance):
        value = values.get(self.field)
        return None if value is None else (self.field, value < 0)


DEADLINE_NOT_PAST = _("The deadline cannot be in the past.")
RULES = {
    "hazards.Hazard": (NotPast("deadline", DEADLINE_NOT_PAST), NotNegative("funds")),
    "hazards.Supervision": (NotPast("deadline", DEADLINE_NOT_PAST), NotNegative("funds")),
    "hazards.DeadlineExtension": (NotPast("new_deadline"),),
    "hazards.OfficialDocument": (NotPast("deadline"),),
    "hazards.FollowUp": (NotFuture("visited_on"),),
    "inspections.Inspection": (NotFuture("inspected_on"),),
    "inspections.PatrolRound": (NotFuture("started_at"), EndAfterStart("started_at", "ended_at")),
    "inspections.PatrolVisit": (NotFuture("visited_at"),),
    "inspections.Campaign": (EndAfterStart("starts_on", "ends_on", message=_("The end date is before the start date.")),),
    "inspections.CampaignStage": (EndAfterStart("starts_on", "ends_on"),),
    "inspections.SecurityPeriod": (EndAfterStart("starts_at", "ends_at", strict=True),),
    "inspections.InspectionSlot": (EndAfterStart("starts_at", "ends_at", strict=True),),
    "inspections.DutyShift": (EndAfterStart("starts_at", "ends_at", strict=True),),
    "training.TrainingSession": (NotFuture("date"),),
    "training.Drill": (NotFuture("date", _("A drill cannot be recorded before it is held.")),
                       # Participants are the staff taking part; residents are bounded by those living there.
                       AtMost("residents_evacuated", "institution.residents"),
                       AtMost("bedridden_evacuated", "residents_evacuated", _("Cannot exceed the residents evacuated."))),
    "assessment.FireIncident": (NotFuture("occurred_at", _("A fire cannot be recorded in the future.")),
                                NotNegative("direct_loss")),
}
# Every record of work done (a "not in the future" date) is also not before EARLIEST.
RULES = {model: rules + tuple(NotBefore(r.field) for r in rules if isinstance(r, NotFuture))
         for model, rules in RULES.items()}


def errors_for(model, values, instance=None):
    """``{field: message}`` for the rules of ``model`` that ``values`` break (field name → value)."""
    errors = {}
    for rule in RULES.get(model._meta.label, ()):
        found = rule.error(model, values, instance)
        if not found or not found[1] or found[0] in errors:
            continue
        names = {"field": _label(model, getattr(rule, "field", None) or rule.end)}
        if isinstance(rule, AtMost):
            names["total"] = _label(model, rule.total)
        errors[found[0]] = str(rule.message) % names if "%(" in str(rule.message) else str(rule.message)
    return errors


def check(model, values, instance=None):
    """Raise ``ValidationError({field: message})`` if ``values`` break a rule of ``model``."""
    errors = errors_for(model, values, instance)
    if errors:
        raise ValidationError(errors)


def check_instance(instance):
    """``check`` with the instance's own field values (what ``AuditedModel.clean`` runs)."""
    names = set()
    for rule in RULES.get(instance._meta.label, ()):
        names.update(n for n in (getattr(rule, a, None) for a in ("field", "start", "end", "total"))
                     if n and "." not in n)
    check(type(instance), {n: getattr(instance, n) for n in names}, instance)
