import pytest


@pytest.fixture
def world(db):
    from apps.core.testing import make_world

    return make_world()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "audit-anchor.jsonl")  # the trail's checkpoints, per test


@pytest.fixture(autouse=True)
def _no_background_refresh(settings):
    """A request finding stale risk only records the refresh it would queue: no thread outliving the
    test and racing its transaction (apps.assessment.tasks.queue_risk_refresh)."""
    settings.RISK_REFRESH_QUEUE = "off"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache (figures cached by one test's data are not another's)."""
    from django.core.cache import cache

    cache.clear()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: run `make browser` (apt-get install chromium fonts-noto-cjk)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def login_page(browser, live_server):
    """``login_page(username, password, viewport=None)`` -> a Playwright page logged in on the live server."""
    pages = []

    def _login(username, password, viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("#login-submit")
        page.wait_for_load_state("networkidle")
        pages.append(context)
        return page

    yield _login
    for context in pages:
        context.close()
