"""Patrol and inspection frequencies by level (apps/orgs/rules.py): a city's rule applies to the
institutions of both its districts, a district's override only to its own, and missed patrols are
counted against the rule in force at each institution, in the same number of queries."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.testing import make_tiers
from apps.inspections.compliance import missed_patrols, rules_for_institutions
from apps.inspections.models import FrequencyRule, PatrolRound
from apps.ledger.models import Institution

pytestmark = pytest.mark.django_db


def _rule(admin, daily, **extra):
    return FrequencyRule.objects.create(institution_kind=extra.pop("kind", ""), daily_patrols=daily,
                                        administration=admin, version=extra.pop("version", 1), **extra)


def _one_round_a_day(inst, days):
    for d in days:
        PatrolRound.objects.create(institution=inst, started_at=timezone.make_aware(
            datetime.datetime.combine(d, datetime.time(10))))


def test_missed_patrol_counts_follow_the_rule_in_force_at_each_institution():
    t = make_tiers(depth=3)
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in range(1, 4)]
    insts = [t.d1.inst1, t.d2.inst1]
    for inst in insts:
        Institution.objects.filter(pk=inst.pk).update(created=timezone.now() - datetime.timedelta(days=30))
        _one_round_a_day(inst, days)
    institutions = list(Institution.objects.filter(pk__in=[i.pk for i in insts]))

    def day_misses():
        found = missed_patrols(institutions, days[-1], days[0])
        return {i.pk: len([m for m in found[i.pk] if m.kind == "day"]) for i in insts}

    with CaptureQueriesContext(connection) as plain:
        assert day_misses() == {t.d1.inst1.pk: 0, t.d2.inst1.pk: 0}
    city = _rule(t.city, 2)
    assert day_misses() == {t.d1.inst1.pk: 3, t.d2.inst1.pk: 3}  # the city's rule: both districts
    _rule(t.d2.bureau, 1)
    assert day_misses() == {t.d1.inst1.pk: 3, t.d2.inst1.pk: 0}  # the second district's own rule
    rules = rules_for_institutions(institutions)
    assert rules[t.d1.inst1.pk] == city and rules[t.d2.inst1.pk].administration_id == t.d2.bureau.pk
    # The city marks its rule as set by law: the district's looser one no longer applies.
    FrequencyRule.objects.filter(pk=city.pk).update(overridable=False)
    assert day_misses() == {t.d1.inst1.pk: 3, t.d2.inst1.pk: 3}
    # Such an override is refused when saved through the model's validation (the admin, services).
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        FrequencyRule(institution_kind="", daily_patrols=1, administration=t.d1.bureau, version=2).full_clean()
    assert t.city.name in " ".join(refused.value.messages)
    FrequencyRule(institution_kind="", daily_patrols=3, administration=t.d1.bureau, version=2).full_clean()
    # Rules by level cost one query more for any number of institutions (their townships' paths).
    with CaptureQueriesContext(connection) as leveled:
        day_misses()
    assert len(leveled) == len(plain) + 1
