import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from apps.core.models import AuditEntry
from apps.core.testing import api_client, make_institution, page_client
from apps.ledger.models import Institution, PersonChange


def _many(world, n, township=None):
    for i in range(n):
        make_institution(township or world.t1, f"批量养老院{len(Institution.objects.all())}-{i:03d}")


def _queries(client, url, **kw):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **kw)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_page_query_count_is_constant_in_rows(world):
    client = page_client(world.town1)
    _many(world, 3)
    few = _queries(client, "/ledger/")
    _many(world, 40)
    many = _queries(client, "/ledger/")
    assert few == many


def test_api_list_query_count_is_constant_in_rows(world):
    client = api_client(world.leader)
    _many(world, 3)
    few = _queries(client, "/api/v1/institutions/")
    [make_institution(world.t2, f"更多养老院{i:03d}") for i in range(40)]
    many = _queries(client, "/api/v1/institutions/")
    assert few == many


def test_each_role_sees_exactly_its_scope_in_the_list(world):
    expected = {
        world.admin: {world.inst1, world.inst1b, world.inst2},
        world.leader: {world.inst1, world.inst1b, world.inst2},
        world.sec_elderly_user: {world.inst1, world.inst2},
        world.sec_social_user: {world.inst1b},
        world.unit_user: {world.inst1b},
        world.town1: {world.inst1, world.inst1b},
        world.town2: {world.inst2},
        world.home1: {world.inst1},
        world.home2: {world.inst2},
    }
    for user, institutions in expected.items():
        ids = {row["id"] for row in api_client(user).get("/api/v1/institutions/").json()["results"]}
        assert ids == {i.pk for i in institutions}, user.username
        body = page_client(user).get("/ledger/").content.decode()
        for inst in (world.inst1, world.inst1b, world.inst2):
            assert (inst.name in body) == (inst in institutions), (user.username, inst.name)


def test_list_filters_search_and_sort(world):
    client = page_client(world.leader)
    body = client.get("/ledger/", {"township": world.t2.pk}).content.decode()
    assert "二号养老院" in body and "一号敬老院" not in body
    body = client.get("/ledger/", {"kind": "child_welfare"}).content.decode()
    assert "一号儿童福利院" in body and "一号敬老院" not in body
    body = client.get("/ledger/", {"section": world.sec_elderly.pk}).content.decode()
    assert "一号儿童福利院" not in body and "一号敬老院" in body
    body = client.get("/ledger/", {"q": "二号"}).content.decode()
    assert "二号养老院" in body and "一号敬老院" not in body
    api = api_client(world.leader).get("/api/v1/institutions/", {"township": world.t2.pk}).json()
    assert [r["name"] for r in api["results"]] == ["二号养老院"]
    world.inst2.beds = 500
    world.inst2.save()
    body = client.get("/ledger/", {"sort": "-beds"}).content.decode()
    assert body.index("二号养老院") < body.index("一号敬老院")


def _form_data(inst, **changes):
    from django.forms.models import model_to_dict

    from apps.ledger.forms import INSTITUTION_FIELDS

    data = {k: v for k, v in model_to_dict(inst, fields=INSTITUTION_FIELDS).items() if v is not None and v is not False}
    data.update(changes)
    return data


def test_edit_form_validates_with_chinese_messages_and_saves_nothing(world):
    client = page_client(world.town1)
    response = client.post(f"/ledger/{world.inst1.pk}/edit/", _form_data(world.inst1, residents_bedridden=999))
    assert response.status_code == 200
    assert "不能超过" in response.content.decode()
    world.inst1.refresh_from_db()
    assert world.inst1.residents_bedridden == 5


def test_changing_the_responsible_person_is_recorded_with_its_date(world):
    client = page_client(world.town1)
    response = client.post(f"/ledger/{world.inst1.pk}/edit/", _form_data(
        world.inst1, responsible_person="新负责人", responsible_phone="13900000000", person_changed_on="2026-11-01"))
    assert response.status_code == 302
    change = PersonChange.objects.get(institution=world.inst1)
    assert change.new_name == "新负责人" and str(change.changed_on) == "2026-11-01"
    assert change.recorded_by == world.town1
    assert "新负责人" in client.get(f"/ledger/{world.inst1.pk}/").content.decode()


