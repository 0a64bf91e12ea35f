"""In a real headless Chromium: an institution manager acknowledges and clears an alarm; the device
page draws its chart with the local ECharts."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.testing import PASSWORD
from apps.monitoring.ingest import ingest_batch

from .conftest import make_device, series

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_manager_acknowledges_and_clears_an_alarm_and_sees_the_device_chart(world, login_page, live_server):
    device = make_device(world.inst1, code="E2E-1")
    ingest_batch(series(device, timezone.now() - timedelta(minutes=10), [400, 410, 420]), source="mqtt")
    page = login_page("t_home1", PASSWORD)
    page.goto(f"{live_server.url}/monitoring/?state=active")
    rows = page.locator("#alarm-table tbody tr")
    assert rows.count() == 1 and "剩余电流" in rows.first.inner_text()
    rows.first.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    page.fill("#ack-form input[name=note]", "电工已到场")
    page.click("#ack-submit")
    page.wait_for_load_state("networkidle")
    assert "已确认" in page.locator("#alarm-state").inner_text()
    page.fill("#clear-form input[name=reason]", "更换漏电断路器后复测正常")
    page.check("#id_still_over_confirmed")  # the last reading is still over the threshold
    page.click("#clear-submit")
    page.wait_for_load_state("networkidle")
    assert "已解除" in page.locator("#alarm-state").inner_text()
    page.goto(f"{live_server.url}/monitoring/devices/{device.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#device-chart-box canvas").count() >= 1
