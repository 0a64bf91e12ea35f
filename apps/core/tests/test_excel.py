"""Safe spreadsheet exports (issue 13 item 5) and clerk-ready sheets (issue 15 item 4)."""
import csv
import io
import os
import re
import shutil
import subprocess
import urllib.parse
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from apps.core.excel import XLSX_CONTENT_TYPE, safe_cell, write_row
from apps.core.testing import page_client
from apps.hazards.tests.helpers import general, listed

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "=cmd|' /C calc'!A0", "+1+2", "-3+4", "@SUM(A1:A2)",
           "\tTAB", "\rCR"]
BELL = "插线板\u0007串接\u001b使用"

LISTS = ["/hazards/", "/hazards/lists/open/", "/hazards/lists/responsibility/"]


def _hostile_hazards(world):
    hazards = [general(world, description=text) for text in HOSTILE]
    hazards.append(general(world, description=BELL))
    for h in hazards:  # on the responsibility list a hazard needs its listed supervision
        listed(world, h)
    return hazards


def _description_cells(content):
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [c.value for c in ws[1]]
    col = next(i for i, h in enumerate(header) if h in ("隐患描述", "描述", "隐患"))
    return [row[col] for row in ws.iter_rows(min_row=2)]


@pytest.mark.parametrize("url", LISTS)
def test_hazard_exports_keep_hostile_text_as_text(world, url):
    _hostile_hazards(world)
    response = page_client(world.leader).get(url, {"export": "xlsx"})
    assert response.status_code == 200
    cells = _description_cells(b"".join(response.streaming_content))
    # OOXML writes a control character in text as _xHHHH_ (Excel and LibreOffice decode it; openpyxl
    # leaves inline strings as stored).
    by_value = {re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), c.value or ""): c for c in cells}
    for text in HOSTILE:
        assert text in by_value, text
        assert by_value[text].data_type == "s"
    assert "插线板串接使用" in by_value and by_value["插线板串接使用"].data_type == "s"
    assert all(c.data_type != "f" for c in cells)


def test_the_handover_csv_holds_hostile_text_and_uuids_as_text(world):
    from apps.dashboard.handover import export_package
    from apps.inspections.models import Checkpoint

    _hostile_hazards(world)
    Checkpoint.objects.create(institution=world.inst1, name="一楼走廊")  # a UUID token
    buf = io.BytesIO()
    export_package(buf)
    package = zipfile.ZipFile(buf)
    rows = list(csv.reader(io.StringIO(package.read("csv/hazards.Hazard.csv").decode("utf-8-sig"))))
    values = {v for row in rows[1:] for v in row}
    for text in HOSTILE:
        assert "'" + text.replace("\r", "\r") in values  # quoted: never a formula in Excel
    assert "插线板串接使用" in values  # control characters dropped
    checkpoints = list(csv.reader(io.StringIO(package.read("csv/inspections.Checkpoint.csv").decode("utf-8-sig"))))
    assert len(checkpoints[1][checkpoints[0].index("令牌")]) == 36
    english = [h for name in package.namelist() if name.startswith("csv/")
               for h in next(csv.reader(io.StringIO(package.read(name).decode("utf-8-sig")))) if h.isascii()]
    assert not english  # every header is Chinese ("source type" was not)


def test_safe_cell_keeps_numbers_and_dates_and_turns_anything_else_into_text():
    import datetime
    import uuid

    wb = Workbook()
    ws = wb.active
    moment = timezone.make_aware(datetime.datetime(2026, 3, 1, 8, 30))
    write_row(ws, [3, 2.5, datetime.date(2026, 3, 1), moment, uuid.UUID(int=7), True, None, "x" * 40000])
    buf = io.BytesIO()
    wb.save(buf)
    row = next(load_workbook(io.BytesIO(buf.getvalue())).active.iter_rows())
    assert [c.data_type for c in row[:5]] == ["n", "n", "d", "d", "s"]
    assert row[3].value == datetime.datetime(2026, 3, 1, 8, 30)
    assert row[5].value == "是" and row[6].value is None and len(row[7].value) == 32767
    assert safe_cell(ws, "=1").quotePrefix and not safe_cell(ws, "1=1").quotePrefix


def test_exports_are_named_in_chinese_with_scope_and_date_and_set_up_for_print(world):
    general(world)
    response = page_client(world.town1).get("/hazards/lists/open/", {"export": "xlsx"})
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    name = urllib.parse.unquote(disposition.split("''", 1)[1])
    assert name == f"问题隐患清单-{world.t1.name}-{timezone.localdate():%Y%m%d}.xlsx"
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws.title == "问题隐患清单"
    assert ws.freeze_panes == "A2"
    assert ws.page_setup.orientation == "landscape" and (ws.page_setup.fitToWidth or 1) == 1  # OOXML default 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert "&P" in ws.oddFooter.center.text
    assert all(ws.column_dimensions[c].width >= 8 for c in "ABCDE")
    assert not any(h.isascii() for h in (c.value for c in ws[1]) if h)


def _calc_installed():
    soffice = shutil.which("soffice")
    if not soffice:
        return False
    program = Path(os.path.realpath(soffice)).parent
    return any(program.glob("libsclo.*"))


@pytest.mark.skipif(not _calc_installed(), reason="LibreOffice Calc (soffice with the calc module) is not installed")
def test_libreoffice_shows_the_hostile_text_as_text(world, tmp_path):
    _hostile_hazards(world)
    response = page_client(world.leader).get("/hazards/lists/open/", {"export": "xlsx"})
    source = tmp_path / "open.xlsx"
    source.write_bytes(b"".join(response.streaming_content))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=180)
    rows = list(csv.reader(io.StringIO((tmp_path / "open.csv").read_text(encoding="utf-8"))))
    col = next(i for i, h in enumerate(rows[0]) if h in ("隐患描述", "描述", "隐患"))
    shown = sorted(row[col].strip() for row in rows[1:])
    assert shown == sorted(text.strip() for text in [*HOSTILE, "插线板串接使用"])


def test_list_exports_stream_from_a_temporary_file_and_offer_csv(world):
    _hostile_hazards(world)
    client = page_client(world.leader)
    response = client.get("/hazards/", {"export": "xlsx"})
    assert response.streaming and response["Content-Type"] == XLSX_CONTENT_TYPE
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws.auto_filter.ref and ws.max_row == len(HOSTILE) + 2
    response = client.get("/hazards/", {"export": "csv"})
    assert response.streaming and response["Content-Disposition"].endswith(".csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    col = next(i for i, h in enumerate(rows[0]) if h in ("隐患描述", "描述", "隐患"))
    shown = {row[col] for row in rows[1:]}
    assert "'=cmd|' /C calc'!A0" in shown
    assert len(rows) == len(HOSTILE) + 2
