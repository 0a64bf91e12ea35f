"""Where an institution sits (township, operator unit, kind) decides who sees it, so placing one is
checked once, in the ledger service (``check_placement``), for the page and the API alike: a user
places an institution only within their own reach. Before, the API checked the township against the
user's reach (nothing for a district administrator) and not the unit at all, while the page offered
every unit of every district: a second district could hand its home to the first district's unit."""
import pytest

from apps.core.testing import api_client, make_tiers, page_client
from apps.ledger.models import Institution
from apps.ledger.tests.test_ledger import _form_data

PLACEMENT = ("township_id", "operator_unit_id", "kind")


def _placement(inst):
    return Institution.objects.filter(pk=inst.pk).values(*PLACEMENT).get()


def _attempt(user, inst, **change):
    """The same change through the page and the API (the row restored in between); returns
    ``(page saved, page response, api response, api saved)``."""
    original = _placement(inst)
    values = {k: getattr(v, "pk", v) for k, v in change.items()}
    page = page_client(user).post(f"/ledger/{inst.pk}/edit/", _form_data(inst, **values))
    page_saved = _placement(inst) != original
    Institution.objects.filter(pk=inst.pk).update(**original)
    api = api_client(user).patch(f"/api/v1/institutions/{inst.pk}/", values, format="json")
    api_saved = _placement(inst) != original
    Institution.objects.filter(pk=inst.pk).update(**original)
    return page_saved, page, api, api_saved


@pytest.fixture
def tiers(db):
    return make_tiers(depth=2)


def test_a_district_cannot_hand_its_home_to_the_other_districts_unit(tiers):
    d1, d2 = tiers.d1, tiers.d2
    page_saved, page, api, api_saved = _attempt(d2.admin, d2.inst1, operator_unit=d1.unit)
    assert not page_saved and page.status_code == 200, page.status_code
    assert not api_saved and api.status_code == 400 and "operator_unit" in api.json(), api.content[:300]
    assert f'<option value="{d1.unit.pk}"' not in page.content.decode()  # not even offered
    assert f'<option value="{d2.unit.pk}"' in page.content.decode()


def test_a_district_cannot_move_its_home_into_the_other_districts_township(tiers):
    d1, d2 = tiers.d1, tiers.d2
    page_saved, page, api, api_saved = _attempt(d2.admin, d2.inst1, township=d1.t1)
    assert not page_saved and page.status_code == 200
    assert not api_saved and api.status_code == 400 and "township" in api.json(), api.content[:300]


def test_a_township_cannot_move_a_home_out_of_its_township(tiers):
    d1 = tiers.d1
    page_saved, page, api, api_saved = _attempt(d1.town1, d1.inst1, township=d1.t2)
    assert not page_saved and not api_saved and api.status_code == 400


def test_a_section_cannot_reclassify_a_home_out_of_its_line(tiers):
    d1 = tiers.d1
    page_saved, page, api, api_saved = _attempt(d1.sec_elderly_user, d1.inst1, kind="child_welfare")
    assert not page_saved and not api_saved and api.status_code == 400 and "kind" in api.json()


@pytest.mark.parametrize("change", ["township", "operator_unit"])
def test_within_its_own_area_the_district_places_freely_in_both(tiers, change):
    d1 = tiers.d1
    value = {"township": d1.t2, "operator_unit": d1.unit}[change]
    page_saved, page, api, api_saved = _attempt(d1.admin, d1.inst1, **{change: value})
    assert page_saved and page.status_code == 302, page.content.decode()[:400]
    assert api_saved and api.status_code == 200, api.content[:300]


def test_the_service_refuses_a_placement_whoever_calls_it(tiers):
    from django.core.exceptions import ValidationError

    from apps.ledger.services import save_institution

    inst = Institution.objects.get(pk=tiers.d2.inst1.pk)
    inst.operator_unit = tiers.d1.unit
    with pytest.raises(ValidationError) as exc:
        save_institution(inst, tiers.d2.admin)
    assert "operator_unit" in exc.value.message_dict
    assert Institution.objects.get(pk=inst.pk).operator_unit_id is None
