"""The demo's hazards read like a bureau's register: determinations whose ticked elements make the
level decided, follow-ups after the listing, a locked exit fixed on the spot rather than listed."""
from django.core.management import call_command
from django.utils import timezone

from apps.hazards import supervision as sup
from apps.hazards.demo import CITY_LISTED, LOCKED_EXIT, MARKER
from apps.hazards.models import Determination, FollowUp, Hazard, HazardSuggestion, Supervision
from apps.ledger.models import Building


def test_the_demo_hazards_are_consistent(db):
    call_command("seed_demo", quiet=True)
    determinations = list(Determination.objects.select_related("hazard__institution", "rule_set")
                          .prefetch_related("elements"))
    assert len(determinations) >= 4
    for det in determinations:
        hazard = det.hazard
        assert det.rule_set in sup.applicable_rule_sets(hazard), (det.rule_set.code, hazard.institution.kind)
        level, _reasons = sup.evaluate(det.rule_set, det.elements.all(), det.crowded_place, det.underground,
                                       hazard.fixed_on_spot)
        assert level == det.suggested_level == det.decided_level == hazard.level == "major", hazard.description
        assert det.rule_set.number in det.basis
    for s in Supervision.objects.select_related("hazard"):
        decided = s.hazard.determinations.get().decided_at
        assert decided <= s.listed_at
        assert s.hazard.determinations.get().decided_level == "major"
    follow_ups = list(FollowUp.objects.select_related("supervision"))
    assert follow_ups
    for f in follow_ups:
        assert timezone.localdate(f.supervision.listed_at) <= f.visited_on <= timezone.localdate()
    locked = Hazard.objects.filter(description=MARKER + LOCKED_EXIT)
    assert locked.exists()
    assert all(h.fixed_on_spot and h.state == "closed" and not h.supervisions.exists() for h in locked)
    assert not Supervision.objects.filter(hazard__description__contains="安全出口上锁").exists()
    # a city-level listing of a 清河区 hazard: seen by the district and its township, not by 临江区; the
    # district may not delist it, the city may (once closed)
    from apps.orgs.models import User

    city_listing = Supervision.objects.select_related("administration").get(
        hazard__description=MARKER + CITY_LISTED, state="listed")
    assert city_listing.level == "city" and city_listing.administration.name == "江州市民政局"
    users = {u.username: u for u in User.objects.filter(username__in=["bureau", "town1", "city", "bureau2"])}
    for name in ("bureau", "town1", "city"):
        assert Supervision.objects.visible_to(users[name]).filter(pk=city_listing.pk).exists(), name
    assert not Supervision.objects.visible_to(users["bureau2"]).filter(pk=city_listing.pk).exists()
    assert not users["bureau"].can("supervision.delist", city_listing)
    assert users["city"].can("supervision.delist", city_listing)
    # the city's campaign reaches every township of both districts; the city sees its progress per district
    from apps.inspections.demo import CITY_CAMPAIGN_NAME
    from apps.inspections.models import Campaign
    from apps.inspections.progress import campaign_progress

    campaign = Campaign.objects.get(name=CITY_CAMPAIGN_NAME)
    assert {t.parent.name for t in campaign.townships.select_related("parent")} == {"清河区民政局", "临江区民政局"}
    rollup = campaign_progress(campaign, users["city"], timezone.localdate())["rollup"]
    assert {g["unit"].name for g in rollup} == {"清河区民政局", "临江区民政局"}
    assert Campaign.objects.visible_to(users["bureau2"]).filter(pk=campaign.pk).exists()
    # the ledger rules ran over the demo ledger: each combustible colour-steel building of a care home is offered
    steel = Building.objects.filter(colour_steel="combustible", institution__kind__in=["elderly_care",
                                                                                       "destitute_support"])
    assert steel.exists()
    suggested = set(HazardSuggestion.objects.filter(rule__code="LR-colour-steel-elderly")
                    .values_list("building_id", flat=True))
    assert set(steel.filter(institution__is_active=True).values_list("pk", flat=True)) <= suggested
