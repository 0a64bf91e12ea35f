"""Number formats and hazard rule sets by level (apps/orgs/rules.py): a format of an administration
numbers what its offices issue; a local rule set (a city's supplementary standard) applies under the
city only, in addition to the national sets, and is hidden from other cities' people."""
import datetime

import pytest

from apps.core.testing import api_client, make_tiers, page_client
from apps.hazards.models import NumberFormat, RuleSet
from apps.hazards.supervision import next_number
from apps.orgs.models import Organization

pytestmark = pytest.mark.django_db


def test_the_number_format_of_the_nearest_administration_applies():
    t = make_tiers(depth=3)
    default = NumberFormat.objects.get(series="supervision_order", administration=None)
    NumberFormat.objects.create(series="supervision_order", pattern="江督〔{year}〕{n}号", administration=t.city)
    NumberFormat.objects.create(series="supervision_order", pattern="临督〔{year}〕第{n}号", administration=t.d2.bureau)
    assert NumberFormat.for_issuer("supervision_order", t.d1.t1).pattern == "江督〔{year}〕{n}号"
    assert NumberFormat.for_issuer("supervision_order", t.d2.bureau).pattern == "临督〔{year}〕第{n}号"
    assert NumberFormat.for_issuer("supervision_order", None) == default
    number, year, _n = next_number("supervision_order", issuer=t.d2.t1, year=2027)
    assert number == "临督〔2027〕第1号"
    assert next_number("supervision_order", issuer=t.d1.bureau, year=2027)[0] == "江督〔2027〕1号"


def _local_set(admin, code):
    national = RuleSet.objects.filter(administration=None, is_active=True, effective_from__isnull=False).first()
    return RuleSet.objects.create(code=code, name=f"{admin.name}重大隐患判定补充标准", version="2026",
                                  effective_from=datetime.date(2020, 1, 1), administration=admin,
                                  hazard_term=national.hazard_term)


def test_a_local_rule_set_applies_under_its_administration_in_addition_to_the_national_ones():
    t = make_tiers(depth=3)
    today = datetime.date.today()
    city_set = _local_set(t.city, "JZ-LOCAL")
    d1_set = _local_set(t.d1.bureau, "D1-LOCAL")
    national = set(RuleSet.objects.applicable("elderly_care", today, path="").values_list("code", flat=True))
    assert national and "JZ-LOCAL" not in national
    under_d1 = set(RuleSet.objects.applicable("elderly_care", today, path=t.d1.t1.path).values_list("code", flat=True))
    under_d2 = set(RuleSet.objects.applicable("elderly_care", today, path=t.d2.t1.path).values_list("code", flat=True))
    assert under_d1 == national | {"JZ-LOCAL", "D1-LOCAL"}
    assert under_d2 == national | {"JZ-LOCAL"}
    # The second district's leader sees the city's set with its source, not the first district's.
    api = api_client(t.d2.leader)
    rows = {r["code"]: r for r in api.get("/api/v1/hazard-rule-sets/?page_size=100").json()["results"]}
    assert rows["JZ-LOCAL"]["administration_name"] == t.city.name and "D1-LOCAL" not in rows
    assert api.get(f"/api/v1/hazard-rule-sets/{d1_set.pk}/").status_code == 404
    assert api.get(f"/api/v1/hazard-rule-sets/{city_set.pk}/").status_code == 200
    page = page_client(t.d2.leader).get("/hazards/rule-sets/").content.decode()
    assert t.city.name in page and "D1-LOCAL" not in page and d1_set.name not in page
    assert Organization.objects.filter(pk=t.city.pk).exists()
