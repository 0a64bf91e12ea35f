"""Imports a clerk can trust (issue 13 item 6) and spreadsheets made for clerks (issue 15 item 4)."""
import datetime
import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from apps.core import excel
from apps.core.models import AuditEntry
from apps.core.testing import page_client, xlsx_bytes
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

HEADER = ["名称＊", "类型＊", "运营性质＊", "乡镇（街道）＊", "地址＊"]
FILES = Path(__file__).parent / "files"


def _post(client, content, name="ledger.xlsx", **data):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post("/ledger/import/", {"file": upload, **data})


def _errors(response):
    body = response.content.decode()
    return re.findall(r"<tr><td>(\d+|—)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", body)


def _snapshot():
    return list(Institution.objects.order_by("pk").values()), AuditEntry.objects.count()


def test_every_bad_cell_gets_one_message_and_nothing_is_saved(world):
    rows = [
        HEADER + ["喷淋", "报警", "监控", "重点单位", "责任人电话", "最近一次全面检测日期", "床位数"],
        ["好行", "养老机构", "民办", "一号街道", "路1号", "无", "×", "没有", "否", "13800000000", "2024-03-01", 10],
        ["坏行一", "养老机构", "民办", "一号街道", "路2号", "是的", "×", "没有", "否", "12345", "2024-13-45", "很多"],
        ["坏行二", "不存在的类别", "民办", "不存在的街道", "路3号", "也许", "×", "没有", "否", "", "明天", 5],
    ]
    client = page_client(world.town1)
    before = _snapshot()
    response = _post(client, xlsx_bytes(rows))
    assert response.status_code == 400
    errors = _errors(response)
    cells = sorted((row, column) for row, column, _reason in errors)
    assert cells == sorted([
        ("3", "喷淋"), ("3", "责任人电话"), ("3", "最近一次消防设施全面检测"), ("3", "床位数"),
        ("4", "类型"), ("4", "乡镇（街道）"), ("4", "喷淋"), ("4", "最近一次消防设施全面检测"),
    ]), errors
    assert len(errors) == len(set(cells))  # one message per bad cell
    reasons = {(row, column): reason for row, column, reason in errors}
    assert "是的" in reasons[("3", "喷淋")] and "号码" in reasons[("3", "责任人电话")]
    assert _snapshot() == before


def test_yes_no_words_are_read_through_one_table(world):
    rows = [HEADER + ["喷淋", "报警", "监控", "重点单位"],
            ["甲院", "养老机构", "民办", "一号街道", "路1号", "无", "×", "没有", "不是"],
            ["乙院", "养老机构", "民办", "一号街道", "路2号", "有", "√", "已安装", "是"],
            ["丙院", "养老机构", "民办", "一号街道", "路3号", "未安装", "否", "无", "否"]]
    response = _post(page_client(world.town1), xlsx_bytes(rows))
    assert response.status_code == 302, _errors(response)
    flags = {i.name: (i.has_sprinklers, i.has_auto_alarm, i.has_electrical_monitoring, i.is_key_unit)
             for i in Institution.objects.filter(name__in=["甲院", "乙院", "丙院"])}
    assert flags == {"甲院": (False,) * 4, "乙院": (True,) * 4, "丙院": (False,) * 4}


def test_dates_as_chinese_text_numbers_and_excel_serials(world):
    serial = (datetime.date(2024, 3, 1) - datetime.date(1899, 12, 30)).days
    forms = ["2024-03-01", "2024/3/1", "2024.3.1", "2024年3月1日", 20240301, serial, datetime.date(2024, 3, 1)]
    rows = [HEADER + ["最近一次全面检测日期"]]
    rows += [[f"日期院{i}", "养老机构", "民办", "一号街道", "路", value] for i, value in enumerate(forms)]
    response = _post(page_client(world.town1), xlsx_bytes(rows))
    assert response.status_code == 302, _errors(response)
    dates = set(Institution.objects.filter(name__startswith="日期院").values_list("last_facility_test", flat=True))
    assert dates == {datetime.date(2024, 3, 1)}
    assert Institution.objects.filter(name__startswith="日期院").count() == len(forms)


def test_header_under_title_rows_and_column_and_value_aliases(world):
    Organization.objects.create(name="城关街道", kind=OrgKind.TOWNSHIP, parent=world.bureau)
    rows = [["清河区养老机构消防安全台账（2026年）"], ["填报单位：民政局", None, "填报日期：2026-11-30"], [],
            ["机构名称", "机构类型", "性质", "乡镇(街道)", "详细地址"],
            ["别名院", "养老院", "公办", "城关镇", "城关路1号"]]
    response = _post(page_client(world.admin), xlsx_bytes(rows))
    assert response.status_code == 302, _errors(response)
    inst = Institution.objects.get(name="别名院")
    assert (inst.kind, inst.nature, inst.township.name) == ("elderly_care", "public", "城关街道")


