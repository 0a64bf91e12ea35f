from django.core.management import call_command

from apps.assessment.models import (
    AccountabilityAction,
    Assessment,
    FireIncident,
    InstitutionRisk,
    RiskSnapshot,
)
from apps.assessment.risk import refresh_risk


def _counts():
    return [m.objects.count() for m in (FireIncident, AccountabilityAction, Assessment, RiskSnapshot, InstitutionRisk)]


def test_the_demo_seeds_fires_assessments_and_history_once(db):
    call_command("seed_demo", quiet=True)
    first = _counts()
    assert first[0] >= 3 and first[1] >= 3 and first[2] >= 2
    assert Assessment.objects.filter(state="signed").exists()
    assert RiskSnapshot.objects.values("day").distinct().count() >= 6  # months of history and today
    call_command("seed_demo", quiet=True)
    assert _counts() == first
    _the_demo_district_shows_all_four_colours_for_plausible_reasons()


def _the_demo_district_shows_all_four_colours_for_plausible_reasons():
    from apps.hazards.choices import OPEN_STATES, HazardLevel
    from apps.hazards.models import Hazard
    from apps.ledger.models import Institution

    results = refresh_risk(list(Institution.objects.values_list("pk", flat=True)))
    levels = {r.level for r in results.values()}
    assert levels == {"red", "orange", "yellow", "blue"}
    with_open_major = set(Hazard.objects.filter(level=HazardLevel.MAJOR, state__in=OPEN_STATES)
                          .values_list("institution_id", flat=True))
    red = {iid for iid, r in results.items() if r.level == "red"}
    assert red and red == with_open_major  # red exactly where a major hazard is open, named as the reason
    assert all([f.key for f in results[iid].lifted_by] == ["open_major"] for iid in red if results[iid].band != "red")
    kinds = dict(Institution.objects.values_list("pk", "kind"))
    for iid, r in results.items():
        if kinds[iid] == "funeral":
            night = next(f for f in r.factors if f.key == "night_staff")
            assert not night.applicable and night.contribution == 0
