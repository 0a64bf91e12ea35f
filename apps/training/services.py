"""Actions of the training app: every change goes through a function here."""
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import acting_as, record_action

from .choices import FireRole, OrganiserLevel
from .models import Attendance, DrillProblem, StaffMember, TrainingSession

LEDGER_ROLES = {FireRole.RESPONSIBLE: ("responsible_person", "responsible_phone"),
                FireRole.MANAGER: ("manager_name", "manager_phone")}


def sync_ledger(staff, old_roles, user, changed_on=None):
    """Keep the institution's responsible person and manager in step with the register.

    A staff member given the role becomes the named person; one who loses it (or leaves) is
    removed if they were the named person. Saved through the ledger so the dated change is kept.
    """
    from apps.ledger.services import save_institution

    institution = staff.institution
    active = staff.left_on is None or staff.left_on > timezone.localdate()
    new_roles = set(staff.roles or []) if active else set()
    changed = False
    for role, (name_field, phone_field) in LEDGER_ROLES.items():
        had, has = role in old_roles, role in new_roles
        if has and (getattr(institution, name_field) != staff.name
                    or getattr(institution, phone_field) != staff.phone):
            setattr(institution, name_field, staff.name)
            setattr(institution, phone_field, staff.phone)
            changed = True
        elif had and not has and getattr(institution, name_field) == staff.name:
            setattr(institution, name_field, "")
            setattr(institution, phone_field, "")
            changed = True
    if changed:
        save_institution(institution, user, changed_on=changed_on or staff.post_changed_on or staff.hired_on)


def save_staff(staff, user, *, changed_on=None, old_roles=None):
    """Save a staff member (new or edited) and update the ledger's named people."""
    if old_roles is None:
        old_roles = set()
        if staff.pk:
            old_roles = set(StaffMember.objects.filter(pk=staff.pk).values_list("roles", flat=True).first() or [])
    new_roles = set(staff.roles or [])
    from apps.core import services as core

    core.check(user, "training.staff_edit", staff)
    staff.full_clean()
    if new_roles != set(old_roles):
        staff.roles_since = changed_on or timezone.localdate()
    with transaction.atomic(), acting_as(user):
        staff.save()
        _single_holder(staff, new_roles - set(old_roles), user, changed_on)
        sync_ledger(staff, set(old_roles), user, changed_on=changed_on)
    return staff


def _single_holder(staff, gained, user, changed_on):
    """An institution has one responsible person and one manager: the previous holder loses the role."""
    for role in set(gained) & set(LEDGER_ROLES):
        others = StaffMember.objects.filter(institution_id=staff.institution_id, roles__icontains=role).exclude(
            pk=staff.pk)
        for other in others:
            if role in (other.roles or []):
                other.roles = [r for r in other.roles if r != role]
                other.roles_since = changed_on or timezone.localdate()
                other.save()


def attendable_staff(session):
    """Staff who may be recorded for a session: the institution's, or the invited institutions'."""
    qs = StaffMember.objects.filter(left_on__isnull=True) | StaffMember.objects.filter(left_on__gt=session.date)
    if session.institution_id:
        return qs.filter(institution_id=session.institution_id)
    if session.batch_id:
        return qs.filter(institution__in=session.batch.institutions.values("pk"))
    if session.organiser_level == OrganiserLevel.TOWNSHIP and session.organizer_org_id:
        return qs.filter(institution__township_id=session.organizer_org_id)
    return qs


def record_attendance(session, staff_ids, user, method=Attendance.Method.REGISTER):
    """Record many attendances at once: a constant number of queries whatever the number.

    ``staff_ids`` must be staff the user may see and who may attend; returns the number added.
    """
    staff_ids = {int(i) for i in staff_ids}
    allowed = set(attendable_staff(session).visible_to(user).filter(pk__in=staff_ids).values_list("pk", flat=True))
    bad = staff_ids - allowed
    if bad:
        raise ValidationError(_("%(n)d of the people cannot attend this session or are outside your scope.")
                              % {"n": len(bad)})
    existing = set(Attendance.objects.filter(session=session, staff_id__in=allowed).values_list("staff_id",
                                                                                                   flat=True))
    new = [Attendance(session=session, staff_id=i, method=method) for i in sorted(allowed - existing)]
    with transaction.atomic():
        Attendance.objects.bulk_create(new)
        if new:
            record_action(session, "training.attendance", actor=user, added=len(new))
    return len(new)


def remove_attendance(session, staff_id, user):
    with transaction.atomic(), acting_as(user):
        for a in Attendance.objects.filter(session=session, staff_id=staff_id):
            a.delete()


# --- QR sign-in -------------------------------------------------------------------------------

SIGN_SALT = "training.signin"


def sign_token(session):
    return signing.dumps({"s": session.pk}, salt=SIGN_SALT)


def session_for_token(token):
    """The session a sign-in token is for, or None (bad signature, unknown session)."""
    try:
        data = signing.loads(token, salt=SIGN_SALT)
    except signing.BadSignature:
        return None
    return TrainingSession.objects.filter(pk=data.get("s")).first()


