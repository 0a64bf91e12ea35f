"""Actions on hazards. Every change of a hazard's state goes through a function here.

Each action checks the transition table (``rules.py``) and the actor's right, writes in one
transaction, appends a step (``HazardEvent``) and a trail entry, and notifies on commit.
A refused action raises ``TransitionRefused`` (a ``ValidationError``) and changes nothing.
"""
import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import daterules
from apps.core.attachments import attach
from apps.core.audit import acting_as, record_action
from apps.core.models import Attachment
from apps.core.notifications import notify

from . import rules
from .choices import HazardAction, HazardLevel, HazardSource, HazardState
from .models import Hazard, HazardEvent

# Functions ``guard(hazard) -> str | None`` that may refuse a closure with a reason
# (e.g. monitoring's sensor-verified closure). Apps register them in their AppConfig.ready().
CLOSE_GUARDS = []


class TransitionRefused(ValidationError):
    """A step the table or a rule does not allow; ``messages`` carry the reasons in Chinese."""


def register_close_guard(fn):
    CLOSE_GUARDS.append(fn)
    return fn


def closure_blockers(hazard):
    """Reasons the hazard may not be closed now (empty when it may)."""
    return [reason for reason in (guard(hazard) for guard in CLOSE_GUARDS) if reason]


# --- who hears about what -------------------------------------------------------------------

def _institution_people(institution, exclude=None):
    from apps.orgs.services import institution_users

    return [u for u in institution_users(institution) if exclude is None or u.pk != exclude.pk]


def _supervisors(institution, exclude=None, include_bureau=False):
    from apps.orgs.services import supervisors_of

    return [u for u in supervisors_of(institution, include_bureau=include_bureau)
            if exclude is None or u.pk != exclude.pk]


def _notify_hazard(recipients, verb, title, hazard, body=""):
    notify(recipients, verb, title, url=hazard.get_absolute_url(), body=body, target=hazard)


# --- registering ------------------------------------------------------------------------------

def spot_fix_evidence_errors(fixed_on_spot, photos_after) -> dict:
    """A hazard fixed on the spot is closed at once, so it needs a photo after (page and API)."""
    if fixed_on_spot and not photos_after:
        return {"photos_after": _("A hazard fixed on the spot needs a photo after.")}
    return {}


def report_hazard(user, institution, *, category, description, source=HazardSource.OTHER, level=HazardLevel.GENERAL,
                  fixed_on_spot=False, source_object=None, building=None, location="", found_at=None,
                  photos_before=(), photos_after=(), requires_sensor_verification=False, **plan):
    """Register a hazard found at ``institution``; one fixed on the spot is closed at once.

    ``source_object`` links the record it came from (inspection item, patrol, alarm, drill).
    ``plan`` may carry measures, funds, interim_safeguards, responsible_department,
    responsible_person, responsible_phone, emergency_plan and deadline.
    """
    if building is not None and building.institution_id != institution.pk:
        raise ValidationError({"building": _("The building belongs to another institution.")})
    if fixed_on_spot and level == HazardLevel.MAJOR:
        raise ValidationError({"level": _("A major hazard cannot be fixed on the spot.")})
    now = timezone.now()
    actor = user if user is not None and user.pk else None
    with transaction.atomic(), acting_as(user):
        hazard = Hazard(
            institution=institution, building=building, location=location, category=category,
            description=description, source=source, level=level, fixed_on_spot=fixed_on_spot,
            found_at=found_at or now, found_by=actor, found_by_name=(actor.display_name if actor else "")[:50],
            requires_sensor_verification=requires_sensor_verification, **plan,
        )
        if source_object is not None:
            hazard.source_type = ContentType.objects.get_for_model(source_object.__class__)
            hazard.source_id = str(source_object.pk)
        if fixed_on_spot:
            hazard.state = HazardState.CLOSED
            hazard.rectified_at = hazard.verified_at = hazard.closed_at = now
            hazard.rectified_by = actor
        hazard.full_clean(exclude=["found_by", "rectified_by", "verified_by"])
        hazard.save()
        for photo in photos_before:
            attach(hazard, photo, kind=Attachment.Kind.BEFORE, user=actor)
        for photo in photos_after:
            attach(hazard, photo, kind=Attachment.Kind.AFTER, user=actor)
        _event(hazard, HazardAction.REPORT, actor, "", hazard.state,
               _("Fixed on the spot.") if fixed_on_spot else "")
        record_action(hazard, "hazard.report", actor=actor, level=level, fixed_on_spot=fixed_on_spot)
        if not fixed_on_spot:
            _notify_hazard(_institution_people(institution, exclude=actor), "hazard.assigned",
                           _("New hazard to rectify: %(h)s") % {"h": hazard.reference}, hazard)
        if level == HazardLevel.MAJOR:
            _notify_hazard(_supervisors(institution, exclude=actor), "hazard.major_reported",
                           _("Major hazard reported: %(h)s") % {"h": hazard.reference}, hazard)
        else:
            # The township hears of every new hazard in its area (one fixed on the spot included).
            _notify_hazard(_township_officers(institution, exclude=actor), "hazard.reported",
                           (_("Hazard fixed on the spot: %(h)s") if fixed_on_spot
                            else _("New hazard registered: %(h)s")) % {"h": hazard.reference}, hazard)
    return hazard


