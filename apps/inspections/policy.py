"""Who may do what in inspections: recording inspections and patrols, running campaigns and
festival security periods."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.policy import action, register
from apps.orgs.choices import OFFICE_ROLES, Role
from apps.orgs.rules import own_administration_refusal

RECORDERS = {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP, Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF}
RUN_CAMPAIGNS = {Role.ADMIN, Role.SECTION, Role.TOWNSHIP}


def run_by_own_office(user, obj):
    """A campaign or period (or a row of one) is changed by the office that runs it, or by the bureau
    roles of the administration it runs under or one above: a district may not change what its city
    or its province launched."""
    from apps.orgs.models import Organization

    owner = getattr(obj, "owner_org_id", None)
    if owner is None:
        parent = getattr(obj, "campaign", None) or getattr(obj, "period", None)
        owner = getattr(parent, "owner_org_id", None)
    if user.is_superuser or owner == user.organization_id:
        return None
    if user.sees_everything:
        area = user.administration_path
        owner_path = Organization.objects.filter(pk=owner).values_list("path", flat=True).first() or ""
        if area and owner_path.startswith(area):
            return None
        return _("Launched by an administration above yours: only it may change it.")
    return _("Only the office that runs it may change it.")


def own_institution_for_institution_users(user, obj):
    """An institution's own people record only for their own institution."""
    inst_id = obj.pk if obj._meta.model_name == "institution" else getattr(obj, "institution_id", None)
    if user.is_institution_user and inst_id != user.institution_id:
        return _("An institution records only for itself.")
    return None


def inspector_or_own_self_inspection(user, inspection):
    """An inspection is filled in and signed by whoever started it (or the bureau); an
    institution's people also finish their own institution's self-inspection."""
    if inspection.created_by_id in (None, user.pk) or user.sees_everything:
        return None
    if (user.is_institution_user and user.institution_id == inspection.institution_id
            and inspection.kind == "self"):
        return None
    return _("Only the inspector may submit this inspection.")


register("inspections", actions=[
    # Institution users self-inspect and patrol their own institution; offices inspect what they see.
    action("inspection.record", RECORDERS, gettext_lazy("Record inspections, checkpoints and patrols"),
           own_institution_for_institution_users),
    action("inspection.submit", RECORDERS, gettext_lazy("Fill in and submit an inspection"),
           inspector_or_own_self_inspection),
    action("checklist.edit", {Role.ADMIN}, gettext_lazy("Edit checklists and frequency rules")),
    action("campaign.run", RUN_CAMPAIGNS, gettext_lazy("Run campaigns and security periods"), run_by_own_office),
])

# The menu: which entries a role sees (templates ask ``user|can:"menu.…"``). The pages
# themselves stay reachable by scope; the menu keeps to each role's daily work (an institution
# manager: its own records; its staff: patrols, inspections, hazards and alarms).
register("inspections", actions=[
    action("menu.inspection_oversight", OFFICE_ROLES, gettext_lazy("Menu: frequency compliance, campaigns, festival security, checklists")),
    action("menu.enforcement_log", OFFICE_ROLES, gettext_lazy("Menu: enforcement log")),
    action("menu.missed_patrols", OFFICE_ROLES | {Role.INSTITUTION_MANAGER}, gettext_lazy("Menu: missed patrols")),
])


# Rules by level (apps/orgs/rules.py): an administration's leaders and administrators set its own
# rules; never another administration's, nor the platform default.
register("inspections", actions=[
    action("frequency.override", {Role.ADMIN, Role.LEADER}, gettext_lazy("Set inspection frequencies for one's administration"), own_administration_refusal),
])
