"""Actions on the ledger: every save of an institution goes through here."""
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
    check_placement(user, institution, stored)
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


def placement_choices(user) -> dict:
    """The townships and units ``user`` may place an institution in: the page's form offers these and
    the API accepts these (``check_placement`` holds the same rule for every save)."""
    from apps.core import scope

    return {"township": scope.township_choices(user), "operator_unit": scope.unit_choices(user)}


def check_placement(user, institution, stored=None):
    """Where an institution sits decides who sees it, so a user may place one (create it, or move it:
    township, operator unit, kind) only within their own reach: a township of their administration
    (their own, for a township officer), a unit of their administration, a kind of their line of
    business. The one rule for the page and the API (the form offers the same choices)."""
    from apps.core import scope

    def moved(attname):
        return stored is None or getattr(stored, attname) != getattr(institution, attname)

    errors = {}
    if institution.township_id and moved("township_id") and \
            not scope.township_choices(user).filter(pk=institution.township_id).exists():
        errors["township"] = _("Choose a township (street) within your own area.")
    if institution.operator_unit_id and moved("operator_unit_id") and \
            not scope.unit_choices(user).filter(pk=institution.operator_unit_id).exists():
        errors["operator_unit"] = _("Choose a directly-run unit of your own administration.")
    if institution.kind and moved("kind") and not scope.within_reach(user, "kind", institution.kind):
        errors["kind"] = _("This kind of institution is outside your section's line of business.")
    if errors:
        raise ValidationError(errors)


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
