"""Actions on hazards. Every change of a hazard's state goes through a function here."""
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.attachments import attach
from apps.core.audit import acting_as, record_action
from apps.core.models import Attachment

from .choices import HazardLevel, HazardSource, HazardState
from .models import Hazard

# Functions ``guard(hazard) -> str | None`` that may refuse a closure with a reason
# (e.g. monitoring's sensor-verified closure). Apps register them in their AppConfig.ready().
CLOSE_GUARDS = []


def register_close_guard(fn):
    CLOSE_GUARDS.append(fn)
    return fn


def closure_blockers(hazard):
    """Reasons the hazard may not be closed now (empty when it may)."""
    return [reason for reason in (guard(hazard) for guard in CLOSE_GUARDS) if reason]


def report_hazard(user, institution, *, category, description, source=HazardSource.OTHER, level=HazardLevel.GENERAL,
                  fixed_on_spot=False, source_object=None, building=None, location="", found_at=None,
                  photos_before=(), photos_after=(), requires_sensor_verification=False, **plan):
    """Register a hazard found at ``institution``; one fixed on the spot is closed at once.

    ``source_object`` links the record it came from (inspection item, patrol, alarm, drill).
    ``plan`` may carry measures, funds, interim_safeguards, responsible_department,
    responsible_person, responsible_phone and deadline.
    """
    if building is not None and building.institution_id != institution.pk:
        raise ValidationError({"building": _("The building belongs to another institution.")})
    if fixed_on_spot and level == HazardLevel.MAJOR:
        raise ValidationError({"level": _("A major hazard cannot be fixed on the spot.")})
    now = timezone.now()
    with transaction.atomic(), acting_as(user):
        hazard = Hazard(
            institution=institution, building=building, location=location, category=category,
            description=description, source=source, level=level, fixed_on_spot=fixed_on_spot,
            found_at=found_at or now, found_by=user if user is not None and user.pk else None,
            found_by_name=(user.display_name if user is not None and user.pk else "")[:50],
            requires_sensor_verification=requires_sensor_verification, **plan,
        )
        if source_object is not None:
            hazard.source_type = ContentType.objects.get_for_model(source_object.__class__)
            hazard.source_id = str(source_object.pk)
        if fixed_on_spot:
            hazard.state = HazardState.CLOSED
            hazard.rectified_at = hazard.verified_at = hazard.closed_at = now
            hazard.rectified_by = user
        hazard.full_clean(exclude=["found_by", "rectified_by", "verified_by"])
        hazard.save()
        for photo in photos_before:
            attach(hazard, photo, kind=Attachment.Kind.BEFORE, user=user)
        for photo in photos_after:
            attach(hazard, photo, kind=Attachment.Kind.AFTER, user=user)
        record_action(hazard, "hazard.report", actor=user, level=level, fixed_on_spot=fixed_on_spot)
    return hazard
