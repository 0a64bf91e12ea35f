import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from apps.core.models import AuditEntry
from apps.core.testing import api_client, page_client
from apps.ledger.models import PersonChange
from apps.training.metrics import institution_compliance
from apps.training.models import Attendance, Drill, DrillProblem, StaffMember
from apps.training.services import sign_token

from .factories import days, drill, publicity, session, staff, today


def _queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


# --- Bulk attendance --------------------------------------------------------------------------


def test_bulk_attendance_for_200_people_is_one_request_with_constant_queries(world):
    people = StaffMember.objects.bulk_create([
        StaffMember(institution=world.inst1, name=f"员工{i:03d}", post="护理员", phone=f"1380000{i:04d}",
                    hired_on=today() - days(100)) for i in range(210)])
    small, big = session(world.inst1, "all_staff", topic="小"), session(world.inst1, "all_staff", topic="大")
    client = page_client(world.home1)

    def post(s, ids):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(f"/training/sessions/{s.pk}/attendance/", {"staff": ids})
        assert response.status_code == 302
        return len(ctx.captured_queries)

    few = post(small, [p.pk for p in people[:5]])
    many = post(big, [p.pk for p in people[:200]])
    assert many == few
    assert Attendance.objects.filter(session=big).count() == 200
    assert AuditEntry.objects.filter(action="training.attendance", object_id=str(big.pk)).exists()


def test_bulk_attendance_through_the_api_has_constant_queries_too(world):
    people = StaffMember.objects.bulk_create([
        StaffMember(institution=world.inst1, name=f"员工{i:03d}", post="护理员", hired_on=today())
        for i in range(200)])
    a, b = session(world.inst1, topic="a"), session(world.inst1, topic="b")
    client = api_client(world.home1)

    def post(s, ids):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(f"/api/v1/trainings/{s.pk}/attendance/", {"staff": ids}, format="json")
        assert response.status_code == 201
        return len(ctx.captured_queries)

    assert post(a, [p.pk for p in people[:3]]) == post(b, [p.pk for p in people])


def test_attendance_refuses_people_outside_the_session_or_scope_and_saves_nothing(world):
    mine = staff(world.inst1, "本院")
    other = staff(world.inst2, "外院")
    s = session(world.inst1)
    response = api_client(world.home1).post(f"/api/v1/trainings/{s.pk}/attendance/",
                                            {"staff": [mine.pk, other.pk]}, format="json")
    assert response.status_code == 400 and "staff" in response.json()
    assert not Attendance.objects.exists()
    assert api_client(world.leader).post(f"/api/v1/trainings/{s.pk}/attendance/", {"staff": [mine.pk]},
                                         format="json").status_code == 403


# --- QR sign-in -------------------------------------------------------------------------------


def test_qr_sign_in_with_name_and_phone(world):
    member = staff(world.inst1, "李四", phone="139-0000-1111")
    s = session(world.inst1)
    qr = page_client(world.home1).get(f"/training/sessions/{s.pk}/qr.png")
    assert qr["Content-Type"] == "image/png" and qr.content[:4] == b"\x89PNG"
    from django.test import Client

    url = f"/training/sign/{sign_token(s)}/"
    anonymous = Client()
    assert anonymous.get(url).status_code == 200
    wrong = anonymous.post(url, {"name": "李四", "phone": "13900002222"})
    assert wrong.status_code == 400 and not Attendance.objects.exists()
    ok = anonymous.post(url, {"name": "李四", "phone": "13900001111"})
    assert ok.status_code == 200 and Attendance.objects.get().staff == member
    assert Attendance.objects.get().method == "qr"
    assert anonymous.get("/training/sign/forged-token/").status_code == 404


def test_qr_sign_in_is_closed_outside_the_session_day(world):
    staff(world.inst1, "李四", phone="13900001111")
    s = session(world.inst1, date=today() - days(5))
    response = page_client(world.home1).post(f"/training/sign/{sign_token(s)}/", {"name": "李四",
                                                                                   "phone": "13900001111"})
    assert response.status_code == 400 and not Attendance.objects.exists()