def sign_in_open(session, today=None):
    today = today or timezone.localdate()
    return abs((session.date - today).days) <= 1


def sign_in(session, name, phone):
    """A staff member signs in on their phone with name and phone. Returns (staff, message)."""
    if not sign_in_open(session):
        return None, _("Sign-in is open only on the day of the session.")
    name, phone = (name or "").strip(), "".join(ch for ch in (phone or "") if ch.isdigit())
    if not name or not phone:
        return None, _("Enter your name and phone number.")
    matches = [s for s in attendable_staff(session).filter(name=name).select_related("institution")
               if "".join(ch for ch in s.phone if ch.isdigit()) == phone]
    if len(matches) != 1:
        return None, _("No one with this name and phone is in the staff register for this session. "
                       "Ask the organiser to add you.")
    staff = matches[0]
    with transaction.atomic():
        _obj, created = Attendance.objects.get_or_create(session=session, staff=staff,
                                                         defaults={"method": Attendance.Method.QR})
    if not created:
        return staff, _("You had already signed in.")
    return staff, _("Signed in. Thank you.")


# --- Drills ---------------------------------------------------------------------------------


def add_drill_problem(drill, user, description, *, to_hazard=False, category="management"):
    """Record a problem found in a drill; optionally open a hazard in the register, linked."""
    from apps.hazards.choices import HazardSource
    from apps.hazards.services import report_hazard

    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Describe the problem.")})
    with transaction.atomic(), acting_as(user):
        problem = DrillProblem.objects.create(drill=drill, description=description)
        if to_hazard:
            hazard = report_hazard(user, drill.institution, category=category, description=description,
                                   source=HazardSource.DRILL, source_object=problem,
                                   location=_("Found in the drill of %(d)s") % {"d": drill.date})
            problem.hazard = hazard
            problem.save(update_fields=["hazard"])
    return problem



def invite_batch(batch):
    """Tell the managers of the invited institutions about a batch (one query for the users)."""
    from apps.core import scope
    from apps.core.notifications import notify
    from apps.orgs.models import User

    people = User.objects.filter(scope.reached_through_q("id", batch.institutions.values_list("pk", flat=True)))
    users = [u for u in people if u.can("institution.approve")]  # the institutions' managers
    deadline = _("Attend by %(d)s.") % {"d": batch.deadline} if batch.deadline else ""
    notify(list(users), "training.batch", _("Training batch: %(name)s") % {"name": batch.name},
           url=batch.get_absolute_url(), target=batch, dedup_key=f"training.batch.{batch.pk}",
           body=_("Your responsible person and manager are invited to this training.") + deadline)


# --- sessions, drills, publicity, batches ---------------------------------------------------------

def may_manage_session(user, session):
    """A session at an institution is managed by whoever may record and sees it; one run by an
    office, by that office (or the bureau)."""
    from apps.core import scope

    if not user.can("training.record"):
        return False
    if session.institution_id or scope.sees_all(user):
        return True
    return session.organizer_org_id is not None and session.organizer_org_id == user.organization_id


def save_record(user, action, obj, m2m=None, *, attachments=()):
    """Create or change a training record (a session, drill, publicity activity or batch): the
    policy, the model's validators, the trail and the attached files, all or nothing.
    ``attachments``: ``(file, kind, images_only)``."""
    from apps.core import services as core
    from apps.core.attachments import attach

    if obj.pk is None and hasattr(type(obj), "created_by") and not obj.created_by_id:
        obj.created_by = user
    with transaction.atomic():
        core.write(user, action, obj, m2m=m2m)
        for upload, kind, images_only in attachments:
            attach(obj, upload, kind=kind, user=user, images_only=images_only)
    return obj


def remove_record(user, action, obj):
    from apps.core import services as core

    if isinstance(obj, TrainingSession) and not may_manage_session(user, obj):
        raise PermissionDenied(_("Your role may not do this."))
    core.remove(user, action, obj)


def save_session(user, session, m2m=None, *, attachments=()):
    """A session: organised by an institution (at it) or by an office (the user's, by default)."""
    if session.pk:
        stored = TrainingSession.objects.get(pk=session.pk)
        if not may_manage_session(user, stored):
            raise PermissionDenied(_("Your role may not do this."))
    if session.organiser_level != OrganiserLevel.INSTITUTION:
        session.institution = None
        if not session.organizer_org_id:
            session.organizer_org_id = user.organization_id
    return save_record(user, "training.record", session, m2m, attachments=attachments)


def save_batch(user, batch, m2m=None):
    """A batch, run by the user's office (the bureau's by default); a new one invites its institutions."""
    from apps.orgs.models import Organization

    new = batch.pk is None
    if not batch.organizer_org_id:
        batch.organizer_org = user.organization or Organization.objects.filter(kind="bureau").first()
    with transaction.atomic():
        save_record(user, "training.batch", batch, m2m)
        if new:
            invite_batch(batch)
    return batch
