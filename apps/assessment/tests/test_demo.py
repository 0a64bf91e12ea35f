from django.core.management import call_command

from apps.assessment.models import (
    AccountabilityAction,
    Assessment,
    FireIncident,
    InstitutionRisk,
    RiskSnapshot,
)


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