# --- Batches ---------------------------------------------------------------------------------


def test_a_bureau_batch_invites_responsible_people_and_shows_who_has_not_attended(world):
    head1 = staff(world.inst1, "院长甲", roles=["responsible"])
    manager2 = staff(world.inst2, "管理人乙", roles=["manager"])
    staff(world.inst1, "护理员丙")
    client = page_client(world.admin)
    response = client.post("/training/batches/new/", {
        "name": "2026年第一批", "category": "responsible_managers", "institutions": [world.inst1.pk, world.inst2.pk],
        "invited_roles": ["responsible", "manager"]})
    assert response.status_code == 302
    from apps.training.models import TrainingBatch

    batch = TrainingBatch.objects.get()
    from apps.core.models import Notification

    assert set(Notification.objects.filter(verb="training.batch").values_list("recipient__username", flat=True)) \
        == {"t_home1", "t_home2"}
    s = session(None, "responsible_managers", batch=batch, organizer_org=world.bureau)
    s.attendances.create(staff=head1)
    body = client.get(f"/training/batches/{batch.pk}/").content.decode()
    missing = body[body.index('id="not-attended"'):]
    assert "管理人乙" in missing and "院长甲" not in missing and "护理员丙" not in missing
    api = api_client(world.admin).get(f"/api/v1/training-batches/{batch.pk}/not-attended/").json()
    assert [r["id"] for r in api] == [manager2.pk]
    # home2 sees the batch (its institution is invited) but only its own people
    home2 = page_client(world.home2).get(f"/training/batches/{batch.pk}/").content.decode()
    assert "管理人乙" in home2 and "院长甲" not in home2
    assert page_client(world.town1).get("/training/batches/new/").status_code == 403


# --- Staff register and the ledger --------------------------------------------------------------


def test_giving_and_removing_the_manager_role_updates_the_ledger_with_dated_changes(world):
    client = page_client(world.home1)
    response = client.post("/training/staff/new/", {
        "name": "王管理", "post": "办公室主任", "phone": "13700001111", "hired_on": "2024-03-01",
        "roles": ["manager"], "role_changed_on": "2026-10-01"})
    assert response.status_code == 302, response.content.decode()[:3000]
    world.inst1.refresh_from_db()
    assert world.inst1.manager_name == "王管理" and world.inst1.manager_phone == "13700001111"
    change = PersonChange.objects.get(institution=world.inst1, role="manager")
    assert str(change.changed_on) == "2026-10-01"
    member = StaffMember.objects.get(name="王管理")
    assert member.institution == world.inst1  # an institution user records only its own people
    response = api_client(world.home1).patch(f"/api/v1/staff/{member.pk}/", {"roles": []}, format="json")
    assert response.status_code == 200
    world.inst1.refresh_from_db()
    assert world.inst1.manager_name == ""
    assert PersonChange.objects.filter(institution=world.inst1, role="manager").count() == 2


def test_staff_api_validates_and_limits_institutions(world):
    client = api_client(world.home1)
    bad = client.post("/api/v1/staff/", {"institution": world.inst1.pk, "name": "甲", "post": "厨师",
                                         "hired_on": "2026-01-01", "left_on": "2025-01-01"}, format="json")
    assert bad.status_code == 400 and "left_on" in bad.json()
    outside = client.post("/api/v1/staff/", {"institution": world.inst2.pk, "name": "乙", "post": "厨师",
                                             "hired_on": "2026-01-01"}, format="json")
    assert outside.status_code == 400
    assert api_client(world.staff1).post("/api/v1/staff/", {"institution": world.inst1.pk, "name": "丙",
                                                            "post": "厨师", "hired_on": "2026-01-01"},
                                         format="json").status_code == 403


