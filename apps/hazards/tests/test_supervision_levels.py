"""Supervision and documents by level (issue 19): a city lists a major hazard of one of its districts;
the district, the township and the institution see it with its level; another district gets 404; only
the city (or above) delists it or decides its extensions; numbers run per administration."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import api_client, make_tiers, page_client
from apps.hazards import documents as docs
from apps.hazards import services
from apps.hazards import supervision as sup
from apps.hazards.choices import SupervisionLevel, SupervisionState
from apps.hazards.models import OfficialDocument, Supervision

from .helpers import in_days, major, rectified

PLAN = dict(deadline=in_days(30), responsible_person="王院长", measures="增设安全出口", responsibility="院长负责",
            emergency_plan="夜间增加巡查")


@pytest.fixture
def tiers(db):
    return make_tiers(depth=3)


def city_listed(t, hazard=None):
    hazard = hazard or major(t.d1)
    return sup.list_supervision(t.city_leader, hazard, supervising_department=t.city, **PLAN)


def test_a_city_listing_carries_the_city_and_its_level(tiers):
    s = city_listed(tiers)
    assert s.administration == tiers.city and s.level == SupervisionLevel.CITY
    assert str(s.get_level_display()) == "市级"
    district = sup.list_supervision(tiers.d1.town1, major(tiers.d1), supervising_department=tiers.d1.t1, **PLAN)
    assert district.administration == tiers.d1.bureau and district.level == SupervisionLevel.DISTRICT
    province = sup.list_supervision(tiers.top_leader, major(tiers.d1), supervising_department=tiers.top, **PLAN)
    assert province.level == SupervisionLevel.PROVINCE


def test_the_district_township_and_institution_see_a_city_listing_the_other_district_gets_404(tiers):
    s = city_listed(tiers)
    d1, d2 = tiers.d1, tiers.d2
    for user in (d1.leader, d1.town1, d1.home1, tiers.city_leader):
        page = page_client(user).get("/hazards/supervisions/").content.decode()
        assert f'data-id="{s.pk}"' in page and "市级" in page, user
        detail = page_client(user).get(s.get_absolute_url())
        assert detail.status_code == 200 and 'data-level="city"' in detail.content.decode()
        assert tiers.city.name in page_client(user).get(s.hazard.get_absolute_url()).content.decode()
        rows = api_client(user).get("/api/v1/supervisions/").json()["results"]
        row = next(r for r in rows if r["id"] == s.pk)
        assert row["level"] == "city" and row["level_display"] == "市级" and row["administration"] == tiers.city.pk
    for user in (d2.leader, d2.town1, d2.home1):
        assert page_client(user).get(s.get_absolute_url()).status_code == 404
        assert api_client(user).get(f"/api/v1/supervisions/{s.pk}/").status_code == 404
        assert api_client(user).post(f"/api/v1/supervisions/{s.pk}/delist/", {"note": "x"},
                                     format="json").status_code == 404


def test_the_district_cannot_delist_a_city_listing_the_city_can(tiers):
    d1 = tiers.d1
    s = city_listed(tiers)
    rectified(d1, s.hazard)
    services.verify(d1.town1, s.hazard)
    for user in (d1.leader, d1.town1, d1.sec_elderly_user):
        assert not user.can("supervision.delist", s)
        api = api_client(user).post(f"/api/v1/supervisions/{s.pk}/delist/", {"note": "摘牌"}, format="json")
        assert api.status_code == 403 and tiers.city.name in api.json()["detail"], api.content
        assert page_client(user).get(f"/hazards/supervisions/{s.pk}/delist/").status_code == 403
        assert page_client(user).post(f"/hazards/supervisions/{s.pk}/delist/", {"note": "摘牌"}).status_code == 403
        detail = page_client(user).get(s.get_absolute_url()).content.decode()
        assert 'id="action-delist"' not in detail and 'id="level-refusal"' in detail
        with pytest.raises(Exception) as refused:
            sup.delist(user, s, note="摘牌")
        assert tiers.city.name in str(refused.value)
    s.refresh_from_db()
    assert s.is_listed
    assert 'id="action-delist"' in page_client(tiers.city_leader).get(s.get_absolute_url()).content.decode()
    r = api_client(tiers.city_leader).post(f"/api/v1/supervisions/{s.pk}/delist/", {"note": "整改到位"}, format="json")
    assert r.status_code == 200, r.content
    s.refresh_from_db()
    assert s.state == SupervisionState.DELISTED


def test_the_province_may_delist_what_the_city_listed(tiers):
    d1 = tiers.d1
    s = city_listed(tiers)
    rectified(d1, s.hazard)
    services.verify(d1.town1, s.hazard)
    assert tiers.top_leader.can("supervision.delist", s)
    sup.delist(tiers.top_leader, s, note="省厅核查后摘牌")
    s.refresh_from_db()
    assert s.state == SupervisionState.DELISTED


def test_only_the_city_decides_an_extension_of_its_listing(tiers):
    d1 = tiers.d1
    s = city_listed(tiers)
    ext = sup.request_extension(d1.home1, s, new_deadline=in_days(60), reason="材料到货慢")
    body = {"approve": "1", "reason": "同意"}
    assert api_client(d1.leader).post(f"/api/v1/supervision-extensions/{ext.pk}/decide/", body,
                                      format="json").status_code == 403
    assert page_client(d1.town1).post(f"/hazards/extensions/{ext.pk}/decide/", body).status_code == 403
    assert api_client(tiers.city_leader).post(f"/api/v1/supervision-extensions/{ext.pk}/decide/", body,
                                              format="json").status_code == 200
    s.refresh_from_db()
    assert s.deadline == in_days(60)


def test_one_open_listing_per_hazard_whatever_the_level(tiers):
    s = city_listed(tiers)
    with pytest.raises(services.TransitionRefused) as refused:
        sup.list_supervision(tiers.d1.town1, s.hazard, supervising_department=tiers.d1.t1, **PLAN)
    assert "市级" in str(refused.value)


def test_numbers_run_per_administration(tiers):
    d1, d2 = tiers.d1, tiers.d2
    city_first = city_listed(tiers)
    district_first = sup.list_supervision(d1.town1, major(d1), supervising_department=d1.t1, **PLAN)
    other_district = sup.list_supervision(d2.town1, major(d2), supervising_department=d2.t1, **PLAN)
    city_second = city_listed(tiers, major(d2))
    assert (city_first.seq, district_first.seq, other_district.seq, city_second.seq) == (1, 1, 1, 2)
    assert city_first.number == district_first.number  # same pattern, different series: both exist
    assert Supervision.objects.filter(number=city_first.number).count() == 3


def test_documents_are_numbered_and_unique_per_issuer(tiers):
    d1 = tiers.d1
    a = docs.issue_document(d1.town1, kind="suggestion_letter", institution=d1.inst1, requirements="整改")
    b = docs.issue_document(tiers.city_section_user, kind="suggestion_letter", institution=d1.inst1,
                            requirements="整改")
    assert a.seq == b.seq == 1 and a.issuer != b.issuer
    assert OfficialDocument.objects.filter(kind="suggestion_letter", number=a.number).count() == (
        2 if a.number == b.number else 1)
    page = page_client(d1.home1).get(b.get_absolute_url()).content.decode()
    assert tiers.city.name in page


def test_filter_by_level_and_query_counts(tiers):
    d1 = tiers.d1
    city = city_listed(tiers)
    district = sup.list_supervision(d1.town1, major(d1), supervising_department=d1.t1, **PLAN)
    client = api_client(d1.leader)
    ids = [r["id"] for r in client.get("/api/v1/supervisions/?level=city").json()["results"]]
    assert ids == [city.pk]
    ids = [r["id"] for r in client.get("/api/v1/supervisions/?level=bureau").json()["results"]]
    assert ids == [district.pk]
    page = page_client(d1.leader).get("/hazards/supervisions/?level=city").content.decode()
    assert f'data-id="{city.pk}"' in page and f'data-id="{district.pk}"' not in page

    def count(url, api):
        c = api_client(d1.leader) if api else page_client(d1.leader)
        c.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx)

    before = (count("/hazards/supervisions/", False), count("/api/v1/supervisions/", True))
    for _i in range(3):
        city_listed(tiers, major(d1))
        sup.list_supervision(d1.town1, major(d1), supervising_department=d1.t1, **PLAN)
    assert (count("/hazards/supervisions/", False), count("/api/v1/supervisions/", True)) == before


def test_the_to_do_counts_an_extension_only_where_it_is_decided(tiers):
    from django.utils import timezone

    from apps.dashboard.todo import hazard_items

    d1 = tiers.d1
    s = city_listed(tiers)
    sup.request_extension(d1.home1, s, new_deadline=in_days(60), reason="材料到货慢")

    def extensions(user):
        item = next((i for i in hazard_items(user, timezone.localdate()).items if i.key == "extensions"), None)
        return item.count if item else None

    assert extensions(tiers.city_leader) == 1 and extensions(d1.leader) == 0 and extensions(d1.town1) == 0
    page = page_client(tiers.city_leader).get("/hazards/supervisions/?extension_pending=1&decided_here=1")
    assert f'data-id="{s.pk}"' in page.content.decode()
    page = page_client(d1.leader).get("/hazards/supervisions/?extension_pending=1&decided_here=1")
    assert f'data-id="{s.pk}"' not in page.content.decode()


def _docx_text(document):
    """Every paragraph of a stored .docx, the body's and the tables' cells', in order."""
    import io

    from docx import Document

    with document.file.open("rb") as f:
        doc = Document(io.BytesIO(f.read()))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                lines += [p.text for p in cell.paragraphs]
    return lines


