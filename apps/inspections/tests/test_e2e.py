"""In a real headless Chromium at phone size (390×844): an institution user completes a
self-inspection; two failed items become two hazards linked back to the inspection."""
import pytest

from apps.core.testing import PASSWORD
from apps.hazards.models import Hazard
from apps.inspections.models import Inspection

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_institution_user_completes_a_self_inspection_on_a_phone(world, login_page, live_server, tmp_path):
    from .helpers import ensure_rules

    ensure_rules()
    page = login_page("t_home1", PASSWORD, viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/inspections/")
    page.click("#start-inspection")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_template", label="冬季消防安全自评自查自改（用火用电用气） v1")
    page.click("#start-submit")
    page.wait_for_load_state("networkidle")
    assert "/fill/" in page.url
    # One column: every item card is as wide as the form, and nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    cards = page.locator("#fill-form .card[id^=item-]")
    n = cards.count()
    assert n >= 5
    for i in range(n):
        card = cards.nth(i)
        item_id = card.get_attribute("id").split("-")[1]
        if i < 2:
            card.locator(f"label[for=fail-{item_id}]").click()
            card.locator(f"#note-{item_id}").fill(f"手机自查发现问题{i + 1}")
        else:
            card.locator(f"label[for=pass-{item_id}]").click()
    import os

    if os.environ.get("E2E_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["E2E_SHOTS"], "fill.png"))
    first_id = cards.nth(0).get_attribute("id").split("-")[1]
    photo = tmp_path / "p.png"
    from PIL import Image

    Image.new("RGB", (16, 16), (200, 0, 0)).save(photo)
    page.set_input_files(f"#photo-{first_id}", str(photo))
    page.fill("#id_inspector_name", "王护理")
    page.fill("#id_responsible_name", "李院长")
    box = page.locator("#fill-submit").bounding_box()
    assert box["width"] > 300  # a full-width button on the phone
    page.click("#fill-submit")
    page.wait_for_load_state("networkidle")
    assert "检查已提交" in page.content()
    inspection = Inspection.objects.get()
    assert inspection.kind == "self" and inspection.state == "submitted"
    assert inspection.responsible_name == "李院长" and inspection.inspector_name == "王护理"
    hazards = Hazard.objects.filter(institution=world.inst1, source="self_inspection")
    assert hazards.count() == 2
    linked = {h.source_object.inspection_id for h in hazards}
    assert linked == {inspection.pk}
    assert page.locator("#item-table tr.table-danger").count() == 2
    page.screenshot(path=str(tmp_path / "self-inspection.png"), full_page=True)
    if os.environ.get("E2E_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["E2E_SHOTS"], "detail.png"))


def test_an_outsider_gets_404_on_the_inspection_in_the_browser(world, login_page, live_server):
    from .helpers import submitted_inspection

    inspection = submitted_inspection(world.town1, world.inst1)
    page = login_page("t_town2", PASSWORD)
    assert page.goto(f"{live_server.url}/inspections/{inspection.pk}/").status == 404
