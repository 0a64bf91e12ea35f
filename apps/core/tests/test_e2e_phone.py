"""On a 390×844 phone, every page in the menu of an institution manager (demo ``home1``) and of
the institution's staff (the patrol inspector): nothing scrolls sideways, no console error, the
menu trimmed to the role's daily work; the lists read as cards. Also the two pages once known to
scroll sideways: 一院一档 and the policy page. ``E2E_SHOTS=docs/screenshots`` keeps a screenshot
of each page (the README's "Screenshots")."""
import os
import re

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", quiet=True)
    from apps.orgs.choices import Role
    from apps.orgs.models import User

    home1 = User.objects.get(username="home1")
    staff = User(username="patrol1", role=Role.INSTITUTION_STAFF, institution=home1.institution,
                 organization=home1.organization, first_name="夜班巡查员")
    staff.set_password(DEMO_PASSWORD)
    staff.save()
    return home1


def _menu(page):
    return page.eval_on_selector_all("#sidebar a.nav-link", "els => els.map(a => a.getAttribute('href'))")


def _check(page, url, errors, shot=None):
    errors.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"{url} scrolls sideways: {width}"
    assert not errors, f"{url}: {errors}"
    if shot and os.environ.get("E2E_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["E2E_SHOTS"], f"phone-{shot}.png"))


def _watch(page):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _slug(href):
    return re.sub(r"[^a-z0-9]+", "-", href.split("?")[0].strip("/").lower()) or "home"


def _walk_menu(page, live_server, username, at_most):
    errors = _watch(page)
    menu = _menu(page)
    assert "/api/docs/" not in menu and len(menu) <= at_most, menu
    assert "/inspections/patrols/offline/" in menu
    for href in menu:
        _check(page, live_server.url + href, errors, shot=f"{username}-{_slug(href)}")
    # The hazard register reads as cards: status and deadline on screen, filters behind one button.
    _check(page, live_server.url + "/hazards/?state=awaiting_verification", errors)
    assert page.locator("#filter-form").is_hidden()
    assert page.locator(".fs-chip").count() == 1
    cells = page.locator("table.fs-cards td[data-label]")
    for i in range(min(cells.count(), 8)):
        box = cells.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.click("#filter-toggle")
    page.wait_for_selector("#filter-form.show")
    # The sidebar opens as one panel with large targets.
    page.click("button[data-bs-target='#sidebar']")
    page.wait_for_selector("#sidebar.show")
    assert page.locator("#sidebar a.nav-link").first.bounding_box()["height"] >= 40
    return menu


def test_every_menu_page_of_an_institution_fits_a_phone(demo, login_page, live_server):
    """One demo (seeding takes a while), three people: the manager, the night inspector, and the
    administrator for the two pages once known to scroll sideways."""
    manager = _walk_menu(login_page("home1", DEMO_PASSWORD, viewport=PHONE), live_server, "home1", 20)
    inspector = _walk_menu(login_page("patrol1", DEMO_PASSWORD, viewport=PHONE), live_server, "patrol1", 12)
    assert set(inspector) < set(manager)
    page = login_page("admin", DEMO_PASSWORD, viewport=PHONE)
    errors = _watch(page)
    _check(page, f"{live_server.url}/cockpit/institutions/{demo.institution_id}/file/", errors, shot="institution-file")
    _check(page, f"{live_server.url}/orgs/policy/", errors, shot="policy")
