"""The staff import reads what clerks write (issue 13 item 6, issue 15 item 4)."""
import datetime
import io
import re

from openpyxl import load_workbook

from apps.core.testing import page_client, xlsx_bytes
from apps.training.models import StaffMember


def _post(client, content, name="staff.xlsx", **data):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post("/training/staff/import/", {"file": upload, **data})


def test_title_rows_aliases_and_dates_as_numbers(world):
    serial = (datetime.date(2024, 3, 1) - datetime.date(1899, 12, 30)).days
    rows = [["一号敬老院工作人员花名册"], [],
            ["姓名", "单位名称", "岗位", "入职日期", "证书有效期"],
            ["甲", "一号敬老院", "护理员", 20240301, "2027年1月5日"],
            ["乙", "一号敬老院", "护理员", serial, "2027.1.5"]]
    response = _post(page_client(world.town1), xlsx_bytes(rows))
    assert response.status_code == 302, response.content.decode()[-3000:]
    people = StaffMember.objects.filter(name__in=["甲", "乙"])
    assert {(p.hired_on, p.certificate_expires) for p in people} == {
        (datetime.date(2024, 3, 1), datetime.date(2027, 1, 5))}


def test_every_bad_cell_listed_and_an_emptied_phone_cleared_after_preview(world):
    client = page_client(world.town1)
    _post(client, xlsx_bytes([["姓名", "机构", "岗位", "入职日期", "电话"],
                         ["丙", "一号敬老院", "护理员", "2024-03-01", "13900001111"]]))
    person = StaffMember.objects.get(name="丙")
    bad = _post(client, xlsx_bytes([["编号", "姓名", "机构", "岗位", "入职日期", "电话"],
                               [person.pk, "丙", "不存在的院", "护理员", "2024-02-30", "13900001111"]]))
    assert bad.status_code == 400
    cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", bad.content.decode())
    assert sorted(cells) == [("2", "入职日期"), ("2", "机构")]
    wb = load_workbook(io.BytesIO(client.get("/training/staff/", {"export": "xlsx"}).getvalue()))
    ws = wb.active
    header = [c.value for c in ws[1]]
    next(r for r in ws.iter_rows(min_row=2) if r[0].value == person.pk)[header.index("电话")].value = None
    buf = io.BytesIO()
    wb.save(buf)
    preview = _post(client, buf.getvalue())
    assert preview.status_code == 200 and "13900001111" in preview.content.decode()
    person.refresh_from_db()
    assert person.phone == "13900001111"
    token = re.search(r'name="confirm" value="([^"]+)"', preview.content.decode()).group(1)
    assert client.post("/training/staff/import/", {"confirm": token}).status_code == 302
    person.refresh_from_db()
    assert person.phone == ""


def test_the_template_offers_the_users_institutions_in_a_drop_down(world):
    response = page_client(world.town1).get("/training/staff/import/", {"template": 1})
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["编号", "机构＊", "名称＊"]
    [dv] = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith("B2")]
    lists = wb["下拉选项"]
    offered = {c.value for c in lists["B"] if c.value}
    assert offered == {"一号敬老院", "一号儿童福利院"} and lists.sheet_state == "hidden"
    assert "下拉选项" in dv.formula1