def test_documents_are_issued_in_the_name_of_the_administration(tiers):
    """The masthead, signature and seal name the issuing administration (发文机关), the receipt also the
    office that drafted it: a city-level listing's order is the city bureau's, a township's letter its
    district bureau's."""
    d1 = tiers.d1
    s = city_listed(tiers)
    order = docs.issue_document(d1.town1, kind="supervision_order", institution=d1.inst1, requirements="立即整改",
                                supervision=s, hazards=[s.hazard])
    assert docs.issuing_administration(order) == tiers.city
    lines = _docx_text(order)
    assert lines[0] == tiers.city.name  # 发文机关标志
    assert f"{tiers.city.name}（盖章）" in lines
    assert f"{tiers.city.name}（{d1.t1.name}）" in lines  # 送达单位 in the receipt
    page = page_client(d1.leader).get(order.get_absolute_url()).content.decode()
    assert f'id="issuing-administration">{tiers.city.name}<' in page
    letter = docs.issue_document(d1.town1, kind="suggestion_letter", institution=d1.inst1, requirements="整改")
    assert docs.issuing_administration(letter) == d1.bureau
    lines = _docx_text(letter)
    assert lines[0] == d1.bureau.name and d1.bureau.name in lines  # masthead and signature
    assert tiers.city.name not in "\n".join(lines)
    assert f"{d1.bureau.name}（{d1.t1.name}）" in lines
    # The city's own section issues in the city's name.
    city_letter = docs.issue_document(tiers.city_section_user, kind="rectification_notice", institution=d1.inst1,
                                      requirements="整改")
    lines = _docx_text(city_letter)
    assert lines[0] == tiers.city.name and d1.bureau.name not in "\n".join(lines)