def _township_officers(institution, exclude=None):
    """The officers whose reach is the institution's township (not the sections across townships)."""
    from apps.core.scope import reached_through_q
    from apps.orgs.models import User

    qs = User.objects.filter(reached_through_q("township_id", [institution.township_id]))
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs)


def _event(hazard, action, actor, from_state, to_state, text=""):
    return HazardEvent.objects.create(hazard=hazard, action=action, from_state=from_state or "",
                                      to_state=to_state or "", text=text, actor=actor,
                                      actor_name=actor.display_name if actor else "system")


def _check(hazard, action, user):
    """Lock the hazard and refuse the step with the reasons when the table or a rule forbids it."""
    if not Hazard.objects.visible_to(user).filter(pk=hazard.pk).exists():
        raise TransitionRefused(_("This hazard is outside your scope."))
    locked = Hazard.objects.select_for_update().select_related("institution").get(pk=hazard.pk)
    reasons = rules.refusals(locked, action, user)
    if reasons:
        raise TransitionRefused(reasons)
    return locked


def _require(**fields):
    errors = {name: _("This field is required.") for name, value in fields.items() if value in (None, "", [])}
    if errors:
        raise ValidationError(errors)


def _attach_all(obj, photos, kind, user):
    for photo in photos or ():
        attach(obj, photo, kind=kind, user=user)


def _step(hazard, action, user, text, apply, photos=(), photo_kind=Attachment.Kind.EVIDENCE, photo_target=None):
    """Run one transition: check, apply the changes, save, add photos, record the step and the trail."""
    with transaction.atomic(), acting_as(user):
        locked = _check(hazard, action, user)
        from_state = locked.state
        transition = rules.TRANSITIONS[action]
        apply(locked)
        if transition.target:
            locked.state = transition.target
        locked.full_clean(exclude=["found_by", "rectified_by", "verified_by", "source_type"])
        locked.save()
        event = _event(locked, action, user, from_state, locked.state, text)
        _attach_all(photo_target(locked, event) if photo_target else locked, photos, photo_kind, user)
        record_action(locked, f"hazard.{action}", actor=user, from_state=from_state, to_state=locked.state,
                      text=text[:500])
    return locked, event


PLAN_FIELDS = ("measures", "funds", "interim_safeguards", "responsible_department", "responsible_person",
               "responsible_phone", "deadline", "emergency_plan")


