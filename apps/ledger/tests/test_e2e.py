"""In a real headless Chromium: a township officer filters the ledger, opens an institution and
sees its history."""
import pytest

from apps.core.audit import acting_as
from apps.core.testing import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_township_officer_filters_the_ledger_and_sees_history(world, login_page, live_server, tmp_path):
    with acting_as(world.town1):
        world.inst1.manager_name = "改过的管理人"
        world.inst1.save()
    page = login_page("t_town1", PASSWORD)
    page.goto(f"{live_server.url}/ledger/")
    assert page.locator("#institution-table").is_visible()
    assert page.locator("text=二号养老院").count() == 0  # another township's institution
    page.select_option("#id_kind", "elderly_care")
    page.click("#filter-submit")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#institution-table tbody tr")
    assert rows.count() == 1 and "一号敬老院" in rows.first.inner_text()
    rows.first.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#institution-name").inner_text() == "一号敬老院"
    history = page.locator("#history")
    assert "t_town1" in history.inner_text() and "修改" in history.inner_text()
    page.screenshot(path=str(tmp_path / "institution.png"), full_page=True)


def test_outsider_gets_404_in_the_browser(world, login_page, live_server):
    page = login_page("t_town2", PASSWORD)
    response = page.goto(f"{live_server.url}/ledger/{world.inst1.pk}/")
    assert response.status == 404
