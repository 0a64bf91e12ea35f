"""Who may do what with the ledger, and which fields of an institution each role may change."""
from django.utils.translation import gettext_lazy as _

from apps.core.policy import action, fields, register
from apps.orgs.choices import OFFICE_ROLES, Role

OFFICES_THAT_EDIT = {Role.ADMIN, Role.SECTION, Role.TOWNSHIP, Role.UNIT}

register("ledger", actions=[
    action("ledger.view", set(Role), _("View the ledger")),
    action("ledger.edit", OFFICES_THAT_EDIT | {Role.INSTITUTION_MANAGER}, _("Edit ledger entries")),
    action("ledger.create", OFFICES_THAT_EDIT, _("Add institutions")),
    action("ledger.delete", {Role.ADMIN}, _("Delete institutions")),
    action("ledger.import", {Role.ADMIN, Role.SECTION, Role.TOWNSHIP}, _("Import the ledger from Excel")),
], field_rules=[
    # An institution edits its facts, not where it sits in the tree (its scope) nor the bureau's own order.
    fields("ledger.Institution", ["kind", "township", "operator_unit", "is_key_unit", "order"], OFFICES_THAT_EDIT),
])

# The menu: which entries a role sees (templates ask ``user|can:"menu.…"``). The pages
# themselves stay reachable by scope; the menu keeps to each role's daily work (an institution
# manager: its own records; its staff: patrols, inspections, hazards and alarms).
register("ledger", actions=[
    action("menu.institutions", OFFICE_ROLES | {Role.INSTITUTION_MANAGER}, _("Menu: institution ledger")),
])
