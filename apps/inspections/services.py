"""Actions of the inspections app. Views, API, demo and tests all go through these."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import daterules, policy, scope
from apps.core.attachments import attach
from apps.core.audit import acting_as, record_action
from apps.core.models import Attachment
from apps.hazards.choices import HazardLevel, HazardSource
from apps.hazards.services import report_hazard

from .choices import InspectionKind, InspectionState, ItemResult
from .models import Checkpoint, Inspection, InspectionItem, PatrolRound, PatrolVisit


def start_inspection(user, institution, template, *, kind=None, inspected_on=None, campaign=None):
    """Open a draft inspection with one row per checklist item (copied, so later template edits don't change it).

    Institution users may only self-inspect their own institution; offices run the other kinds
    and are recorded as the inspecting office (an enforcement act).
    """
    if not user.can("inspection.record", institution):
        raise PermissionDenied(_("Your role may not do this."))
    if scope.own_institution_id(user):
        kind, office = InspectionKind.SELF, None
    else:
        kind = kind or InspectionKind.OFFICE
        if kind == InspectionKind.SELF:
            raise ValidationError({"kind": _("A self-inspection is recorded by the institution itself.")})
        office = user.organization
    if not template.is_active:
        raise ValidationError({"template": _("This checklist is no longer in use.")})
    daterules.check(Inspection, {"inspected_on": inspected_on})
    with transaction.atomic(), acting_as(user):
        inspection = Inspection.objects.create(
            institution=institution, template=template, kind=kind, office=office, campaign=campaign,
            inspected_on=inspected_on or timezone.localdate(), created_by=user,
            inspector_name=user.display_name[:50],
        )
        InspectionItem.objects.bulk_create([
            InspectionItem(inspection=inspection, checklist_item=item, order=item.order, category=item.category,
                           text=item.text)
            for item in template.items.all()
        ])
        for row in inspection.items.all():  # bulk_create skips the save signal: log the rows too
            row.save(update_fields=["order"])
    return inspection


def submit_inspection(user, inspection, results, *, inspector_name, responsible_name, summary=""):
    """Record every item's result, sign, and open a hazard for each failure not fixed on the spot.

    ``results`` maps an InspectionItem id to ``{"result", "note", "fixed_on_spot", "photo", "level"}``.
    Every item must have a result; the hazard is linked to its item, so nothing is typed twice.
    All or nothing: one transaction.
    """
    if inspection.state != InspectionState.DRAFT:
        raise ValidationError(_("This inspection has already been submitted."))
    if not user.can("inspection.submit", inspection):
        raise PermissionDenied("；".join(str(r) for r in policy.refusals(user, "inspection.submit", inspection)))
    if not inspector_name.strip() or not responsible_name.strip():
        raise ValidationError(_("The inspector and the unit's responsible person must both sign."))
    items = list(inspection.items.all())
    errors = {}
    for item in items:
        data = results.get(item.pk) or results.get(str(item.pk)) or {}
        result = data.get("result") or ""
        if result not in {ItemResult.PASS, ItemResult.FAIL, ItemResult.NA}:
            errors[f"item-{item.pk}"] = _("Choose pass, fail or not applicable for: %(item)s") % {"item": item.text}
        elif result == ItemResult.FAIL and not (data.get("note") or "").strip():
            errors[f"item-{item.pk}"] = _("Describe what failed: %(item)s") % {"item": item.text}
        elif data.get("level") == HazardLevel.MAJOR and data.get("fixed_on_spot"):
            errors[f"item-{item.pk}"] = _("A major hazard cannot be fixed on the spot.")
    if errors:
        raise ValidationError(errors)
    source = HazardSource.SELF_INSPECTION if inspection.kind == InspectionKind.SELF else HazardSource.INSPECTION
    now = timezone.now()
    with transaction.atomic(), acting_as(user):
        for item in items:
            data = results.get(item.pk) or results.get(str(item.pk))
            item.result = data["result"]
            item.note = (data.get("note") or "").strip()
            item.fixed_on_spot = bool(data.get("fixed_on_spot")) and item.result == ItemResult.FAIL
            photo = data.get("photo")
            if photo:
                attach(item, photo, kind=Attachment.Kind.EVIDENCE, user=user)
            if item.result == ItemResult.FAIL:
                item.hazard = report_hazard(
                    user, inspection.institution, category=item.category,
                    description=f"{item.text}：{item.note}", source=source,
                    level=data.get("level") or HazardLevel.GENERAL, fixed_on_spot=item.fixed_on_spot,
                    source_object=item, found_at=now, photos_before=[photo] if photo else [],
                )
            item.save()
        inspection.inspector_name = inspector_name.strip()[:50]
        inspection.responsible_name = responsible_name.strip()[:50]
        inspection.inspector_signed_at = inspection.responsible_signed_at = now
        inspection.summary = summary
        inspection.state = InspectionState.SUBMITTED
        inspection.submitted_at = now
        inspection.save()
        failed = sum(1 for i in items if i.result == ItemResult.FAIL)
        action = "inspection.enforce" if inspection.is_enforcement else "inspection.submit"
        record_action(inspection, action, actor=user, office=inspection.office_id, failed=failed,
                      hazards=[i.hazard_id for i in items if i.hazard_id])
    return inspection


def _check_patroller(user, institution):
    if not user.can("inspection.record", institution):
        raise PermissionDenied(_("Your role may not do this."))


def start_patrol(user, institution, *, patroller_name="", started_at=None, supervisor_name=""):
    """Open a patrol round at ``institution`` (by its staff, or an office's stationed patrol)."""
    _check_patroller(user, institution)
    daterules.check(PatrolRound, {"started_at": started_at})
    with transaction.atomic(), acting_as(user):
        return PatrolRound.objects.create(
            institution=institution, patroller=user, office_id=scope.office_id(user), patroller_name=(patroller_name or user.display_name)[:50],
            supervisor_name=supervisor_name, started_at=started_at or timezone.now())


def record_visit(user, patrol, checkpoint, *, visited_at=None, ok=True, finding="", photo=None, open_hazard=False,
                 category="other"):
    """Record passing a checkpoint; an abnormal finding may open a hazard linked to the round."""
    _check_patroller(user, patrol.institution)
    if checkpoint.institution_id != patrol.institution_id:
        raise ValidationError({"checkpoint": _("The checkpoint belongs to another institution.")})
    if not ok and not finding.strip():
        raise ValidationError({"finding": _("Describe what was found.")})
    daterules.check(PatrolVisit, {"visited_at": visited_at})
    with transaction.atomic(), acting_as(user):
        visit = PatrolVisit.objects.create(round=patrol, checkpoint=checkpoint, ok=ok, finding=finding.strip(),
                                           visited_at=visited_at or timezone.now())
        if photo:
            attach(visit, photo, kind=Attachment.Kind.EVIDENCE, user=user)
        if not ok and open_hazard:
            visit.hazard = report_hazard(
                user, patrol.institution, category=category, description=f"{checkpoint.name}：{visit.finding}",
                source=HazardSource.PATROL, source_object=visit, location=checkpoint.location,
                photos_before=[photo] if photo else [])
            visit.save(update_fields=["hazard"])
        if patrol.ended_at is None or patrol.ended_at < visit.visited_at:
            patrol.ended_at = visit.visited_at
            patrol.save(update_fields=["ended_at"])
    return visit


def create_checkpoint(user, institution, *, name, location="", order=0):
    _check_patroller(user, institution)
    with transaction.atomic(), acting_as(user):
        return Checkpoint.objects.create(institution=institution, name=name, location=location, order=order)


def update_checkpoint(user, checkpoint, **changes):
    """Change a checkpoint (name, place, order, in use); it stays at its institution."""
    stored = Checkpoint.objects.select_related("institution").get(pk=checkpoint.pk)  # not what a form set
    _check_patroller(user, stored.institution)
    checkpoint.institution = stored.institution
    if "institution" in changes and changes.pop("institution").pk != stored.institution_id:
        raise ValidationError({"institution": _("A checkpoint stays at its institution.")})
    with transaction.atomic(), acting_as(user):
        for key, value in changes.items():
            setattr(checkpoint, key, value)
        checkpoint.full_clean()
        checkpoint.save()
    return checkpoint


def delete_checkpoint(user, checkpoint):
    _check_patroller(user, checkpoint.institution)
    with transaction.atomic(), acting_as(user):
        checkpoint.delete()


# --- campaigns and festival security periods (drives), and the rows of a drive ----------------

def save_drive(user, drive, m2m=None):
    """Create or change a campaign or a security period. A new one is run by the user's office
    (the bureau's when the user has none); a change is checked against the stored one."""
    from apps.core import services as core
    from apps.orgs.models import Organization

    if drive.pk is None and not drive.owner_org_id:
        drive.owner_org = user.organization or Organization.objects.filter(kind="bureau").first()
    return core.write(user, "campaign.run", drive, m2m=m2m)


def remove_drive(user, drive):
    from apps.core import services as core

    core.remove(user, "campaign.run", drive)


def _parent_field(row):
    return "campaign" if hasattr(type(row), "campaign") else "period"


def save_drive_row(user, row, m2m=None):
    """Create or change a row of a drive (a task, a stage, a person in charge, a slot, a shift):
    checked against the drive it belongs to, and against the stored drive when it is moved."""
    from apps.core import services as core

    field = _parent_field(row)
    if row.pk:
        stored = type(row)._default_manager.select_related(field).get(pk=row.pk)
        core.check(user, "campaign.run", getattr(stored, field))
    return core.write(user, "campaign.run", row, m2m=m2m, target=getattr(row, field))


def remove_drive_row(user, row):
    from apps.core import services as core

    core.remove(user, "campaign.run", row, target=getattr(row, _parent_field(row)))
