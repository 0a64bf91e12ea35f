"""The closed loop as a table (mechanism 4): state, action, to-state.

Who may take a step, and the object conditions on it ("the rectifier may not verify"), are the
policy actions ``hazard.<step>`` in ``apps/hazards/policy.py``. Services look a transition up
here; pages and the API show only the actions ``allowed_actions`` returns for the current user.
"""
from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.core import policy

from .choices import OPEN_STATES, HazardAction, HazardState


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple
    target: str | None  # None: the state does not change (progress notes)
    needs_text: bool = False  # a reason or a report is required

    @property
    def policy_action(self):
        return f"hazard.{self.action}"

    @property
    def label(self):
        return policy.registry.action(self.policy_action).label


TRANSITIONS = {
    t.action: t for t in [
        Transition(HazardAction.PLAN, (HazardState.REGISTERED,), HazardState.RECTIFYING),
        Transition(HazardAction.RECTIFY, (HazardState.RECTIFYING,), HazardState.AWAITING_VERIFICATION, needs_text=True),
        Transition(HazardAction.VERIFY, (HazardState.AWAITING_VERIFICATION,), HazardState.CLOSED),
        Transition(HazardAction.SEND_BACK, (HazardState.AWAITING_VERIFICATION,), HazardState.RECTIFYING, needs_text=True),
        Transition(HazardAction.REOPEN, (HazardState.CLOSED,), HazardState.RECTIFYING, needs_text=True),
        Transition(HazardAction.REQUIRE, (HazardState.REGISTERED, HazardState.RECTIFYING), None, needs_text=True),
        Transition(HazardAction.NOTE, (*OPEN_STATES, HazardState.CLOSED), None, needs_text=True),
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
    return policy.refusals(user, transition.policy_action, hazard)


def allowed_actions(hazard, user):
    """The transitions ``user`` may take on ``hazard`` now, in table order."""
    return [t for t in TRANSITIONS.values() if not refusals(hazard, t.action, user)]
