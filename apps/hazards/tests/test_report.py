import pytest
from django.core.exceptions import ValidationError

from apps.hazards.choices import HazardLevel, HazardState
from apps.hazards.models import Hazard
from apps.hazards.services import report_hazard


def test_report_registers_an_open_hazard_with_a_trail(world):
    hazard = report_hazard(world.home1, world.inst1, category="electrical", description="插线板串接",
                           source="self_inspection")
    assert hazard.state == HazardState.REGISTERED and hazard.found_by == world.home1
    assert Hazard.objects.visible_to(world.town1).filter(pk=hazard.pk).exists()
    assert not Hazard.objects.visible_to(world.town2).filter(pk=hazard.pk).exists()


def test_fixed_on_the_spot_is_closed_at_once(world):
    hazard = report_hazard(world.home1, world.inst1, category="evacuation", description="安全出口上锁",
                           fixed_on_spot=True)
    assert hazard.state == HazardState.CLOSED and hazard.closed_at is not None


def test_a_major_hazard_cannot_be_fixed_on_the_spot(world):
    with pytest.raises(ValidationError):
        report_hazard(world.home1, world.inst1, category="building", description="彩钢板",
                      level=HazardLevel.MAJOR, fixed_on_spot=True)
    assert not Hazard.objects.exists()
