"""In headless Chromium at phone size: a night patrol without signal. The inspector opens the
offline patrol app, the network goes, the round is walked (one checkpoint with a problem and a
photo), the page is reloaded without network, the network returns: the round arrives once, with
the times recorded on the phone."""
import datetime
import os
import time

import pytest
from playwright.sync_api import expect

from apps.core.testing import PASSWORD
from apps.inspections import services
from apps.inspections.models import PatrolRound, PatrolVisit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RECORDS = """() => new Promise((resolve) => {
  const req = indexedDB.open("fs-patrol", 1);
  req.onsuccess = () => { const all = req.result.transaction("records").objectStore("records").getAll();
    all.onsuccess = () => resolve(all.result.map(r => ({key: r.key, type: r.type, state: r.state,
      started_at: r.started_at, visited_at: r.visited_at, photo: !!r.photo}))); };
})"""


def _parse(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_a_patrol_recorded_offline_arrives_once_with_its_times(world, login_page, live_server, tmp_path):
    from .helpers import ensure_rules

    ensure_rules()  # the day's patrol checklist
    services.create_checkpoint(world.home1, world.inst1, name="地下室配电间", location="B1", order=1)
    services.create_checkpoint(world.home1, world.inst1, name="一楼楼梯间", location="东侧", order=2)
    errors = []
    page = login_page("t_home1", PASSWORD, viewport={"width": 390, "height": 844})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/inspections/patrols/offline/")
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
    page.reload()  # now served through the service worker, which has cached the page and its assets
    page.wait_for_selector("#offline-app[data-ready='1']")
    # Own institution preselected.
    assert page.eval_on_selector("#offline-institution", "s => s.value") == str(world.inst1.pk)

    page.context.set_offline(True)
    page.wait_for_selector("#net-state[data-state='offline']")
    page.click("#round-begin")
    page.click("#checkpoint-buttons [data-checkpoint] >> nth=0")
    page.click("label[for=offline-ok-0]")
    page.fill("#offline-finding", "配电柜门未关")
    photo = tmp_path / "p.png"
    from PIL import Image

    Image.new("RGB", (16, 16), (200, 0, 0)).save(photo)
    page.set_input_files("#offline-photo", str(photo))
    page.click("#visit-save")
    page.wait_for_selector("#outbox li[data-state='pending'] >> nth=1")
    page.click("#checkpoint-buttons [data-checkpoint] >> nth=1")
    page.click("#visit-save")
    page.wait_for_selector("#outbox li[data-state='pending'] >> nth=2")
    # The day's patrol checklist, also without signal: all pass, then the one exception.
    page.click("#checklist-buttons .checklist-open >> nth=0")
    page.click("#checklist-all-pass")
    first = page.locator("#checklist-items .checklist-item").first
    first.locator("label[for$='-fail']").click()
    page.click("#checklist-save")
    assert first.locator(".ck-error").is_visible()  # a failed item needs its note: marked, nothing kept
    first.locator(".ck-note").fill("二楼消防通道堆放杂物")
    page.fill("#checklist-responsible", "李院长")
    page.click("#checklist-save")
    page.wait_for_selector("#outbox li[data-state='pending'] >> nth=3")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    if os.environ.get("E2E_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["E2E_SHOTS"], "phone-offline-patrol.png"), full_page=True)
    recorded = page.evaluate(RECORDS)
    assert len(recorded) == 4 and {r["state"] for r in recorded} == {"pending"}
    assert any(r["photo"] for r in recorded)

    time.sleep(1.5)  # whatever arrives later must carry the phone's times, not the time of sending
    page.reload()  # without network: the page comes from the service worker's cache
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert page.locator("#outbox li[data-state='pending']").count() == 4
    assert not PatrolRound.objects.exists()

    page.context.set_offline(False)
    expect(page.locator("#outbox li[data-state='sent']")).to_have_count(4, timeout=20000)
    page.click("#sync-now")  # sending again stores nothing twice
    page.reload()
    page.wait_for_selector("#offline-app[data-ready='1']")
    expect(page.locator("#sync-state")).to_have_attribute("data-waiting", "0")

    patrol = PatrolRound.objects.get()
    started = next(_parse(r["started_at"]) for r in recorded if r["type"] == "round")
    assert abs(patrol.started_at - started) < datetime.timedelta(milliseconds=1)
    visits = list(PatrolVisit.objects.filter(round=patrol).order_by("visited_at"))
    phone_times = sorted(_parse(r["visited_at"]) for r in recorded if r["type"] == "visit")
    assert [abs(v.visited_at - t) < datetime.timedelta(milliseconds=1) for v, t in zip(visits, phone_times, strict=True)] == [True, True]
    assert len(visits) == 2 and not visits[0].ok and visits[0].finding == "配电柜门未关"
    from apps.core.models import Attachment

    assert Attachment.objects.filter(object_id=str(visits[0].pk)).count() == 1
    assert patrol.client_key is not None
    from apps.inspections.models import Inspection

    inspection = Inspection.objects.get()  # sent, then sent again by "send now": stored once
    assert inspection.state == "submitted" and inspection.responsible_name == "李院长"
    assert inspection.items.filter(result="fail", note="二楼消防通道堆放杂物").count() == 1
    assert not [e for e in errors if "Failed to load resource" not in e], errors


INSPECTIONS = """() => new Promise((resolve) => {
  const req = indexedDB.open("fs-patrol", 1);
  req.onsuccess = () => { const all = req.result.transaction("records").objectStore("records").getAll();
    all.onsuccess = () => resolve(all.result.filter(r => r.type === "inspection").map(r => ({key: r.key,
      state: r.state, recorded_at: r.recorded_at, photos: (r.photos || []).length}))); };
})"""


def test_a_self_inspection_filled_offline_arrives_once_with_its_time_and_photo(world, login_page, live_server,
                                                                                tmp_path):
    """The monthly checklist as a self-inspection without signal: all pass, one exception with its note
    and a photo, signed; the page reloaded offline keeps it; online it arrives once, signed at the phone's time."""
    from PIL import Image

    from apps.core.attachments import attachments_of
    from apps.hazards.models import Hazard
    from apps.inspections.models import ChecklistTemplate, Inspection

    from .helpers import ensure_rules

    ensure_rules()
    monthly = ChecklistTemplate.objects.filter(code="monthly-inspection", is_active=True).order_by("-version").first()
    errors = []
    page = login_page("t_home1", PASSWORD, viewport={"width": 390, "height": 844})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/inspections/")
    page.click("#inspection-offline-link")
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
    page.reload()
    page.wait_for_selector("#offline-app[data-ready='1']")

    page.context.set_offline(True)
    page.wait_for_selector("#net-state[data-state='offline']")
    page.click(f"#inspection-buttons .inspection-open[data-template='{monthly.pk}']")
    page.click("#checklist-all-pass")
    first = page.locator("#checklist-items .checklist-item").first
    first.locator("label[for$='-fail']").click()
    first.locator(".ck-note").fill("灭火器压力不足")
    photo = tmp_path / "e.png"
    Image.new("RGB", (16, 16), (0, 120, 200)).save(photo)
    first.locator(".ck-photo").set_input_files(str(photo))
    page.fill("#checklist-responsible", "李院长")
    page.click("#checklist-save")
    page.wait_for_selector("#outbox li[data-state='pending']")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    recorded = page.evaluate(INSPECTIONS)
    assert len(recorded) == 1 and recorded[0]["photos"] == 1

    time.sleep(1.5)  # what arrives later must carry the phone's time, not the time of sending
    page.reload()  # without network: from the service worker's cache, the record still waiting
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert page.locator("#outbox li[data-state='pending']").count() == 1
    assert not Inspection.objects.exists()

    page.context.set_offline(False)
    expect(page.locator("#outbox li[data-state='sent']")).to_have_count(1, timeout=20000)
    page.click("#sync-now")  # sending again stores nothing twice
    page.reload()
    page.wait_for_selector("#offline-app[data-ready='1']")
    expect(page.locator("#sync-state")).to_have_attribute("data-waiting", "0")

    inspection = Inspection.objects.get()
    signed = _parse(recorded[0]["recorded_at"])
    assert inspection.kind == "self" and inspection.template == monthly and inspection.state == "submitted"
    assert abs(inspection.inspector_signed_at - signed) < datetime.timedelta(milliseconds=1)
    assert inspection.submitted_at - signed > datetime.timedelta(seconds=1)
    failed = inspection.items.get(result="fail")
    assert failed.note == "灭火器压力不足"
    assert attachments_of(failed).count() == 1  # (the hazard carries the same photo as its "before")
    assert abs(Hazard.objects.get(institution=world.inst1).found_at - signed) < datetime.timedelta(milliseconds=1)
    assert not [e for e in errors if "Failed to load resource" not in e], errors