def test_staff_edit_form_shows_chinese_errors_and_saves_nothing(world):
    response = page_client(world.town1).post("/training/staff/new/", {
        "institution": world.inst1.pk, "name": "甲", "post": "厨师", "hired_on": "2026-05-01",
        "left_on": "2026-01-01"})
    assert response.status_code == 200 and "不能早于" in response.content.decode()
    assert not StaffMember.objects.exists()


# --- Excel ---------------------------------------------------------------------------------


def _upload(client, wb):
    buf = io.BytesIO()
    wb.save(buf)
    buf.name = "staff.xlsx"
    buf.seek(0)
    return client.post("/training/staff/import/", {"file": buf})


def test_staff_excel_round_trip_export_edit_import(world):
    member = staff(world.inst1, "导出者")
    client = page_client(world.town1)
    wb = load_workbook(io.BytesIO(client.get("/training/staff/", {"export": "xlsx"}).getvalue()))
    ws = wb.active
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("岗位") + 1, value="保安")
    ws.append([None, "一号敬老院", "新导入", "厨师", "13600000000", "2026-01-05", None, None,
               "消防安全管理人", None, None])
    response = _upload(client, wb)
    assert response.status_code == 302, response.content.decode()[:3000]
    member.refresh_from_db()
    assert member.post == "保安"
    new = StaffMember.objects.get(name="新导入")
    assert new.roles == ["manager"] and str(new.hired_on) == "2026-01-05"
    world.inst1.refresh_from_db()
    assert world.inst1.manager_name == "新导入"


def test_staff_import_with_bad_rows_changes_nothing_and_lists_every_bad_row(world):
    member = staff(world.inst1, "原有")
    client = page_client(world.town1)
    wb = load_workbook(io.BytesIO(client.get("/training/staff/", {"export": "xlsx"}).getvalue()))
    ws = wb.active
    ws.cell(row=2, column=4, value="改了")  # a good edit that must not be saved
    ws.append([None, "不存在的机构", "甲", "厨师", "", "2026-01-05"])
    ws.append([None, "一号敬老院", "乙", "厨师", "", "2026-01-05", None, None, "不存在的角色"])
    ws.append([None, "一号敬老院", "丙", "厨师", "", "不是日期"])
    ws.append([None, "二号养老院", "丁", "厨师", "", "2026-01-05"])  # outside town1's scope
    before = AuditEntry.objects.count()
    response = _upload(client, wb)
    assert response.status_code == 400
    body = response.content.decode()
    for row in range(3, 7):
        assert f"<td>{row}</td>" in body
    member.refresh_from_db()
    assert member.post == "护理员" and StaffMember.objects.count() == 1
    assert AuditEntry.objects.count() == before


def test_staff_import_rejects_a_file_that_is_not_excel_and_staff_cannot_import(world):
    fake = io.BytesIO(b"nope")
    fake.name = "x.xlsx"
    response = page_client(world.town1).post("/training/staff/import/", {"file": fake})
    assert response.status_code == 400 and "Excel" in response.content.decode()
    assert page_client(world.staff1).get("/training/staff/import/").status_code == 403
    template = page_client(world.home1).get("/training/staff/import/", {"template": 1})
    sheets = load_workbook(io.BytesIO(template.content)).worksheets
    assert [ws.title for ws in sheets if ws.sheet_state == "visible"] == ["工作人员", "填写说明"]


# --- Drills ---------------------------------------------------------------------------------


def test_a_problem_found_in_a_drill_becomes_a_linked_hazard(world):
    d = drill(world.inst1, scenario="night", residents_evacuated=20, bedridden_evacuated=4,
              evacuation_seconds=240)
    response = page_client(world.staff1).post(f"/training/drills/{d.pk}/problems/", {
        "description": "夜间疏散时二楼防火门被锁", "to_hazard": "on", "category": "evacuation"})
    assert response.status_code == 302
    problem = DrillProblem.objects.get()
    hazard = problem.hazard
    assert hazard.institution == world.inst1 and hazard.source == "drill" and hazard.category == "evacuation"
    assert hazard.source_id == str(problem.pk)
    assert "夜间疏散" in page_client(world.home1).get(f"/training/drills/{d.pk}/").content.decode()