def test_documents_are_numbered_in_the_series_of_the_administration_they_are_issued_in(tiers):
    """Two offices of one district bureau draw from the bureau's one series; an order for a city-level
    listing, drafted by the township, takes the city's series and name; an office's old number under a
    pattern without {issuer} is skipped, not a failure."""
    from apps.hazards.models import NumberFormat

    d1 = tiers.d1
    first = docs.issue_document(d1.town1, kind="suggestion_letter", institution=d1.inst1, requirements="整改")
    second = docs.issue_document(d1.town2, kind="suggestion_letter", institution=d1.inst2, requirements="整改")
    assert (first.seq, second.seq) == (1, 2) and first.issuer != second.issuer
    short = d1.bureau.short_name or d1.bureau.name
    assert first.number.startswith(short) and second.number.startswith(short)
    s = city_listed(tiers)
    order = docs.issue_document(d1.town1, kind="supervision_order", institution=d1.inst1, requirements="立即整改",
                                supervision=s, hazards=[s.hazard])
    assert order.seq == 1 and order.number.startswith(tiers.city.short_name or tiers.city.name)
    NumberFormat.objects.filter(series="suggestion_letter").update(pattern="建〔{year}〕{n}号")
    OfficialDocument.objects.filter(pk=first.pk).update(number=f"建〔{first.year}〕3号")  # held from before
    third = docs.issue_document(d1.town1, kind="suggestion_letter", institution=d1.inst1, requirements="整改")
    assert third.number == f"建〔{first.year}〕4号"
