"""The risk model by level (apps/orgs/rules.py): a city's model bands the institutions of both its
districts, a district's own model only its own; a model set by law is not loosened below."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.assessment.models import RiskModel
from apps.assessment.risk import models_for, score_institutions
from apps.core.testing import make_institution, make_tiers

pytestmark = pytest.mark.django_db


def _copy(admin, version, red, orange, yellow, **extra):
    base = RiskModel.objects.get(is_active=True, administration=None)
    model = RiskModel.objects.create(version=version, name=f"{admin.name}模型", is_active=True, administration=admin,
                                     red_from=red, orange_from=orange, yellow_from=yellow, **extra)
    for f in base.factors.all():
        f.pk = None
        f.model = model
        f.save()
    return model


def test_each_institution_is_scored_by_the_model_in_force_for_it():
    t = make_tiers(depth=3)
    ids = [t.d1.inst1.pk, t.d2.inst1.pk]
    default = score_institutions(ids)
    assert {r.model_version for r in default.values()} == {RiskModel.objects.get(administration=None, is_active=True).version}
    _copy(t.city, "city-1", 3, 2, 1)
    d2 = _copy(t.d2.bureau, "d2-1", 0.03, 0.02, 0.01)
    scored = score_institutions(ids)
    assert scored[t.d1.inst1.pk].model_version == "city-1"
    assert scored[t.d2.inst1.pk].model_version == "d2-1"
    # The city sets its bands by law: the district's stricter bands still apply, looser ones not.
    RiskModel.objects.filter(version="city-1").update(overridable=False)
    assert score_institutions(ids)[t.d2.inst1.pk].model_version == "d2-1"
    RiskModel.objects.filter(pk=d2.pk).update(red_from=90)
    assert score_institutions(ids)[t.d2.inst1.pk].model_version == "city-1"


def test_scoring_by_level_takes_a_constant_number_of_queries():
    t = make_tiers(depth=3)
    _copy(t.city, "city-1", 3, 2, 1)
    _copy(t.d2.bureau, "d2-1", 0.03, 0.02, 0.01)
    few = [t.d1.inst1.pk, t.d2.inst1.pk]
    with CaptureQueriesContext(connection) as small:
        score_institutions(few)
    many = few + [make_institution(w.t1, f"批量院{i}{w.bureau.pk}").pk for w in (t.d1, t.d2) for i in range(10)]
    with CaptureQueriesContext(connection) as large:
        score_institutions(many)
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(models_for(many)) == 2
