"""In a real headless Chromium: an institution manager takes attendance in bulk and sees a new
hire's overdue onboarding cleared; the publicity chart draws from the local ECharts."""
import pytest

from apps.core.testing import PASSWORD

from .factories import days, publicity, session, staff, today

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_manager_records_attendance_and_the_overdue_onboarding_clears(world, login_page, live_server):
    new = staff(world.inst1, "新来的", hired_on=today() - days(1))
    s = session(world.inst1, "onboarding", topic="岗前消防培训")
    page = login_page("t_home1", PASSWORD)
    page.goto(f"{live_server.url}/training/compliance/institution/{world.inst1.pk}/")
    assert page.locator(f'tr[data-person="{new.pk}"]').get_attribute("data-status") == "overdue"
    page.goto(f"{live_server.url}/training/sessions/{s.pk}/")
    assert page.locator("#qr img").is_visible()
    page.check(f'#bulk-attendance input[value="{new.pk}"]')
    page.click("#save-attendance")
    page.wait_for_load_state("networkidle")
    assert "新来的" in page.locator("#attendance").inner_text()
    page.goto(f"{live_server.url}/training/compliance/institution/{world.inst1.pk}/")
    assert page.locator(f'tr[data-person="{new.pk}"]').get_attribute("data-status") == "done"


def test_publicity_chart_is_drawn(world, login_page, live_server):
    publicity(world.t1, setting="schools")
    page = login_page("t_town1", PASSWORD)
    page.goto(f"{live_server.url}/training/publicity/stats/")
    page.wait_for_selector("#publicity-chart canvas")
    assert "进学校" in page.locator("#by-setting").inner_text()
