"""Printing the hazard list in a real headless Chromium (``page.pdf``): the print stylesheet leaves
out navigation and filters, prints the filters and the date on top, turns the wide table landscape
and keeps every column inside the page."""
import re
import subprocess

import pytest

from apps.core.testing import PASSWORD

from .helpers import general, major

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HEADERS = ["#", "机构", "类别", "等级", "隐患描述", "来源", "发现时间", "状态", "整改期限"]


def _words(pdf_path):
    out = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], check=True, capture_output=True,
                         text=True).stdout
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S)
    return [(float(w), float(h), [(m[4], float(m[0]), float(m[2])) for m in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', body)])
        for w, h, body in pages]


def test_the_hazard_list_prints_every_column_inside_the_page(world, login_page, live_server, tmp_path):
    for n in range(30):
        general(world, description=f"配电箱周边堆放可燃物，第{n}处，需清理并设置警示标识" * 2)
    major(world)
    page = login_page("t_leader", PASSWORD)
    page.goto(f"{live_server.url}/hazards/?level=general")
    headers = page.locator("#hazard-table thead th").all_inner_texts()
    assert [h.replace("▼", "").replace("▲", "").strip() for h in headers] == HEADERS, headers
    pdf = tmp_path / "hazards.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    pages = _words(pdf)
    width, height, first = pages[0]
    assert width > height, "the wide list is not printed landscape"
    text = "".join(w for w, _x0, _x1 in first)
    for header in HEADERS[1:]:
        assert header in text, f"column {header} is not printed"
    for _w, _h, words in pages:
        assert all(x1 <= width - 5 for _t, _x0, x1 in words), "a column runs off the page"
    # the filters and the date on top, no navigation or filter form
    assert "筛选条件：" in text and "等级：一般" in text and "打印时间" in text
    for hidden in ("退出", "重置", "首页"):  # log-out (navigation), the filter form, the sidebar
        assert hidden not in text, hidden
    # the header row is repeated on the following pages
    assert len(pages) > 1
    assert all("整改期限" in "".join(w for w, _a, _b in words) for _w, _h, words in pages[1:])