def test_a_missing_header_says_where_the_header_must_be(world):
    response = _post(page_client(world.town1), xlsx_bytes([["台账"], ["名称", "地址"], ["甲", "乙"]]))
    assert response.status_code == 400
    [(row, column, reason)] = _errors(response)
    assert "第 2 行" in reason and "类型" in reason and "表头" in reason


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk(world, encoding):
    text = "名称,类别,运营性质,乡镇（街道）,地址,喷淋\r\nCSV院,养老机构,民办,一号街道,路1号,有\r\n"
    response = _post(page_client(world.town1), text.encode(encoding), name="台账.csv")
    assert response.status_code == 302, _errors(response)
    assert Institution.objects.get(name="CSV院").has_sprinklers


def test_xls_files_are_read(world):
    # files/ledger.xls: 名称/类别/运营性质/乡镇（街道）/地址/最近一次全面检测日期 and one row, the date as a date cell.
    response = _post(page_client(world.town1), (FILES / "ledger.xls").read_bytes(), name="ledger.xls")
    assert response.status_code == 302, _errors(response)
    inst = Institution.objects.get(name="XLS院")
    assert inst.township == world.t1 and inst.last_facility_test == datetime.date(2024, 3, 1)


def test_size_expansion_and_cell_limits_are_checked_before_parsing(world, monkeypatch):
    client = page_client(world.town1)
    # A workbook whose sheet expands far beyond its packed size (a zip bomb in small).
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER])), "r") as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b" " * 3_000_000 + b"</worksheet>")
            zf.writestr(item, data)
    assert len(buf.getvalue()) < 100_000
    monkeypatch.setattr(excel, "MAX_IMPORT_UNCOMPRESSED", 2 * 1024 * 1024)
    monkeypatch.setattr(excel, "load_workbook", lambda *a, **k: pytest.fail("parsed a zip bomb"))
    response = _post(client, buf.getvalue())
    assert response.status_code == 400 and "解压" in _errors(response)[0][2]
    monkeypatch.undo()
    monkeypatch.setattr(excel, "MAX_IMPORT_BYTES", 1000)
    response = _post(client, xlsx_bytes([HEADER] + [["院", "养老机构", "民办", "一号街道", "x" * 50]] * 100))
    assert response.status_code == 400 and "MB" in _errors(response)[0][2]
    monkeypatch.undo()
    monkeypatch.setattr(excel, "MAX_IMPORT_CELLS", 50)
    response = _post(client, xlsx_bytes([HEADER] + [["院", "养老机构", "民办", "一号街道", "路"]] * 20))
    assert response.status_code == 400 and "单元格" in _errors(response)[0][2]


def test_an_emptied_cell_clears_the_value_after_the_page_showed_it(world):
    world.inst1.manager_phone = "13700001111"
    world.inst1.save()
    client = page_client(world.town1)
    wb = load_workbook(io.BytesIO(client.get("/ledger/", {"export": "xlsx"}).getvalue()))
    ws = wb.active
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "一号敬老院")
    row[header.index("管理人电话")].value = None
    buf = io.BytesIO()
    wb.save(buf)
    response = _post(client, buf.getvalue())
    assert response.status_code == 200, _errors(response)
    body = response.content.decode()
    assert 'id="import-clears"' in body and "13700001111" in body and "管理人电话" in body
    world.inst1.refresh_from_db()
    assert world.inst1.manager_phone == "13700001111"
    token = re.search(r'name="confirm" value="([^"]+)"', body).group(1)
    response = client.post("/ledger/import/", {"confirm": token})
    assert response.status_code == 302
    world.inst1.refresh_from_db()
    assert world.inst1.manager_phone == ""
    assert page_client(world.town2).post("/ledger/import/", {"confirm": token}).status_code == 400


def test_the_template_offers_lists_an_example_and_chinese_instructions(world):
    response = page_client(world.town1).get("/ledger/import/", {"template": 1})
    assert "filename*=utf-8''" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    ws, notes = wb.worksheets[0], wb["填写说明"]
    header = [c.value for c in ws[1]]
    assert "名称＊" in header and "乡镇（街道）＊" in header
    text = " ".join(str(c.value) for s in wb.worksheets for r in s.iter_rows() for c in r if c.value)
    assert "required" not in text.lower()
    validated = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation}
    letter = {h: excel.get_column_letter(i + 1) for i, h in enumerate(header)}
    for column in ("类型＊", "运营性质＊", "乡镇（街道）＊", "喷淋", "重点单位"):
        assert f"{letter[column]}2" in validated, column
    assert ws["A2"].value is None and ws[f"{letter['名称＊']}2"].value.startswith("示例")
    assert any("＊" in str(c.value) for r in notes.iter_rows() for c in r)
    # The template as downloaded, example row left in, imports nothing and refuses nothing.
    response = _post(page_client(world.town1), response.content)
    assert response.status_code == 302 and not Institution.objects.filter(name__startswith="示例").exists()
