"""Who may do what in training: the staff register, sessions, drills, publicity, batches."""
from django.utils.translation import gettext_lazy as _

from apps.core.policy import action, register
from apps.orgs.choices import OFFICE_ROLES, Role

OFFICES = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP}

register("training", actions=[
    action("training.staff_edit", OFFICES | {Role.INSTITUTION_MANAGER}, _("Edit the staff register")),
    action("training.staff_import", OFFICES | {Role.INSTITUTION_MANAGER}, _("Import the staff register")),
    action("training.record", OFFICES | {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF},
           _("Record training sessions, attendance, drills and publicity")),
    action("training.batch", {Role.ADMIN, Role.SECTION, Role.UNIT}, _("Run training batches")),
])

# The menu: which entries a role sees (templates ask ``user|can:"menu.…"``). The pages
# themselves stay reachable by scope; the menu keeps to each role's daily work (an institution
# manager: its own records; its staff: patrols, inspections, hazards and alarms).
register("training", actions=[
    action("menu.training_records", OFFICE_ROLES | {Role.INSTITUTION_MANAGER}, _("Menu: staff register, training compliance, sessions, publicity")),
    action("menu.training_batches", OFFICE_ROLES, _("Menu: training batches")),
])
