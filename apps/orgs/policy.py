"""Platform actions: the trail, the organisation tree, and the two kinds of work every app shares."""
from django.utils.translation import gettext_lazy as _

from apps.core.policy import action, register

from .choices import OFFICE_ROLES, Role

# Offices that supervise (the read-mostly bureau leader is not one of them).
SUPERVISING_OFFICES = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP}
INSTITUTION = {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF}

register("orgs", actions=[
    action("audit.search", {Role.ADMIN, Role.LEADER}, _("Search the audit trail")),
    action("orgs.manage", {Role.ADMIN}, _("Manage organisations, users and the policy")),
    # Offices supervise: they record enforcement acts (inspections, documents, supervision).
    action("enforcement.act", SUPERVISING_OFFICES, _("Record enforcement acts")),
    # Institutions record their own daily safety management.
    action("institution.self_manage", INSTITUTION, _("Record the institution's own safety management")),
    action("institution.approve", {Role.INSTITUTION_MANAGER}, _("Approve as the institution's manager")),
])

# The menu: which entries a role sees (templates ask ``user|can:"menu.…"``). The pages
# themselves stay reachable by scope; the menu keeps to each role's daily work (an institution
# manager: its own records; its staff: patrols, inspections, hazards and alarms).
register("orgs", actions=[
    action("menu.cockpit", OFFICE_ROLES, _("Menu: cockpit")),
    action("menu.reports", OFFICE_ROLES, _("Menu: reports")),
    action("menu.api_docs", OFFICE_ROLES, _("Menu: API documentation")),
])
