"""Actions on the ledger: every save of an institution goes through here."""
import datetime

from django.db import transaction
from django.utils import timezone

from apps.core.audit import acting_as

from .choices import PersonRole
from .models import Building, Institution, PersonChange

PERSON_FIELDS = {
    PersonRole.RESPONSIBLE: ("responsible_person", "responsible_phone"),
    PersonRole.MANAGER: ("manager_name", "manager_phone"),
}


def save_institution(institution: Institution, user, *, changed_on: datetime.date | None = None) -> Institution:
    """Save an institution (new or edited) and record changes of its named people with dates."""
    from apps.core import services as core

    stored = Institution.objects.filter(pk=institution.pk).first() if institution.pk else None
    core.check(user, "ledger.edit" if stored else "ledger.create", stored)
    core.check_fields(user, institution, stored)
    institution.full_clean()
    before = None
    if stored:
        before = {f: getattr(stored, f) for pair in PERSON_FIELDS.values() for f in pair}
    with transaction.atomic(), acting_as(user):
        institution.save()
        if before:
            for role, (name_field, phone_field) in PERSON_FIELDS.items():
                old_name, old_phone = before[name_field], before[phone_field]
                new_name, new_phone = getattr(institution, name_field), getattr(institution, phone_field)
                if old_name != new_name:
                    PersonChange.objects.create(
                        institution=institution, role=role, old_name=old_name, old_phone=old_phone,
                        new_name=new_name, new_phone=new_phone,
                        changed_on=changed_on or timezone.localdate(), recorded_by=user,
                    )
    return institution


def delete_institution(user, institution):
    from apps.core import services as core

    core.remove(user, "ledger.delete", institution)


def save_building(user, building):
    """A building of an institution: whoever may edit the institution's ledger entry."""
    from apps.core import services as core

    if building.pk:  # checked against the institution it is stored at, and kept there
        stored = Building.objects.get(pk=building.pk)
        building.institution_id = stored.institution_id
    return core.write(user, "ledger.edit", building, target=None)


def delete_building(user, building):
    from apps.core import services as core

    core.remove(user, "ledger.edit", building, target=None)