def test_a_drill_links_to_a_major_hazard_of_the_same_institution_only(world):
    from apps.hazards.services import report_hazard

    major = report_hazard(world.admin, world.inst1, category="building", description="彩钢板", level="major")
    general = report_hazard(world.admin, world.inst1, category="building", description="小问题")
    other = report_hazard(world.admin, world.inst2, category="building", description="外院", level="major")
    client = api_client(world.town1)
    base = {"institution": world.inst1.pk, "date": str(today()), "scenario": "bedridden", "participants": 12,
            "residents_evacuated": 10, "bedridden_evacuated": 3}
    assert client.post("/api/v1/drills/", {**base, "major_hazard": general.pk}, format="json").status_code == 400
    assert api_client(world.admin).post("/api/v1/drills/", {**base, "major_hazard": other.pk},
                                        format="json").status_code == 400
    response = client.post("/api/v1/drills/", {**base, "major_hazard": major.pk}, format="json")
    assert response.status_code == 201, response.content
    bad = client.post("/api/v1/drills/", {**base, "bedridden_evacuated": 30}, format="json")
    assert bad.status_code == 400 and "bedridden_evacuated" in bad.json()
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = world.home1
    html = render_to_string("training/_hazard_drills.html", {"hazard": major, "request": request})
    assert Drill.objects.get(major_hazard=major).get_absolute_url() in html


def test_metrics_give_an_entry_for_every_institution_with_constant_queries(world):
    staff(world.inst1, "逾期", hired_on=today() - days(1))
    staff(world.inst1, "另一个逾期", hired_on=today() - days(3))
    drill(world.inst1, date=today() - days(30))
    drill(world.inst1, date=today() - days(400))
    world.inst2.is_key_unit = True
    world.inst2.save()
    drill(world.inst2, date=today() - days(200))  # key unit: every half year
    with CaptureQueriesContext(connection) as ctx:
        result = institution_compliance([world.inst1.pk, world.inst1b.pk, world.inst2.pk], today())
    assert result[world.inst1.pk] == {"staff": 2, "people_overdue": 2, "drill_ok": True,
                                      "last_drill": today() - days(30), "drills_12m": 1}
    assert result[world.inst1b.pk] == {"staff": 0, "people_overdue": 0, "drill_ok": False, "last_drill": None,
                                       "drills_12m": 0}
    assert result[world.inst2.pk]["drill_ok"] is False
    few = len(ctx.captured_queries)
    for i in range(20):
        staff(world.inst1b, f"员工{i}")
        drill(world.inst1b, date=today() - days(i))
    with CaptureQueriesContext(connection) as ctx:
        institution_compliance([world.inst1.pk, world.inst1b.pk, world.inst2.pk], today())
    assert len(ctx.captured_queries) == few


# --- Publicity ------------------------------------------------------------------------------


def test_publicity_counts_by_setting_township_and_month(world):
    publicity(world.t1, setting="schools")
    publicity(world.t1, setting="schools")
    publicity(world.t2, setting="villages")
    publicity(world.t1, world.inst1, setting="residents")
    body = page_client(world.leader).get("/training/publicity/stats/").content.decode()
    assert "vendor/echarts/echarts.min.js" in body and "http" not in body.split("vendor/echarts")[0][-40:]
    stats = api_client(world.leader).get("/api/v1/publicity/stats/").json()
    assert {r["setting"]: r["n"] for r in stats["by_setting"]} == {"schools": 2, "villages": 1, "residents": 1}
    town1 = api_client(world.town1).get("/api/v1/publicity/stats/").json()
    assert sum(r["n"] for r in town1["by_setting"]) == 3
    home2 = api_client(world.home2).get("/api/v1/publicity/").json()
    assert home2["count"] == 0


