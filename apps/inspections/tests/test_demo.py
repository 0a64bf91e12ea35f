import datetime
import random

from django.utils import timezone

from apps.inspections import demo
from apps.inspections.compliance import missed_patrols
from apps.inspections.models import Campaign, DutyShift, Inspection, PatrolRound, SecurityPeriod
from apps.inspections.progress import campaign_progress


def _ctx(w):
    return {"rng": random.Random(7), "today": timezone.localdate(), "now": timezone.now(), "bureau": w.bureau,
            "townships": [w.t1, w.t2], "institutions": [w.inst1, w.inst1b, w.inst2], "home1_institution": w.inst1,
            "home2_institution": w.inst2,
            "users": {"admin": w.admin, "bureau": w.admin, "town1": w.town1, "town2": w.town2, "home1": w.home1,
                      "home2": w.home2}}


def _counts():
    return [m.objects.count() for m in (PatrolRound, Inspection, Campaign, SecurityPeriod, DutyShift)]


def test_demo_data_is_idempotent_and_shows_a_missed_night_and_a_partly_done_campaign(world):
    demo.seed(_ctx(world))
    first = _counts()
    demo.seed(_ctx(world))
    assert _counts() == first
    today = timezone.localdate()
    misses = missed_patrols([world.inst1], today - datetime.timedelta(days=7), today)[world.inst1.pk]
    assert [m.kind for m in misses] == ["night"]
    campaign = Campaign.objects.get()
    totals = campaign_progress(campaign, world.admin, today)["totals"]
    assert 0 < totals["inspected"] <= totals["institutions"]
    period = SecurityPeriod.objects.get()
    assert period.shifts.exists() and period.slots.exists()
