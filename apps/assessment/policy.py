"""Who may do what in assessment: incidents, accountability, assessments, reports, handover."""
from django.utils.translation import gettext_lazy as _

from apps.core.policy import action, register
from apps.orgs.choices import OFFICE_ROLES, Role
from apps.orgs.rules import own_administration_refusal

OFFICES = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP}

register("assessment", actions=[
    action("incident.record", OFFICES | {Role.INSTITUTION_MANAGER}, _("Record fire incidents")),
    # Holding units and people to account is an enforcement act of an office (W3.3).
    action("incident.accountability", OFFICES, _("Record accountability for an incident")),
    action("assessment.edit", OFFICES | {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF}, _("Draft assessments")),
    action("assessment.sign", OFFICES | {Role.INSTITUTION_MANAGER}, _("Sign assessments")),
    action("reports.view", OFFICES | {Role.LEADER}, _("View district reports")),
    # The package holds only what the exporting user sees, so every office may hand over its part.
    action("handover.export", OFFICES | {Role.LEADER}, _("Export the handover package")),
    # Loading a package adds rows across the whole installation: the administrator only.
    action("handover.import", {Role.ADMIN}, _("Import a handover package")),
])

# The menu: which entries a role sees (templates ask ``user|can:"menu.…"``). The pages
# themselves stay reachable by scope; the menu keeps to each role's daily work (an institution
# manager: its own records; its staff: patrols, inspections, hazards and alarms).
register("assessment", actions=[
    action("menu.assessment_oversight", OFFICE_ROLES, _("Menu: risk levels, fire incidents, high-risk areas")),
    action("menu.assessments", OFFICE_ROLES | {Role.INSTITUTION_MANAGER}, _("Menu: assessments")),
])


# Rules by level (apps/orgs/rules.py): an administration's leaders and administrators set its own
# rules; never another administration's, nor the platform default.
register("assessment", actions=[
    action("riskmodel.override", {Role.ADMIN, Role.LEADER}, _("Set risk models for one's administration"), own_administration_refusal),
])