def test_township_officer_creates_an_institution_only_in_its_township(world):
    client = page_client(world.town1)
    data = {"name": "新建养老院", "kind": "elderly_care", "nature": "private", "township": world.t2.pk,
            "address": "某路1号", "beds": 10, "residents": 5, "residents_disabled": 0, "residents_bedridden": 0,
            "staff_count": 3, "night_staff_count": 1, "extinguisher_count": 2}
    response = client.post("/ledger/new/", data)
    assert response.status_code == 200 and not Institution.objects.filter(name="新建养老院").exists()
    data["township"] = world.t1.pk
    response = client.post("/ledger/new/", data)
    assert response.status_code == 302
    assert Institution.objects.get(name="新建养老院").township == world.t1


def test_institution_users_cannot_create_or_move_their_institution(world):
    client = page_client(world.home1)
    assert client.get("/ledger/new/").status_code == 403
    # A change to where it sits in the tree is refused with a message, not silently dropped, and
    # nothing of the form is half-saved.
    response = client.post(f"/ledger/{world.inst1.pk}/edit/", _form_data(world.inst1, township=world.t2.pk, beds=70))
    assert response.status_code in (200, 400) and "您的角色不能修改此字段" in response.content.decode()
    world.inst1.refresh_from_db()
    assert world.inst1.township == world.t1 and world.inst1.beds == 60
    # Its own facts it edits.
    client.post(f"/ledger/{world.inst1.pk}/edit/", _form_data(world.inst1, beds=70))
    world.inst1.refresh_from_db()
    assert world.inst1.township == world.t1 and world.inst1.beds == 70


def test_api_create_update_delete_within_scope(world):
    client = api_client(world.town1)
    payload = {"name": "接口养老院", "kind": "elderly_care", "nature": "public", "township": world.t1.pk,
               "address": "接口路1号", "beds": 20, "residents": 10}
    response = client.post("/api/v1/institutions/", payload, format="json")
    assert response.status_code == 201, response.content
    new_id = response.json()["id"]
    assert client.patch(f"/api/v1/institutions/{new_id}/", {"beds": 30}, format="json").status_code == 200
    assert Institution.objects.get(pk=new_id).beds == 30
    bad = client.post("/api/v1/institutions/", {**payload, "name": "外乡镇", "township": world.t2.pk}, format="json")
    assert bad.status_code == 400 and "township" in bad.json()
    invalid = client.patch(f"/api/v1/institutions/{new_id}/", {"residents_disabled": 500}, format="json")
    assert invalid.status_code == 400 and "residents_disabled" in invalid.json()
    assert client.delete(f"/api/v1/institutions/{new_id}/").status_code == 403  # only the bureau admin deletes
    assert api_client(world.admin).delete(f"/api/v1/institutions/{new_id}/").status_code == 204
    assert AuditEntry.objects.filter(action="delete", object_id=str(new_id)).exists()


def test_buildings_are_added_through_pages_and_api(world):
    client = page_client(world.home1)
    response = client.post(f"/ledger/{world.inst1.pk}/buildings/new/", {
        "name": "主楼", "floors_above": 3, "floors_below": 0, "colour_steel": "combustible", "structure": "rc"})
    assert response.status_code == 302
    assert world.inst1.buildings.get().colour_steel == "combustible"
    api = api_client(world.home1)
    response = api.post("/api/v1/buildings/", {"institution": world.inst2.pk, "name": "X"}, format="json")
    assert response.status_code == 400  # inst2 is outside home1's scope: like a missing id
    response = api.post("/api/v1/buildings/", {"institution": world.inst1.pk, "name": "附楼"}, format="json")
    assert response.status_code == 201


# --- Excel ---------------------------------------------------------------------------------


def _export(client, **params):
    response = client.get("/ledger/", {"export": "xlsx", **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.getvalue()))


def _upload(client, wb):
    buf = io.BytesIO()
    wb.save(buf)
    buf.name = "ledger.xlsx"
    buf.seek(0)
    return client.post("/ledger/import/", {"file": buf})


def test_export_has_exactly_the_filtered_rows(world):
    wb = _export(page_client(world.leader), township=world.t1.pk)
    names = [row[1] for row in wb.active.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["一号敬老院", "一号儿童福利院"])
    wb = _export(page_client(world.home2))
    assert [row[1] for row in wb.active.iter_rows(min_row=2, values_only=True)] == ["二号养老院"]


def test_excel_round_trip_export_edit_import(world):
    client = page_client(world.town1)
    wb = _export(client)
    ws = wb.active
    header = [c.value for c in ws[1]]
    beds_col = header.index("床位数") + 1
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=beds_col, value=88)
    ws.append([None, "导入新养老院", "", "养老机构", "民办", "一号街道", "导入路8号"])
    response = _upload(client, wb)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(Institution.objects.filter(township=world.t1).exclude(name="导入新养老院")
               .values_list("beds", flat=True)) == {88}
    created = Institution.objects.get(name="导入新养老院")
    assert created.kind == "elderly_care" and created.nature == "private" and created.township == world.t1


