"""The register, the three lists, filters, exports, scope in lists and constant query counts."""
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.testing import api_client, page_client
from apps.hazards import services
from apps.hazards.models import Hazard

from .helpers import general, in_days, listed, major, planned, rectified


def _many(world, n):
    for i in range(n):
        inst = [world.inst1, world.inst1b, world.inst2][i % 3]
        hazard = services.report_hazard(world.admin, inst, category="electrical", description=f"批量隐患{i}",
                                        level="major" if i % 4 == 0 else "general")
        if i % 2:
            planned(world, hazard, user=world.admin)
        if i % 4 == 0:
            listed(world, hazard) if inst != world.inst2 else None


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


LIST_URLS = ["/hazards/", "/hazards/?open=1", "/hazards/lists/open/", "/hazards/lists/closed/",
             "/hazards/lists/responsibility/", "/hazards/supervisions/", "/hazards/documents/",
             "/hazards/?export=xlsx", "/hazards/lists/responsibility/?export=xlsx"]
API_URLS = ["/api/v1/hazards/", "/api/v1/hazards/lists/open/", "/api/v1/hazards/lists/responsibility/",
            "/api/v1/supervisions/", "/api/v1/official-documents/"]


@pytest.mark.parametrize("url", LIST_URLS + API_URLS)
def test_list_query_counts_are_constant_in_rows(world, url):
    client = api_client(world.leader) if url.startswith("/api/") else page_client(world.leader)
    _many(world, 3)
    few = _queries(client, url)
    _many(world, 30)
    assert _queries(client, url) == few


def test_each_role_sees_exactly_its_scope(world):
    h1, h1b, h2 = general(world), general(world, institution=world.inst1b), general(world, institution=world.inst2)
    expected = {world.leader: {h1, h1b, h2}, world.sec_elderly_user: {h1, h2}, world.sec_social_user: {h1b},
                world.town1: {h1, h1b}, world.town2: {h2}, world.home1: {h1}, world.home2: {h2}}
    for user, hazards in expected.items():
        ids = {r["id"] for r in api_client(user).get("/api/v1/hazards/").json()["results"]}
        assert ids == {h.pk for h in hazards}, user.username
        body = page_client(user).get("/hazards/").content.decode()
        rows = {h.pk for h in (h1, h1b, h2) if f'data-id="{h.pk}"' in body}
        assert rows == {h.pk for h in hazards}, user.username


def test_the_register_filters_by_every_named_parameter(world):
    a = general(world, source="patrol", category="gas")
    b = major(world, institution=world.inst2)
    c = general(world, institution=world.inst1b, fixed_on_spot=True)
    planned(world, a, deadline=in_days(1))
    Hazard.objects.filter(pk=a.pk).update(deadline=in_days(-2), found_at=timezone.now() - datetime.timedelta(days=10))
    client = api_client(world.leader)

    def ids(**params):
        return {r["id"] for r in client.get("/api/v1/hazards/", params).json()["results"]}

    assert ids(township=world.t2.pk) == {b.pk}
    assert ids(institution=world.inst1b.pk) == {c.pk}
    assert ids(kind="child_welfare") == {c.pk}
    assert ids(level="major") == {b.pk}
    assert ids(category="gas") == {a.pk}
    assert ids(state="closed") == {c.pk}
    assert ids(open=1) == {a.pk, b.pk}
    assert ids(overdue=1) == {a.pk}
    assert ids(source="patrol") == {a.pk}
    assert ids(found_before=in_days(-5).isoformat()) == {a.pk}
    assert ids(found_after=in_days(-1).isoformat()) == {b.pk, c.pk}
    body = page_client(world.leader).get("/hazards/", {"overdue": 1}).content.decode()
    assert f'data-id="{a.pk}"' in body and f'data-id="{b.pk}"' not in body


def test_the_three_lists_hold_what_they_say(world):
    open_one = major(world)
    s = listed(world, open_one)
    closed = general(world, fixed_on_spot=True)
    client = page_client(world.town1)
    body = client.get("/hazards/lists/open/").content.decode()
    assert f'data-id="{open_one.pk}"' in body and f'data-id="{closed.pk}"' not in body
    body = client.get("/hazards/lists/closed/").content.decode()
    assert f'data-id="{closed.pk}"' in body and f'data-id="{open_one.pk}"' not in body
    body = client.get("/hazards/lists/responsibility/").content.decode()
    assert s.number in body and f'data-id="{closed.pk}"' not in body
    rows = api_client(world.town1).get("/api/v1/hazards/lists/responsibility/").json()["results"]
    assert rows[0]["supervision_number"] == s.number and rows[0]["supervising_department"] == world.t1.name