def submit_plan(user, hazard, *, measures, deadline, responsible_person, funds=None, interim_safeguards="",
                responsible_department="", responsible_phone="", emergency_plan=""):
    """registered → rectifying: the institution sets measures, funds, safeguards, who and by when."""
    _require(measures=measures, deadline=deadline, responsible_person=responsible_person)
    daterules.check(Hazard, {"deadline": deadline, "funds": funds})
    if hazard.is_major:
        _require(funds=funds, emergency_plan=emergency_plan)
    values = dict(measures=measures, deadline=deadline, responsible_person=responsible_person, funds=funds,
                  interim_safeguards=interim_safeguards, responsible_department=responsible_department,
                  responsible_phone=responsible_phone, emergency_plan=emergency_plan)

    def apply(h):
        for key, value in values.items():
            setattr(h, key, value)

    hazard, _event_ = _step(hazard, HazardAction.PLAN, user, measures, apply)
    return hazard


def submit_rectification(user, hazard, *, report, photos_after=()):
    """rectifying → awaiting verification: the rectification report with photos after."""
    _require(report=report)
    if not photos_after:
        raise ValidationError({"photos_after": _("Add at least one photo taken after the rectification.")})

    def apply(h):
        h.rectification_report = report
        h.rectified_at = timezone.now()
        h.rectified_by = user

    hazard, _e = _step(hazard, HazardAction.RECTIFY, user, report, apply, photos=photos_after,
                       photo_kind=Attachment.Kind.AFTER)
    recipients = _supervisors(hazard.institution, exclude=user) + [
        u for u in _institution_people(hazard.institution, exclude=user) if u.can("hazard.verify")]
    if hazard.is_major:
        recipients = _supervisors(hazard.institution, exclude=user)
    _notify_hazard(recipients, "hazard.verification_requested",
                   _("Verification requested: %(h)s") % {"h": hazard.reference}, hazard, report[:200])
    return hazard


def verify(user, hazard, *, note=""):
    """awaiting verification → closed (销号), by someone other than the rectifier; close guards apply."""

    def apply(h):
        h.verified_at = h.closed_at = timezone.now()
        h.verified_by = user

    hazard, _e = _step(hazard, HazardAction.VERIFY, user, note, apply)
    _notify_hazard(_institution_people(hazard.institution, exclude=user), "hazard.closed",
                   _("Hazard verified and closed: %(h)s") % {"h": hazard.reference}, hazard)
    return hazard


def send_back(user, hazard, *, reason):
    """awaiting verification → rectifying, with the reason."""
    _require(reason=reason)
    hazard, _e = _step(hazard, HazardAction.SEND_BACK, user, reason, lambda h: None)
    _notify_hazard(_institution_people(hazard.institution, exclude=user), "hazard.sent_back",
                   _("Rectification sent back: %(h)s") % {"h": hazard.reference}, hazard, reason)
    return hazard


def reopen(user, hazard, *, reason, deadline=None):
    """closed → rectifying (回头看): the hazard keeps its whole history."""
    _require(reason=reason)
    daterules.check(Hazard, {"deadline": deadline})

    def apply(h):
        h.reopened_count += 1
        h.closed_at = h.verified_at = None
        h.verified_by = None
        if deadline is not None:
            h.deadline = deadline

    hazard, _e = _step(hazard, HazardAction.REOPEN, user, reason, apply)
    _notify_hazard(_institution_people(hazard.institution, exclude=user), "hazard.assigned",
                   _("Hazard re-opened: %(h)s") % {"h": hazard.reference}, hazard, reason)
    return hazard


