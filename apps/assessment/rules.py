"""Who may do what in this app (role sets; scope still limits which rows)."""
from apps.orgs.choices import Role

OFFICES = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP}
RULES = {
    # A fire is recorded by the supervising office or the institution's manager.
    "incident.record": OFFICES | {Role.INSTITUTION_MANAGER},
    # Holding units and people to account is an enforcement act of an office (W3.3).
    "incident.accountability": OFFICES,
    # The assessment is drafted by the institution or its office and signed by a person.
    "assessment.edit": OFFICES | {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF},
    "assessment.sign": OFFICES | {Role.INSTITUTION_MANAGER},
    # District-wide reports and the handover package.
    "reports.view": {Role.ADMIN, Role.LEADER, Role.SECTION, Role.UNIT, Role.TOWNSHIP},
    "handover.export": {Role.ADMIN, Role.LEADER},
}


def allowed(user, rule):
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_superuser or user.role in RULES[rule]))