def test_import_with_bad_rows_changes_nothing_and_lists_every_bad_row(world):
    client = page_client(world.town1)
    wb = _export(client)
    ws = wb.active
    header = [c.value for c in ws[1]]
    beds_col = header.index("床位数") + 1
    ws.cell(row=2, column=beds_col, value=999)  # a good edit that must not be saved
    ws.append([None, "坏行一", "", "不存在的类别", "民办", "一号街道", "地址"])
    ws.append([None, "坏行二", "", "养老机构", "民办", "不存在的街道", "地址"])
    ws.append([world.inst2.pk, "越权", "", "养老机构", "民办", "二号镇", "地址"])
    before = list(Institution.objects.order_by("pk").values())
    audit_before = AuditEntry.objects.count()
    response = _upload(client, wb)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="import-errors"' in body
    for row in (ws.max_row - 2, ws.max_row - 1, ws.max_row):
        assert f"<td>{row}</td>" in body
    assert list(Institution.objects.order_by("pk").values()) == before
    assert AuditEntry.objects.count() == audit_before


def test_import_rejects_a_file_that_is_not_excel(world):
    client = page_client(world.town1)
    fake = io.BytesIO(b"not a workbook")
    fake.name = "ledger.xlsx"
    response = client.post("/ledger/import/", {"file": fake})
    assert response.status_code == 400
    assert "Excel" in response.content.decode()


def test_template_download_has_headers_and_instructions(world):
    response = page_client(world.town1).get("/ledger/import/", {"template": 1})
    wb = load_workbook(io.BytesIO(response.content))
    assert "名称＊" in [c.value for c in wb.worksheets[0][1]]
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"] == ["机构", "填写说明"]


@pytest.mark.parametrize("username", ["t_leader", "t_home1", "t_staff1"])
def test_roles_without_import_right_get_403(world, username):
    from apps.orgs.models import User

    assert page_client(User.objects.get(username=username)).get("/ledger/import/").status_code == 403


def test_empty_workbook_is_reported(world):
    wb = Workbook()
    response = _upload(page_client(world.town1), wb)
    assert response.status_code == 400


def test_the_bureaus_own_order_is_edited_by_offices_and_comes_before_pinyin(world):
    """Institution.order in the form of a township officer; an institution manager may not change it;
    the ledger lists by that order first, then by pinyin (东湖 before 南桥 when orders are equal)."""
    from apps.core.testing import make_institution

    nanqiao = make_institution(world.t1, "南桥敬老院")
    donghu = make_institution(world.t1, "东湖敬老院")
    body = page_client(world.town1).get("/ledger/", {"township": world.t1.pk, "sort": "name"}).content.decode()
    assert body.index("东湖敬老院") < body.index("南桥敬老院")
    response = page_client(world.town1).get(f"/ledger/{nanqiao.pk}/edit/")
    assert 'name="order"' in response.content.decode()
    response = page_client(world.town1).post(f"/ledger/{nanqiao.pk}/edit/", _form_data(nanqiao, order=0))
    assert response.status_code == 302
    # Every institution of the test district has order 0: 南桥 first by the bureau's order.
    Institution.objects.exclude(pk=nanqiao.pk).update(order=5)
    body = page_client(world.town1).get("/ledger/", {"sort": "name"}).content.decode()
    assert body.index("南桥敬老院") < body.index("东湖敬老院")
    body = page_client(world.town1).get("/ledger/", {"sort": "-name"}).content.decode()
    assert body.index("东湖敬老院") < body.index("南桥敬老院")
    # The institution's own manager: the field is shown disabled and a posted change is refused, nothing saved.
    world.inst1.refresh_from_db()
    before = world.inst1.order
    response = page_client(world.home1).post(f"/ledger/{world.inst1.pk}/edit/", _form_data(world.inst1, order=1))
    assert response.status_code == 200 and "排序" in response.content.decode()
    world.inst1.refresh_from_db()
    assert world.inst1.order == before
    # The API: the same field rule.
    refused = api_client(world.home1).patch(f"/api/v1/institutions/{world.inst1.pk}/", {"order": 1}, format="json")
    assert refused.status_code == 400 and "order" in refused.json()
    saved = api_client(world.town1).patch(f"/api/v1/institutions/{donghu.pk}/", {"order": 1}, format="json")
    assert saved.status_code == 200 and saved.json()["order"] == 1
