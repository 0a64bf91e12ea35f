"""In a real headless Chromium: the pages work under the Content Security Policy (no violation,
no console error; ECharts, HTMX and Swagger UI run from local files)."""
import pytest

from apps.core.testing import PASSWORD
from apps.hazards.services import report_hazard

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _watch(page):
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.add_init_script("""document.addEventListener('securitypolicyviolation',
        e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));""")
    return problems


def test_pages_with_charts_scripts_and_swagger_run_under_the_policy(world, login_page, live_server):
    hazard = report_hazard(world.home1, world.inst1, category="evacuation", description="安全出口锁闭", level="major")
    page = login_page("t_town1", PASSWORD)
    problems = _watch(page)
    checks = [
        ("/cockpit/", "#chart-trend canvas"),
        ("/assessment/incidents/outcomes/", "#outcome-chart canvas"),
        ("/training/publicity/stats/", "#publicity-chart canvas"),
        (f"/hazards/{hazard.pk}/determine/", "#determination-form"),
        ("/api/docs/", ".swagger-ui .info"),
    ]
    for path, selector in checks:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        page.wait_for_selector(selector, timeout=15000)
    # The determination form's rule-set switch (static/js/app.js) shows one set's elements.
    page.goto(f"{live_server.url}/hazards/{hazard.pk}/determine/")
    page.wait_for_load_state("networkidle")
    visible = page.locator(".rule-set:not([hidden])")
    assert visible.count() == 1
    assert problems == []
