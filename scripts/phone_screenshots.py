"""Screenshots of the phone pages and of every demo role's to-do home (desk and phone) for the README
(docs/screenshots/), from a running demo.

    python manage.py seed_demo && python manage.py runserver 127.0.0.1:8000 &
    python scripts/phone_screenshots.py http://127.0.0.1:8000

Debian's Chromium (/usr/bin/chromium) at 390×844, as the demo's institution manager and administrator.
"""
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PASSWORD = "demo-pass-2026"
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PAGES = [
    ("home1", "/hazards/", "phone-hazards"),
    ("home1", "/inspections/patrols/", "phone-patrols"),
    ("home1", "/inspections/patrols/offline/", "phone-offline-patrol"),
    ("home1", "/monitoring/alarms/?state=active&state=acknowledged", "phone-alarms"),
    ("home1", "/training/staff/", "phone-staff"),
    ("home1", "fill", "phone-self-inspection"),
    ("home1", "device", "phone-device-chart"),
    ("home1", "menu", "phone-menu"),
    ("home1", "/hazards/?filters", "phone-filters"),
    ("admin", "/orgs/policy/", "phone-policy"),
]
TODO_USERS = ["bureau", "admin", "yanglao", "shiwu", "town1", "town2", "home1", "home2", "city", "bureau2"]
VIEWPORTS = {"desk": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def login(browser, base, user, viewport):
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
    page = ctx.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    return page


def todo_homes(browser, base):
    """The to-do home (/) of every demo account, at a desk and on a phone."""
    for user in TODO_USERS:
        for size, viewport in VIEWPORTS.items():
            page = login(browser, base, user, viewport)
            page.goto(base + "/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"todo-{user}-{size}.png"))
            print(OUT / f"todo-{user}-{size}.png")
            page.context.close()


def main(base):
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        contexts = {}
        for user, path, name in PAGES:
            if user not in contexts:
                contexts[user] = login(browser, base, user, VIEWPORTS["phone"])
            page = contexts[user]
            if path == "menu":
                page.goto(base + "/")
                page.wait_for_load_state("networkidle")
                page.click("button[data-bs-target='#sidebar']")
                page.wait_for_selector("#sidebar.show")
                page.wait_for_timeout(400)
            elif path == "fill":  # a self-inspection to fill in, "all pass" pressed
                page.goto(base + "/inspections/new/")
                page.wait_for_load_state("networkidle")
                page.select_option("#id_template", index=1)
                page.click("#start-submit")
                page.wait_for_load_state("networkidle")
                page.click("#all-pass")
            elif path == "device":  # the first device's chart: a panel per unit
                page.goto(base + "/monitoring/devices/")
                page.wait_for_load_state("networkidle")
                href = page.evaluate("[...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
                                     ".find(h => /^\\/monitoring\\/devices\\/\\d+\\/$/.test(h || ''))")
                page.goto(base + href)
                page.wait_for_load_state("networkidle")
                page.evaluate("document.querySelector('#device-chart-box').closest('.card').scrollIntoView();"
                              "window.scrollBy(0, -64)")
                page.wait_for_timeout(600)
            elif path.endswith("?filters"):
                page.goto(base + path.replace("?filters", "?state=awaiting_verification&level=general"))
                page.wait_for_load_state("networkidle")
                page.click("#filter-toggle")
                page.wait_for_timeout(400)
            else:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"{name}.png"))
            print(OUT / f"{name}.png")
        todo_homes(browser, base)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
