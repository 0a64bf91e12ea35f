"""Who may do what with hazards: the acts of this app and each step of the closed loop.

The loop's states and transitions stay in ``rules.TRANSITIONS`` (mechanism 4); who may take a
step, and the object conditions on it, are declared here as actions ``hazard.<step>``.
"""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.policy import action, register
from apps.orgs.choices import OFFICE_ROLES, Role
from apps.orgs.rules import own_administration_refusal

INSTITUTION = {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF}
OFFICES = {Role.ADMIN, Role.LEADER, Role.SECTION, Role.UNIT, Role.TOWNSHIP}
# The township office or the bureau (its leaders, administrators and sections).
TOWNSHIP_OR_BUREAU = {Role.ADMIN, Role.LEADER, Role.SECTION, Role.TOWNSHIP}

RECTIFIERS = INSTITUTION | {Role.ADMIN}
VERIFIERS = OFFICES | {Role.INSTITUTION_MANAGER}


def not_the_rectifier(user, hazard):
    if hazard.rectified_by_id and hazard.rectified_by_id == user.pk:
        return _("The verifier must not be the person who rectified the hazard.")
    return None


def major_by_township_or_bureau(user, hazard):
    if hazard.is_major and not (user.is_superuser or user.role in TOWNSHIP_OR_BUREAU):
        return _("A major hazard is verified only by the township office or the bureau.")
    return None


def general_hazard_only(user, hazard):
    if hazard.is_major:
        return _("A major hazard is handled by listed supervision, not by requirements of the township.")
    return None


def by_the_listing_administration(user, obj):
    """A listing (or an extension of it) is decided by the administration that listed it or one above:
    a district may not delist, or extend, what the city or the province listed."""
    supervision = getattr(obj, "supervision", obj)
    admin = getattr(supervision, "administration", None)
    if admin is None or user.is_superuser:
        return None
    mine = user.administration_path
    if mine and admin.path.startswith(mine):
        return None
    return _("Listed for supervision by %(admin)s (%(level)s): only that administration or one above it may "
             "decide on it.") % {"admin": admin.name, "level": supervision.get_level_display()}


def no_close_guard_objects(user, hazard):
    from .services import closure_blockers

    blockers = closure_blockers(hazard)
    return "；".join(str(b) for b in blockers) if blockers else None


register("hazards", actions=[
    action("hazard.report", INSTITUTION | OFFICES, gettext_lazy("Report hazards")),
    action("hazard.determine", TOWNSHIP_OR_BUREAU, gettext_lazy("Determine a major hazard")),
    action("supervision.list", TOWNSHIP_OR_BUREAU, gettext_lazy("List a hazard for supervision")),
    action("supervision.follow_up", OFFICES, gettext_lazy("Record a supervision follow-up")),
    action("supervision.request_extension", {Role.INSTITUTION_MANAGER, Role.ADMIN},
           gettext_lazy("Request a deadline extension")),
    action("supervision.decide_extension", TOWNSHIP_OR_BUREAU, gettext_lazy("Decide on a deadline extension"),
           by_the_listing_administration),
    action("supervision.delist", TOWNSHIP_OR_BUREAU, gettext_lazy("Delist a supervised hazard"),
           by_the_listing_administration),
    action("document.issue", {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP},
           gettext_lazy("Issue official documents")),
    action("document.acknowledge", INSTITUTION, gettext_lazy("Acknowledge official documents")),
    action("rule_set.load", {Role.ADMIN}, gettext_lazy("Load a rule set from a file")),
    action("suggestion.decide", TOWNSHIP_OR_BUREAU, gettext_lazy("Accept or dismiss a suggested hazard")),
    # The steps of the closed loop.
    action("hazard.plan", RECTIFIERS, gettext_lazy("Submit rectification plan")),
    action("hazard.rectify", RECTIFIERS, gettext_lazy("Submit rectification")),
    action("hazard.verify", VERIFIERS, gettext_lazy("Verify and close"),
           not_the_rectifier, major_by_township_or_bureau, no_close_guard_objects),
    action("hazard.send_back", VERIFIERS, gettext_lazy("Send back"), not_the_rectifier, major_by_township_or_bureau),
    action("hazard.reopen", OFFICES | {Role.INSTITUTION_MANAGER}, gettext_lazy("Re-open (re-check)")),
    action("hazard.require", TOWNSHIP_OR_BUREAU, gettext_lazy("Set rectification requirements"),
           general_hazard_only),
    action("hazard.note", INSTITUTION | OFFICES, gettext_lazy("Progress note")),
])

# The menu: which entries a role sees (templates ask ``user|can:"menu.…"``). The pages
# themselves stay reachable by scope; the menu keeps to each role's daily work (an institution
# manager: its own records; its staff: patrols, inspections, hazards and alarms).
register("hazards", actions=[
    action("menu.hazard_oversight", OFFICE_ROLES, gettext_lazy("Menu: three lists, listed supervision, suggestions, rule sets")),
    action("menu.documents", OFFICE_ROLES | {Role.INSTITUTION_MANAGER}, gettext_lazy("Menu: official documents")),
])


# Rules by level (apps/orgs/rules.py): an administration's leaders and administrators set its own
# rules; never another administration's, nor the platform default.
register("hazards", actions=[
    action("numberformat.override", {Role.ADMIN, Role.LEADER}, gettext_lazy("Set number formats for one's administration"), own_administration_refusal),
])
