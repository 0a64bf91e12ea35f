"""Actions of the inspections app. Views, API, demo and tests all go through these."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import daterules, policy, scope
from apps.core.attachments import attach
from apps.core.audit import acting_as, record_action
from apps.core.models import Attachment
from apps.hazards.choices import HazardLevel, HazardSource
from apps.hazards.services import report_hazard

from .choices import InspectionKind, InspectionState, ItemResult
from .models import Campaign, Checkpoint, Inspection, InspectionItem, PatrolRound, PatrolVisit


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


def _photos(data):
    """An item's photos: ``photos`` (a list) and/or ``photo`` (one)."""
    photos = list(data.get("photos") or [])
    if data.get("photo"):
        photos.insert(0, data["photo"])
    return photos


def _bad_photos(photos):
    """``["name: reason", ...]`` for the photos that are not acceptable images."""
    from apps.core.uploads import validate_image

    bad = []
    for photo in photos:
        try:
            validate_image(photo)
        except ValidationError as exc:
            bad.append(f"{getattr(photo, 'name', '') or _('photo')}：{'；'.join(str(m) for m in exc.messages)}")
    return bad


def submit_inspection(user, inspection, results, *, inspector_name, responsible_name, summary="", signed_at=None):
    """Record every item's result, sign, and open a hazard for each failure not fixed on the spot.

    ``results`` maps an InspectionItem id to ``{"result", "note", "fixed_on_spot", "photo", "photos", "level"}``;
    a photo that is not an image is an error of its item, named with its file.
    Every item must have a result; the hazard is linked to its item, so nothing is typed twice.
    ``signed_at``: when it was signed, if not now (a checklist filled in without signal keeps the phone's
    time for the signatures and the hazards found; ``submitted_at`` is when it reached the platform).
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
        bad = _bad_photos(_photos(data))
        if bad:  # named per item and per file, so the page marks the item and keeps the good photos
            errors[f"item-{item.pk}"] = "；".join([e for e in [errors.get(f"item-{item.pk}")] if e] + bad)
    if errors:
        raise ValidationError(errors)
    source = HazardSource.SELF_INSPECTION if inspection.kind == InspectionKind.SELF else HazardSource.INSPECTION
    now = timezone.now()
    signed = signed_at or now
    with transaction.atomic(), acting_as(user):
        for item in items:
            data = results.get(item.pk) or results.get(str(item.pk))
            item.result = data["result"]
            item.note = (data.get("note") or "").strip()
            item.fixed_on_spot = bool(data.get("fixed_on_spot")) and item.result == ItemResult.FAIL
            photos = _photos(data)
            for photo in photos:
                attach(item, photo, kind=Attachment.Kind.EVIDENCE, user=user)
            photo = photos[0] if photos else None
            if item.result == ItemResult.FAIL:
                item.hazard = report_hazard(
                    user, inspection.institution, category=item.category,
                    description=f"{item.text}：{item.note}", source=source,
                    level=data.get("level") or HazardLevel.GENERAL, fixed_on_spot=item.fixed_on_spot,
                    source_object=item, found_at=signed, photos_before=[photo] if photo else [],
                )
            item.save()
        inspection.inspector_name = inspector_name.strip()[:50]
        inspection.responsible_name = responsible_name.strip()[:50]
        inspection.inspector_signed_at = inspection.responsible_signed_at = signed
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


# --- the offline patrol app: records made without signal, sent later ----------------------------

class SyncConflict(Exception):
    """The record changed on the server since the phone saw it: reported to the phone, never dropped."""

    def __init__(self, reason, current=None):
        super().__init__(reason)
        self.reason = reason
        self.current = current or {}


def sync_round(user, *, key, institution, started_at, patroller_name="", supervisor_name=""):
    """Store a round recorded offline once: ``(round, created)``. The same key again is the same
    round (the phone did not hear the first answer); the same key with other facts is a conflict."""
    _check_patroller(user, institution)
    existing = PatrolRound.objects.filter(client_key=key).first()
    if existing is None:
        try:
            with transaction.atomic(), acting_as(user):
                patrol = start_patrol(user, institution, patroller_name=patroller_name, started_at=started_at,
                                      supervisor_name=supervisor_name)
                patrol.client_key = key
                patrol.save(update_fields=["client_key"])
            return patrol, True
        except IntegrityError:  # sent twice at the same moment: the other request stored it
            existing = PatrolRound.objects.get(client_key=key)
    if existing.institution_id != institution.pk or existing.started_at != started_at:
        raise SyncConflict(_("This round was stored with other facts (institution or start time)."),
                           {"id": existing.pk, "institution": existing.institution_id,
                            "started_at": existing.started_at.isoformat()})
    return existing, False


def _checkpoint_changes(checkpoint, seen_name, seen_location):
    changes = []
    if not checkpoint.is_active:
        changes.append(_("the checkpoint is no longer in use"))
    if seen_name is not None and seen_name != checkpoint.name:
        changes.append(_("renamed to “%(name)s”") % {"name": checkpoint.name})
    if seen_location is not None and seen_location != checkpoint.location:
        changes.append(_("moved to “%(place)s”") % {"place": checkpoint.location or "—"})
    return changes


def sync_visit(user, *, key, patrol, checkpoint, visited_at, ok=True, finding="", photo=None, open_hazard=False,
               seen_name=None, seen_location=None, force=False):
    """Store a checkpoint visit recorded offline once, with the time it was recorded: ``(visit, created)``.

    A checkpoint renamed, moved or taken out of use since the phone loaded it is a conflict
    (reported with what changed) unless the patroller sends it again with ``force``."""
    _check_patroller(user, patrol.institution)
    existing = PatrolVisit.objects.filter(client_key=key).first()
    if existing is not None:
        if existing.round_id != patrol.pk or existing.checkpoint_id != checkpoint.pk or existing.visited_at != visited_at:
            raise SyncConflict(_("This visit was stored with other facts."), {
                "id": existing.pk, "round": existing.round_id, "checkpoint": existing.checkpoint_id,
                "visited_at": existing.visited_at.isoformat()})
        return existing, False
    changes = _checkpoint_changes(checkpoint, seen_name, seen_location)
    if changes and not force:
        raise SyncConflict(_("The checkpoint changed since it was loaded: %(changes)s.") % {
            "changes": "；".join(changes)}, {"checkpoint": checkpoint.pk, "name": checkpoint.name,
                                           "location": checkpoint.location, "is_active": checkpoint.is_active})
    if visited_at < patrol.started_at:
        raise ValidationError({"visited_at": _("The visit cannot be before the round started.")})
    try:
        with transaction.atomic(), acting_as(user):
            visit = record_visit(user, patrol, checkpoint, visited_at=visited_at, ok=ok, finding=finding,
                                 photo=photo, open_hazard=open_hazard)
            visit.client_key = key
            visit.save(update_fields=["client_key"])
        return visit, True
    except IntegrityError:
        return PatrolVisit.objects.get(client_key=key), False


def sync_inspection(user, *, key, institution, template, inspected_on, results, inspector_name, responsible_name,
                    summary="", recorded_at=None):
    """Store a checklist filled in without signal once: ``(inspection, created)``.

    ``recorded_at``: when it was signed on the phone (kept as the signatures' time and the time the
    failed items' hazards were found; not in the future, not on another day than ``inspected_on``).

    ``results`` maps a *checklist item* id (what the phone saw) to ``{"result", "note", "fixed_on_spot",
    "level", "photo"}``. Started and submitted in one transaction (all or nothing, as on the page). The
    same key again is the same inspection; a checklist changed since the phone loaded it (retired,
    items added or removed) is a conflict, reported with what changed."""
    if not user.can("inspection.record", institution):
        raise PermissionDenied(_("Your role may not do this."))
    existing = Inspection.objects.filter(client_key=key).first()
    if existing is not None:
        if existing.institution_id != institution.pk or existing.template_id != template.pk:
            raise SyncConflict(_("This checklist was stored with other facts."), {
                "id": existing.pk, "institution": existing.institution_id, "template": existing.template_id})
        return existing, False
    if recorded_at is not None:
        if recorded_at > timezone.now() + daterules.CLOCK_SKEW:
            raise ValidationError({"recorded_at": _("The time it was signed cannot be in the future.")})
        if timezone.localdate(recorded_at) != inspected_on:
            raise ValidationError({"recorded_at": _("The time it was signed is not on the inspection date.")})
    current = set(template.items.values_list("pk", flat=True))
    seen = {int(k) for k in results}
    if not template.is_active or current != seen:
        raise SyncConflict(_("The checklist changed since it was loaded (%(name)s); fill in the current one.") % {
            "name": template}, {"template": template.pk, "is_active": template.is_active, "items": sorted(current)})
    try:
        with transaction.atomic(), acting_as(user):
            inspection = start_inspection(user, institution, template, inspected_on=inspected_on)
            by_source = {row.checklist_item_id: row.pk for row in inspection.items.all()}
            submit_inspection(user, inspection, {by_source[int(k)]: v for k, v in results.items()},
                              inspector_name=inspector_name, responsible_name=responsible_name, summary=summary,
                              signed_at=recorded_at)
            inspection.client_key = key
            inspection.save(update_fields=["client_key"])
        return inspection, True
    except IntegrityError:
        return Inspection.objects.get(client_key=key), False


# --- campaigns and festival security periods (drives), and the rows of a drive ----------------

def save_drive(user, drive, m2m=None):
    """Create or change a campaign or a security period. A new one is run by the user's office
    (the bureau's when the user has none); a change is checked against the stored one."""
    from apps.core import services as core
    from apps.orgs.models import Organization

    if drive.pk is None and not drive.owner_org_id:
        drive.owner_org = user.organization or Organization.objects.filter(kind="bureau").first()
    m2m = dict(m2m or {})
    if isinstance(drive, Campaign) and not m2m.get("townships") and ("townships" in m2m or drive.pk is None):
        # A campaign launched with no township named reaches every township the launcher may choose:
        # a city's or a province's every district under it, a district's every township.
        from apps.core.scope import township_choices

        m2m["townships"] = list(township_choices(user))
        if not m2m["townships"]:
            raise ValidationError({"townships": _("Choose at least one township.")})
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


# ---------------------------------------------------------------- frequencies by level


def save_frequency_rule(user, rule):
    """Add or change a patrol/inspection frequency of an administration (rules by level,
    ``apps.orgs.rules``): a new rule belongs to the user's own administration; refused with the
    reason when it asks less (fewer rounds, longer gaps) than a rule a higher level set by law."""
    from apps.orgs.rulepages import save_rule

    from .models import FrequencyRule

    held = FrequencyRule.objects.filter(is_active=True, overridable=False).select_related("administration")
    return save_rule(user, "frequency.override", rule, held=held, looser=FrequencyRule.looser)