def test_resident_education_must_be_in_an_institution(world):
    response = api_client(world.town1).post("/api/v1/publicity/", {
        "setting": "residents", "township": world.t1.pk, "date": str(today()), "place": "院内",
        "theme": "防火知识", "audience": 30}, format="json")
    assert response.status_code == 400 and "institution" in response.json()
    response = api_client(world.town1).post("/api/v1/publicity/", {
        "setting": "communities", "township": world.t2.pk, "date": str(today()), "place": "广场",
        "theme": "防火知识", "audience": 30}, format="json")
    assert response.status_code == 400 and "township" in response.json()


# --- Lists: scope and constant queries --------------------------------------------------------


def _fill(world, n):
    for i in range(n):
        inst = [world.inst1, world.inst1b, world.inst2][i % 3]
        m = staff(inst, f"人员{StaffMember.objects.count()}", roles=["manager"] if i % 4 == 0 else [])
        s = session(inst, date=today() - days(i), topic=f"培训{i}")
        s.attendances.create(staff=m)
        d = drill(inst, date=today() - days(i))
        DrillProblem.objects.create(drill=d, description="问题")
        publicity(inst.township, inst, setting="residents", theme=f"宣传{i}")


PAGES = ["/training/staff/", "/training/sessions/", "/training/drills/", "/training/publicity/",
         "/training/batches/", "/training/publicity/stats/", "/training/compliance/"]
APIS = ["/api/v1/staff/", "/api/v1/staff/obligations/", "/api/v1/trainings/", "/api/v1/training-attendance/",
        "/api/v1/drills/", "/api/v1/publicity/", "/api/v1/training-batches/"]


@pytest.mark.parametrize("url", PAGES)
def test_list_pages_have_constant_query_counts(world, url):
    client = page_client(world.town1)
    _fill(world, 3)
    few = _queries(client, url)
    _fill(world, 30)
    assert _queries(client, url) == few


@pytest.mark.parametrize("url", APIS)
def test_api_lists_have_constant_query_counts_and_ids(world, url):
    client = api_client(world.leader)
    _fill(world, 3)
    few = _queries(client, url)
    _fill(world, 30)
    assert _queries(client, url) == few
    rows = client.get(url).json()["results"]
    assert all("id" in r for r in rows)


def test_each_role_sees_exactly_its_scope_in_the_lists(world):
    _fill(world, 3)
    expected = {world.leader: {"一号敬老院", "一号儿童福利院", "二号养老院"},
                world.sec_elderly_user: {"一号敬老院", "二号养老院"}, world.town1: {"一号敬老院", "一号儿童福利院"},
                world.home1: {"一号敬老院"}, world.home2: {"二号养老院"}, world.unit_user: {"一号儿童福利院"}}
    for user, names in expected.items():
        client = api_client(user)
        staff_rows = client.get("/api/v1/staff/").json()["results"]
        assert {r["institution_name"] for r in staff_rows} == names, user.username
        for url in ("/api/v1/drills/", "/api/v1/trainings/", "/api/v1/publicity/"):
            insts = {r["institution"] for r in client.get(url).json()["results"]}
            from apps.ledger.models import Institution

            assert {i.name for i in Institution.objects.filter(pk__in=insts)} == names, (user.username, url)


def test_lists_filter_by_township_and_institution_for_the_cockpit(world):
    _fill(world, 6)
    client = page_client(world.leader)
    for url in ("/training/staff/", "/training/sessions/", "/training/drills/", "/training/publicity/"):
        body = client.get(url, {"institution": world.inst2.pk}).content.decode()
        assert "二号养老院" in body and "一号敬老院</td>" not in body, url
        assert client.get(url, {"township": world.t2.pk}).status_code == 200
    api = api_client(world.leader).get("/api/v1/drills/", {"township": world.t2.pk}).json()
    assert {r["institution"] for r in api["results"]} == {world.inst2.pk}


