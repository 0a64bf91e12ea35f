"""The two directions of the scope agree for every scoped model: ``user`` sees ``obj`` (``visible``)
exactly when ``user`` is among ``viewers(obj)`` — for every user of the test world (every role,
insiders and outsiders) × sample rows of every model that has a ``scope_q``.

The sample rows are the ones the scope matrix's cases create (every page and endpoint of every app),
so a new scoped model with a case is checked here too.
"""
from django.apps import apps

from apps.core import policy
from apps.core.tests.test_scope_matrix import CASES

SAMPLES_PER_MODEL = 4


def scoped_models():
    return [m for m in apps.get_models() if hasattr(m, "scope_q") and m._meta.app_label != "auth"]


def _populate(world):
    for _name, case in CASES:
        if case.setup:
            case.setup(world)
        case.url(world)
        if case.data:
            case.data(world)


def test_visible_and_viewers_agree_for_every_scoped_model(world):
    _populate(world)
    users = list(world.all_users)
    checked, disagreements = set(), []
    for model in scoped_models():
        rows = list(model._default_manager.order_by("pk")[:SAMPLES_PER_MODEL])
        for obj in rows:
            checked.add(model._meta.label)
            viewers = set(policy.viewers(obj).values_list("pk", flat=True))
            for user in users:
                if policy.sees(user, obj) != (user.pk in viewers):
                    disagreements.append(f"{model._meta.label} #{obj.pk} × {user.username}: "
                                         f"sees={policy.sees(user, obj)} viewer={user.pk in viewers}")
    assert not disagreements, "\n".join(disagreements)
    # The sample covers the models with their own predicate, not only institution-reached ones.
    assert {"inspections.Campaign", "inspections.SecurityPeriod", "inspections.DutyShift",
            "inspections.CampaignTask", "training.TrainingSession", "orgs.Organization"} <= checked, checked
