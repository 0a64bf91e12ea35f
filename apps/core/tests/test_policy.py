"""The policy registry: one question, the same answers for everyone, scope read both ways."""
import pytest

from apps.core import policy
from apps.core.testing import make_user
from apps.hazards.models import Hazard
from apps.hazards.services import report_hazard
from apps.ledger.models import Building, Institution
from apps.orgs.choices import Role


def test_every_app_registers_its_policy_at_ready():
    apps = {a.app for a in policy.registry.actions.values()}
    assert {"orgs", "ledger", "hazards", "inspections", "monitoring", "training", "assessment"} <= apps
    assert "ledger.Institution" in policy.registry.field_rules


def test_an_unknown_action_is_a_programming_error(world):
    with pytest.raises(LookupError):
        world.town1.can("ledger.fly")


@pytest.mark.parametrize("name", sorted(policy.registry.actions))
def test_inactive_anonymous_and_superuser_are_answered_alike_for_every_action(world, name):
    from django.contrib.auth.models import AnonymousUser

    assert not policy.can(AnonymousUser(), name) and not policy.can(None, name)
    world.town1.is_active = False
    assert not world.town1.can(name)
    root = make_user("root", role="", is_superuser=True)
    assert root.can(name)  # the role test; object conditions still apply
    root.is_active = False
    assert not root.can(name)


def test_the_rectifier_may_not_verify_but_another_manager_may(world):
    hazard = report_hazard(world.home1, world.inst1, category="electrical", description="插线板串接")
    hazard.state, hazard.rectified_by = "awaiting_verification", world.home1
    other = make_user("home1b", Role.INSTITUTION_MANAGER, institution=world.inst1)
    assert world.home1.can("hazard.verify")  # the role may ...
    assert not world.home1.can("hazard.verify", hazard)  # ... but not on the hazard it rectified
    assert "整改人" in "".join(policy.refusals(world.home1, "hazard.verify", hazard))
    assert other.can("hazard.verify", hazard)


def test_an_institution_records_only_for_itself(world):
    assert world.home1.can("inspection.record", world.inst1)
    assert not world.home1.can("inspection.record", world.inst2)
    assert not world.leader.can("inspection.record", world.inst1)
    assert world.town1.can("inspection.record", world.inst1)


def test_locked_fields_by_role(world):
    assert policy.locked_fields(world.home1, Institution) == {"kind", "township", "operator_unit", "is_key_unit", "order"}
    assert policy.locked_fields(world.town1, Institution) == set()
    assert policy.locked_fields(world.home1, Building) == set()


def test_the_two_directions_of_the_scope_agree(world):
    """For institution-reached rows: ``user`` sees ``obj`` exactly when ``user`` is among ``viewers(obj)``."""
    hazard = report_hazard(world.town1, world.inst1b, category="electrical", description="配电箱")
    building = Building.objects.create(institution=world.inst2, name="一号楼")
    objects = [world.inst1, world.inst1b, world.inst2, hazard, building]
    for obj in objects:
        viewers = set(policy.viewers(obj).values_list("pk", flat=True))
        for user in world.all_users:
            assert policy.sees(user, obj) == (user.pk in viewers), (user.username, obj)
    assert Hazard.viewers_q  # every scoped model answers the reverse question