def set_requirements(user, hazard, *, requirements, deadline):
    """下达整改要求: the township (or the bureau) sets requirements and a deadline on a general hazard.

    The state does not change; the institution's plan must meet the deadline set here."""
    _require(requirements=requirements, deadline=deadline)
    daterules.check(Hazard, {"deadline": deadline})
    if deadline < timezone.localdate():
        raise ValidationError({"deadline": _("The deadline must not be in the past.")})

    def apply(h):
        h.requirements = requirements
        h.deadline = deadline

    text = _("%(text)s (deadline %(d)s)") % {"text": requirements, "d": deadline.isoformat()}
    hazard, _e = _step(hazard, HazardAction.REQUIRE, user, text, apply)
    _notify_hazard(_institution_people(hazard.institution, exclude=user), "hazard.requirements",
                   _("Rectification requirements, deadline %(d)s: %(h)s") % {"d": deadline.isoformat(),
                                                                            "h": hazard.reference},
                   hazard, requirements[:200])
    return hazard


def add_note(user, hazard, *, text, photos=()):
    """A progress note with photos at any time; the state does not change."""
    _require(text=text)
    _hazard, event = _step(hazard, HazardAction.NOTE, user, text, lambda h: None, photos=photos,
                           photo_target=lambda h, e: e)
    return event


TRANSITION_FUNCTIONS = {
    HazardAction.PLAN: submit_plan,
    HazardAction.RECTIFY: submit_rectification,
    HazardAction.VERIFY: verify,
    HazardAction.SEND_BACK: send_back,
    HazardAction.REOPEN: reopen,
    HazardAction.NOTE: add_note,
    HazardAction.REQUIRE: set_requirements,
}


def due_soon_days():
    return 3


def deadline_reminders(today=None):
    """Date-driven notifications; idempotent (dedup keys), run daily by ``@scheduled``.

    A deadline in 3 days: once per hazard and deadline. A deadline passed: once per hazard and
    deadline (for deadlines in the last week), then one daily digest per person, not a flood.
    """
    today = today or timezone.localdate()
    soon = Hazard.objects.open().filter(deadline__gt=today, deadline__lte=today + datetime.timedelta(days=3))
    sent = 0
    for hazard in soon.select_related("institution"):
        sent += len(notify(_institution_people(hazard.institution), "hazard.deadline_soon",
                           _("Deadline on %(d)s: %(h)s") % {"d": hazard.deadline, "h": hazard.reference},
                           url=hazard.get_absolute_url(), target=hazard,
                           dedup_key=f"hazard-due-soon:{hazard.pk}:{hazard.deadline}"))
    overdue = Hazard.objects.overdue(today).select_related("institution")
    digest = {}  # user -> count
    cache = {}
    for hazard in overdue.iterator(chunk_size=2000):
        inst = hazard.institution
        key = (inst.pk, inst.township_id, inst.kind, inst.operator_unit_id)
        if key not in cache:
            cache[key] = _institution_people(inst) + _supervisors(inst)
        people = cache[key]
        if hazard.deadline >= today - datetime.timedelta(days=7):
            sent += len(notify(people, "hazard.overdue",
                               _("Deadline passed: %(h)s") % {"h": hazard.reference},
                               url=hazard.get_absolute_url(), target=hazard,
                               dedup_key=f"hazard-overdue:{hazard.pk}:{hazard.deadline}"))
        if hazard.deadline < today - datetime.timedelta(days=1):  # its own notice came first
            for person in people:
                digest[person] = digest.get(person, 0) + 1
    for person, count in digest.items():
        sent += len(notify([person], "hazard.overdue_digest",
                           _("%(n)d hazards are past their deadline") % {"n": count},
                           url="/hazards/?overdue=1", dedup_key=f"hazard-overdue-digest:{today}"))
    return sent


# ---------------------------------------------------------------- number formats by level


def save_number_format(user, fmt):
    """Add or change a number format of an administration (rules by level, ``apps.orgs.rules``): a new
    format belongs to the user's own administration (one per series and administration). A number
    format is no legal minimum, so any level may set its own; a pattern that cannot number a document
    (an unknown placeholder, no ``{n}``, an unmatched brace) is refused with the reason."""
    from apps.orgs.rulepages import save_rule

    return save_rule(user, "numberformat.override", fmt)
