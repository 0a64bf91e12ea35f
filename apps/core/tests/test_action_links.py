"""A page offers only the actions its user may take: a link the view would refuse (403) is not shown.

Found by clicking through the demo as the bureau leader (read-mostly), who was offered "new
checkpoint", "new inspection", "record a drill", "new staff member" and "new assessment" links that
all answered 403. Each case: the leader does not see the link, and a user who sees it can open it.
"""
import datetime
import html

import pytest

from apps.core.audit import acting_as
from apps.core.testing import page_client
from apps.hazards.services import report_hazard
from apps.inspections.models import Campaign

pytestmark = pytest.mark.django_db


def _campaign(world):
    with acting_as(world.admin):
        campaign = Campaign.objects.create(name="冬季消防安全专项行动", owner_org=world.bureau,
                                           institution_kinds=["elderly_care"], starts_on=datetime.date(2026, 11, 1),
                                           ends_on=datetime.date(2027, 2, 28))
        campaign.townships.set([world.t1])
    return campaign


def _cases(world):
    major = report_hazard(world.town1, world.inst1, category="building", description="彩钢板", level="major")
    campaign = _campaign(world)
    return [
        ("/inspections/checkpoints/", "/inspections/checkpoints/new/", world.town1),
        (f"/inspections/campaigns/{campaign.pk}/", f"/inspections/new/?campaign={campaign.pk}", world.admin),
        (major.get_absolute_url(), f"/training/drills/new/?institution={world.inst1.pk}&hazard={major.pk}",
         world.town1),
        (f"/training/compliance/institution/{world.inst1.pk}/", f"/training/staff/new/?institution={world.inst1.pk}",
         world.town1),
        (f"/assessment/risk/{world.inst1.pk}/", f"/assessment/assessments/new/?institution={world.inst1.pk}",
         world.town1),
    ]


@pytest.mark.parametrize("case", range(5), ids=["checkpoint", "campaign-inspection", "hazard-drill",
                                                  "compliance-staff", "risk-assessment"])
def test_the_leader_is_not_offered_actions_the_views_refuse(world, case):
    page, link, allowed_user = _cases(world)[case]
    leader = page_client(world.leader)
    response = leader.get(page)
    assert response.status_code == 200
    assert f'href="{link}"' not in html.unescape(response.content.decode())
    assert leader.get(link).status_code == 403
    allowed = page_client(allowed_user)
    assert f'href="{link}"' in html.unescape(allowed.get(page).content.decode())
    assert allowed.get(link).status_code == 200
