"""Who may act on monitoring records (roles from apps.orgs; no new global capability)."""
from apps.orgs.choices import Role

# Acknowledge and clear alarms: the institution and the offices that supervise it (not the leader's read-only view).
ALARM_HANDLERS = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP, Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF}
# Rotate a device token: whoever may edit the institution's ledger entry.
DEVICE_MANAGERS = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP, Role.INSTITUTION_MANAGER}


def can_handle_alarms(user):
    return user.is_authenticated and user.role in ALARM_HANDLERS


def can_manage_devices(user):
    return user.is_authenticated and user.role in DEVICE_MANAGERS