# --- Pages that record --------------------------------------------------------------------------


def _png():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, format="PNG")
    return SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")


def test_an_institution_records_a_night_drill_with_photos_and_not_one_in_the_future(world):
    client = page_client(world.home1)
    data = {"date": str(today()), "kind": "combined", "scenario": "night", "participants": 15,
            "residents_evacuated": 30, "bedridden_evacuated": 6, "evacuation_seconds": 300}
    response = client.post("/training/drills/new/", {**data, "date": str(today() + days(3))})
    assert response.status_code == 200 and "演练日期不能晚于今天" in response.content.decode()
    response = client.post("/training/drills/new/", {**data, "photos": _png()})
    assert response.status_code == 302
    d = Drill.objects.get()
    assert d.institution == world.inst1 and d.scenario == "night" and d.bedridden_evacuated == 6
    from apps.core.attachments import attachments_of

    assert attachments_of(d).count() == 1


def test_a_township_records_a_session_with_materials_and_publicity_with_photos(world):
    client = page_client(world.town1)
    response = client.post("/training/sessions/new/", {
        "organiser_level": "township", "category": "heads", "topic": "机构负责人培训", "date": str(today()),
        "hours": "2", "trainer": "消防大队", "place": "街道会议室"})
    assert response.status_code == 302, response.content.decode()[:2000]
    from apps.training.models import PublicityActivity, TrainingSession

    s = TrainingSession.objects.get()
    assert s.organizer_org == world.t1 and s.institution is None
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = SimpleUploadedFile("讲义.pdf", b"%PDF-1.4\n%fake\n", content_type="application/pdf")
    assert client.post(f"/training/sessions/{s.pk}/materials/", {"file": pdf}).status_code == 302
    body = client.get(f"/training/sessions/{s.pk}/").content.decode()
    assert "讲义.pdf" in body
    # town2 cannot see a township-run session of t1
    assert page_client(world.town2).get(f"/training/sessions/{s.pk}/").status_code == 404
    response = client.post("/training/publicity/new/", {
        "setting": "schools", "township": world.t1.pk, "date": str(today()), "place": "中心小学",
        "theme": "校园消防第一课", "audience": 120, "photos": _png()})
    assert response.status_code == 302, response.content.decode()[:2000]
    act = PublicityActivity.objects.get()
    assert act.organizer_org == world.t1
    assert page_client(world.town2).get(act.get_absolute_url()).status_code == 404


def test_staff_are_listed_by_pinyin_within_the_institution_order(world):
    """张 (zhang) < 李 (li) < 王 (wang) < 阿 (a) by code point; by pinyin 阿明, 李四, 王五, 张三."""
    from apps.training.models import StaffMember

    from .factories import staff

    for name in ("张三", "李四", "王五", "阿明"):
        staff(world.inst1, name)
    expected = ["阿明", "李四", "王五", "张三"]
    assert [s.name for s in StaffMember.objects.filter(institution=world.inst1)] == expected
    client = page_client(world.home1)
    for params in ({}, {"sort": "name"}, {"sort": "institution"}):
        body = client.get("/training/staff/", params).content.decode()
        assert sorted(expected, key=body.index) == expected, params
    body = client.get("/training/staff/", {"sort": "-name"}).content.decode()
    assert sorted(expected, key=body.index) == expected[::-1]
    rows = api_client(world.home1).get("/api/v1/staff/").json()["results"]
    assert [r["name"] for r in rows] == expected
    body = client.get(f"/training/compliance/institution/{world.inst1.pk}/").content.decode()
    assert sorted(expected, key=body.index) == expected
    renamed = StaffMember.objects.get(name="阿明")
    renamed.name = "周明"
    renamed.save(update_fields=["name"])
    assert list(StaffMember.objects.filter(institution=world.inst1).values_list("name", flat=True))[-1] == "周明"
