"""In a real headless Chromium: the institution plans and rectifies a major hazard, may not verify
it, and the township office verifies and closes it."""
import pytest

from apps.core.testing import PASSWORD
from apps.hazards.models import Hazard

from .helpers import in_days, major, photo

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_major_hazard_goes_round_the_loop_in_the_browser(world, login_page, live_server, tmp_path):
    hazard = major(world)
    page = login_page("t_home1", PASSWORD)
    page.goto(f"{live_server.url}/hazards/{hazard.pk}/")
    page.click("#action-plan")
    page.fill("#id_measures", "增设第二安全出口")
    page.fill("#id_responsible_person", "张院长")
    page.fill("#id_funds", "30000")
    page.fill("#id_deadline", in_days(20).isoformat())
    page.fill("#id_emergency_plan", "夜间双人值守")
    page.click("#save")
    page.wait_for_load_state("networkidle")
    assert page.locator("#hazard-state").inner_text() == "整改中"
    page.click("#action-rectify")
    page.fill("#id_report", "第二安全出口已开通")
    image = tmp_path / "after.png"
    image.write_bytes(photo().read())
    page.set_input_files("#id_photos_after", str(image))
    page.click("#save")
    page.wait_for_load_state("networkidle")
    assert page.locator("#hazard-state").inner_text() == "待验收"
    assert page.locator("#action-verify").count() == 0
    assert "重大隐患只能由乡镇（街道）民政办或区民政局验收" in page.locator("#blocked-verify").inner_text()
    page.screenshot(path=str(tmp_path / "awaiting.png"), full_page=True)

    officer = login_page("t_town1", PASSWORD)
    officer.goto(f"{live_server.url}/hazards/{hazard.pk}/")
    officer.click("#action-verify")
    officer.fill("#id_note", "现场复核合格")
    officer.click("#save")
    officer.wait_for_load_state("networkidle")
    assert officer.locator("#hazard-state").inner_text() == "已销号"
    assert "现场复核合格" in officer.locator("#hazard-steps").inner_text()
    assert Hazard.objects.get(pk=hazard.pk).verified_by_id == world.town1.pk
