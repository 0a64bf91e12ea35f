"""Who may act on monitoring records."""
from django.utils.translation import gettext_lazy as _

from apps.core.policy import action, register
from apps.orgs.choices import OFFICE_ROLES, Role
from apps.orgs.rules import own_administration_refusal

register("monitoring", actions=[
    # The institution and the offices that supervise it (not the leader's read-only view).
    action("alarm.handle", {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP, Role.INSTITUTION_MANAGER,
                            Role.INSTITUTION_STAFF}, _("Acknowledge and clear alarms")),
    # Whoever may edit the institution's ledger entry.
    action("device.manage", {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP, Role.INSTITUTION_MANAGER},
           _("Manage devices and rotate their tokens")),
    # The platform's operators: rejected device messages are outside any institution's scope.
    action("deadletter.handle", {Role.ADMIN}, _("Inspect and replay rejected device messages")),
    # Rules by level: an administration's leaders and administrators set its own alarm thresholds
    # (apps/orgs/rules.py); never another administration's, nor the platform default.
    action("threshold.override", {Role.ADMIN, Role.LEADER}, _("Set alarm thresholds for one's administration"),
           own_administration_refusal),
])

# The menu: which entries a role sees (templates ask ``user|can:"menu.…"``). The pages
# themselves stay reachable by scope; the menu keeps to each role's daily work (an institution
# manager: its own records; its staff: patrols, inspections, hazards and alarms).
register("monitoring", actions=[
    action("menu.devices", OFFICE_ROLES | {Role.INSTITUTION_MANAGER}, _("Menu: monitoring devices")),
])
