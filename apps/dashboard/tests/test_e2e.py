"""In a real headless Chromium: a township officer opens the cockpit, sees its charts drawn and
follows a number to the list behind it."""
import pytest

from apps.core.testing import PASSWORD
from apps.hazards.services import report_hazard

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_township_officer_follows_a_cockpit_number_to_its_list(world, login_page, live_server):
    report_hazard(world.home1, world.inst1, category="evacuation", description="安全出口锁闭", level="major")
    report_hazard(world.home2, world.inst2, category="gas", description="液化气瓶", level="major")
    page = login_page("t_town1", PASSWORD)
    page.goto(f"{live_server.url}/cockpit/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#chart-trend canvas").count() == 1  # ECharts drew (served locally)
    assert "二号镇" not in page.locator("#unit-table").inner_text()
    tile = page.locator('.cockpit-tile[data-key="open_major"]')
    assert tile.get_attribute("data-value") == "1"
    tile.click()
    page.wait_for_load_state("networkidle")
    assert "/hazards/" in page.url and "level=major" in page.url
    assert "安全出口锁闭" in page.content() and "液化气瓶" not in page.content()