def test_the_lists_export_to_excel_with_the_same_filters(world):
    major(world)
    general(world, institution=world.inst2, description="二号院隐患")
    response = page_client(world.leader).get("/hazards/lists/open/", {"township": world.t2.pk, "export": "xlsx"})
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [row for row in ws.iter_rows(min_row=2, values_only=True)]
    assert len(values) == 1 and "二号院隐患" in values[0]
    response = page_client(world.leader).get("/hazards/lists/responsibility/", {"export": "xlsx"})
    header = [c.value for c in load_workbook(io.BytesIO(b"".join(response.streaming_content))).active[1]]
    assert "督办部门" in header and "责任人" in header


def test_the_institution_page_shows_counts_linking_to_the_filtered_list(world):
    h = general(world)
    planned(world, h)
    Hazard.objects.filter(pk=h.pk).update(deadline=in_days(-1))
    body = page_client(world.home1).get(f"/ledger/{world.inst1.pk}/").content.decode()
    assert f"/hazards/?institution={world.inst1.pk}&overdue=1" in body
    assert 'id="institution-hazards"' in body and h.description in body


def test_the_sidebar_offers_the_hazard_pages(world):
    body = page_client(world.town1).get("/hazards/").content.decode()
    for url in ("/hazards/lists/open/", "/hazards/supervisions/", "/hazards/documents/"):
        assert url in body
    # An institution's menu keeps to its own work (the menu asks the policy: menu.hazard_oversight).
    body = page_client(world.home1).get("/hazards/").content.decode()
    assert "/hazards/documents/" in body and "/hazards/supervisions/" not in body


def test_report_form_rejects_bad_input_with_chinese_messages(world):
    response = page_client(world.home1).post("/hazards/new/", {"institution": world.inst1.pk, "category": "gas",
                                                               "description": "x", "level": "general",
                                                               "source": "other", "fixed_on_spot": "on"})
    assert response.status_code == 400 and "当场整改的隐患需上传整改后照片" in response.content.decode()
    assert not Hazard.objects.exists()
    response = page_client(world.home1).post("/hazards/new/", {"institution": world.inst2.pk, "category": "gas",
                                                               "description": "x", "level": "general",
                                                               "source": "other"})
    assert response.status_code == 400 and not Hazard.objects.exists()


def test_rectified_helper_leaves_the_hazard_awaiting_verification(world):
    assert rectified(world, general(world)).state == "awaiting_verification"


def test_the_responsibility_list_keeps_a_closed_hazard_until_it_is_delisted(world):
    s = listed(world)
    rectified(world, s.hazard)
    services.verify(world.town1, s.hazard)
    client = page_client(world.town1)
    assert f'data-id="{s.hazard.pk}"' in client.get("/hazards/lists/responsibility/").content.decode()
    assert f'data-id="{s.hazard.pk}"' not in client.get("/hazards/lists/open/").content.decode()
    from apps.hazards.supervision import delist

    delist(world.town1, s, note="整改到位")
    assert f'data-id="{s.hazard.pk}"' not in client.get("/hazards/lists/responsibility/").content.decode()
    rows = api_client(world.town1).get("/api/v1/hazards/lists/responsibility/").json()["results"]
    assert rows == []


def test_a_district_wide_user_gets_an_id_box_instead_of_a_huge_institution_select(world, settings):
    from apps.core import filters

    general(world)
    body = page_client(world.leader).get("/hazards/").content.decode()
    assert '<select name="institution"' in body
    filters.SELECT_LIMIT, old = 2, filters.SELECT_LIMIT
    try:
        body = page_client(world.leader).get("/hazards/").content.decode()
        assert '<select name="institution"' not in body and 'type="number" name="institution"' in body
    finally:
        filters.SELECT_LIMIT = old


def test_metrics_give_every_institution_an_entry_in_two_queries(world, django_assert_num_queries):
    from apps.hazards.metrics import institution_hazard_stats

    h = major(world)
    listed(world, h)
    general(world, fixed_on_spot=True)
    Hazard.objects.filter(pk=h.pk).update(deadline=in_days(-1))
    ids = [world.inst1.pk, world.inst1b.pk, world.inst2.pk]
    with django_assert_num_queries(2):
        stats = institution_hazard_stats(ids, timezone.localdate())
    assert stats[world.inst1.pk] == {"open": 1, "overdue": 1, "major_open": 1, "closed_30d": 1,
                                     "reopened_open": 0, "listed": 1}
    assert stats[world.inst2.pk]["open"] == 0 and set(stats) == set(ids)
