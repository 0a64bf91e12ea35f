"""Who may do what in this app (capabilities local to training; checked by role)."""
from apps.orgs.choices import Role

OFFICES = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP}
CAPABILITIES = {
    # The staff register: offices and the institution's manager.
    "training.staff_edit": OFFICES | {Role.INSTITUTION_MANAGER},
    "training.staff_import": OFFICES | {Role.INSTITUTION_MANAGER},
    # Sessions, attendance, drills and publicity: offices and institution users.
    "training.record": OFFICES | {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF},
    # Bureau-run batches of training for responsible persons and managers.
    "training.batch": {Role.ADMIN, Role.SECTION, Role.UNIT},
}


def can(user, capability):
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in CAPABILITIES.get(capability, set())
