"""Period reports: every figure defined once, townships adding up to the total, one language."""
import datetime
import io
import re

from django.utils import timezone

from apps.core.testing import page_client
from apps.dashboard import reports as r
from apps.dashboard.cockpit import Cockpit
from apps.hazards.models import Hazard
from apps.hazards.services import report_hazard

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _hazards(world, this_month):
    """Hazards found before and in the month, closed before, in and after it, in both townships."""
    last_month = this_month.replace(day=1) - datetime.timedelta(days=20)
    cases = [  # institution, found, closed (None = open), level, deadline
        (world.inst1, last_month, this_month, "general", None),   # found earlier, closed in the month
        (world.inst1, last_month, None, "major", this_month),     # open, overdue at the end
        (world.inst1, this_month, this_month, "general", None),   # found and closed in the month
        (world.inst1b, this_month, None, "major", None),
        (world.inst2, last_month, this_month, "major", None),
        (world.inst2, this_month, None, "general", last_month),
        (world.inst2, last_month, last_month, "general", None),   # closed before: in no figure of the month
    ]
    for inst, found, closed, level, deadline in cases:
        h = report_hazard(world.home1 if inst != world.inst2 else world.home2, inst, category="electrical",
                          description="插线板串接", level=level)
        Hazard.objects.filter(pk=h.pk).update(
            found_at=_at(found, 9), deadline=deadline,
            **({"state": "closed", "closed_at": _at(closed, 15)} if closed else {}))


def _number(value):
    try:
        return float(value)
    except ValueError:
        return value


def _month_report(world, user):
    today = timezone.localdate()
    _hazards(world, today.replace(day=1) + datetime.timedelta(days=min(today.day, 27) - 1))
    period = r.Period("month", today.year, today.month)
    return r.period_report(user, period), period


def test_townships_add_up_to_the_total_for_every_figure(world):
    report, _period = _month_report(world, world.leader)
    assert len(report["townships"]) == 2
    for key in r.TOWNSHIP_FIGURES:
        total = report["institutions"] if key == "institutions" else report["hazards"][key]
        assert sum(t[key] for t in report["townships"]) == total, key
    h = report["hazards"]
    assert (h["found"], h["found_major"], h["closed"], h["found_closed"]) == (3, 1, 3, 1)
    assert report["rate"] == round(100 * h["found_closed"] / h["found"], 1)


def test_the_page_the_docx_and_the_spreadsheet_show_the_same_figures_in_chinese(world):
    from docx import Document
    from openpyxl import load_workbook

    _month_report(world, world.leader)
    today = timezone.localdate()
    client = page_client(world.leader)
    base = f"/cockpit/reports/?period=month&year={today.year}&n={today.month}"
    page = client.get(base).content.decode()
    doc = Document(io.BytesIO(client.get(base + "&format=docx").content))
    wb = load_workbook(io.BytesIO(client.get(base + "&format=xlsx").content))
    in_docx = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows[1:]}
    in_xlsx = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert in_docx["已销号"] == "3" and in_xlsx["已销号"] == 3 and in_docx["发现隐患"] == "3"
    assert {k: _number(v) for k, v in in_xlsx.items()} == {k: _number(v) for k, v in in_docx.items()}
    for label, value in in_docx.items():
        assert f"<th>{label}</th><td class=\"text-end\">{value}</td>" in page
    township_head = [c.text for c in doc.tables[-1].rows[0].cells]
    assert "已销号" in township_head and "已停业" not in township_head
    text = "\n".join(p.text for p in doc.paragraphs) + "".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "消防安全" in text and not LATIN_WORD.findall(text), LATIN_WORD.findall(text)
    sheet_text = " ".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
                          if isinstance(c, str))
    assert not LATIN_WORD.findall(sheet_text), LATIN_WORD.findall(sheet_text)


def test_the_district_report_is_in_one_language(world):
    from docx import Document

    from apps.assessment.risk import refresh_risk

    report_hazard(world.home2, world.inst2, category="building", description="彩钢板", level="major")
    refresh_risk([world.inst1.pk, world.inst1b.pk, world.inst2.pk])
    doc = Document(io.BytesIO(page_client(world.leader).get("/assessment/district/?format=docx").content))
    text = "\n".join(p.text for p in doc.paragraphs) + "".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "高风险" in text and not LATIN_WORD.findall(text), LATIN_WORD.findall(text)


def test_the_cockpit_and_the_report_share_the_rectification_rate(world):
    """Over the same hazards (all found this month) both give closed-of-found / found."""
    today = timezone.localdate()
    for closed in (True, False, False, True, False):
        h = report_hazard(world.home1, world.inst1, category="electrical", description="插线板")
        if closed:
            Hazard.objects.filter(pk=h.pk).update(state="closed", closed_at=timezone.now())
    report = r.period_report(world.leader, r.Period("month", today.year, today.month))
    assert Cockpit(world.leader).rectification_rate == report["rate"] == 40.0


def test_the_problems_suggested_for_an_assessment_are_in_chinese(world):
    from apps.assessment.models import Assessment

    report_hazard(world.home1, world.inst1, category="evacuation", description="出口锁闭", level="major")
    page_client(world.home1).post("/assessment/assessments/new/", {"institution": world.inst1.pk, "period": "2026"})
    problems = Assessment.objects.get().problems
    assert "贡献值" in problems and not LATIN_WORD.findall(problems), problems
