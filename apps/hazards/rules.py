"""The closed loop as a table (mechanism 4): state, action, to-state, who may, extra rules.

Services look a transition up here; pages and the API show only the actions ``allowed_actions``
returns for the current user. A rule is a function ``(hazard, user) -> reason | None``.
"""
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.orgs.choices import Role

from .choices import OPEN_STATES, HazardAction, HazardState

INSTITUTION = {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF}
OFFICES = {Role.ADMIN, Role.LEADER, Role.SECTION, Role.UNIT, Role.TOWNSHIP}
# The township office or the bureau (its leaders, administrators and sections).
TOWNSHIP_OR_BUREAU = {Role.ADMIN, Role.LEADER, Role.SECTION, Role.TOWNSHIP}

RECTIFIERS = INSTITUTION | {Role.ADMIN}
VERIFIERS = OFFICES | {Role.INSTITUTION_MANAGER}
REOPENERS = OFFICES | {Role.INSTITUTION_MANAGER}

# Who may do the other hazard acts (capabilities of this app, kept here rather than in orgs).
HAZARD_CAPABILITIES = {
    "hazard.report": INSTITUTION | OFFICES,
    "hazard.determine": TOWNSHIP_OR_BUREAU,
    "supervision.list": TOWNSHIP_OR_BUREAU,
    "supervision.follow_up": OFFICES,
    "supervision.request_extension": {Role.INSTITUTION_MANAGER, Role.ADMIN},
    "supervision.decide_extension": TOWNSHIP_OR_BUREAU,
    "supervision.delist": TOWNSHIP_OR_BUREAU,
    "document.issue": {Role.ADMIN, Role.SECTION, Role.UNIT, Role.TOWNSHIP},
    "document.acknowledge": INSTITUTION,
    "rule_set.load": {Role.ADMIN},
    "suggestion.decide": TOWNSHIP_OR_BUREAU,
}


def may(user, capability):
    """Whether ``user``'s role allows one of this app's capabilities."""
    return bool(user and user.is_authenticated and user.is_active and user.role in HAZARD_CAPABILITIES[capability])


def not_the_rectifier(hazard, user):
    if hazard.rectified_by_id and hazard.rectified_by_id == user.pk:
        return _("The verifier must not be the person who rectified the hazard.")
    return None


def major_by_township_or_bureau(hazard, user):
    if hazard.is_major and user.role not in TOWNSHIP_OR_BUREAU:
        return _("A major hazard is verified only by the township office or the bureau.")
    return None


def no_close_guard_objects(hazard, user):
    from .services import closure_blockers

    blockers = closure_blockers(hazard)
    return "；".join(str(b) for b in blockers) if blockers else None


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple
    target: str | None  # None: the state does not change (progress notes)
    roles: frozenset
    rules: tuple = field(default=())
    label: object = ""
    needs_text: bool = False  # a reason or a report is required


TRANSITIONS = {
    t.action: t for t in [
        Transition(HazardAction.PLAN, (HazardState.REGISTERED,), HazardState.RECTIFYING, frozenset(RECTIFIERS),
                   label=gettext_lazy("Submit rectification plan")),
        Transition(HazardAction.RECTIFY, (HazardState.RECTIFYING,), HazardState.AWAITING_VERIFICATION,
                   frozenset(RECTIFIERS), label=gettext_lazy("Submit rectification"), needs_text=True),
        Transition(HazardAction.VERIFY, (HazardState.AWAITING_VERIFICATION,), HazardState.CLOSED,
                   frozenset(VERIFIERS), (not_the_rectifier, major_by_township_or_bureau, no_close_guard_objects),
                   label=gettext_lazy("Verify and close")),
        Transition(HazardAction.SEND_BACK, (HazardState.AWAITING_VERIFICATION,), HazardState.RECTIFYING,
                   frozenset(VERIFIERS), (not_the_rectifier, major_by_township_or_bureau),
                   label=gettext_lazy("Send back"), needs_text=True),
        Transition(HazardAction.REOPEN, (HazardState.CLOSED,), HazardState.RECTIFYING, frozenset(REOPENERS),
                   label=gettext_lazy("Re-open (re-check)"), needs_text=True),
        Transition(HazardAction.NOTE, (*OPEN_STATES, HazardState.CLOSED), None, frozenset(INSTITUTION | OFFICES),
                   label=gettext_lazy("Progress note"), needs_text=True),
    ]
}


def refusals(hazard, action, user):
    """Why ``user`` may not take ``action`` on ``hazard`` now (an empty list when they may)."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        return [_("Unknown action.")]
    if user is None or not user.is_authenticated or not user.is_active:
        return [_("Log in first.")]
    if hazard.state not in transition.sources:
        return [_("“%(action)s” is not possible while the hazard is “%(state)s”.") % {
            "action": transition.label, "state": hazard.get_state_display()}]
    if user.role not in transition.roles:
        return [_("Your role (%(role)s) may not “%(action)s”.") % {
            "role": user.get_role_display() or "—", "action": transition.label}]
    return [reason for reason in (rule(hazard, user) for rule in transition.rules) if reason]


def allowed_actions(hazard, user):
    """The transitions ``user`` may take on ``hazard`` now, in table order."""
    return [t for t in TRANSITIONS.values() if not refusals(hazard, t.action, user)]
