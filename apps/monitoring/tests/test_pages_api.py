"""Pages, API and the HTTP ingest endpoint: scope, filters, actions, device tokens, query counts."""
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.core.testing import api_client, page_client
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.metrics import institution_device_stats
from apps.monitoring.models import Alarm, Device, HourlyRollup, Reading

from .conftest import make_device, reading, series

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def device_client(token):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return client


def raise_alarm(device, start=None):
    start = start or timezone.now() - timedelta(minutes=5)
    ingest_batch(series(device, start, [400, 410, 420]), source="mqtt")
    return Alarm.objects.get(device=device, state="active")


def test_http_ingest_stores_a_batch_with_per_item_results(device):
    items = [reading(device, NOW - timedelta(minutes=2), token=""), reading(device, NOW - timedelta(minutes=1)),
             reading(device, NOW - timedelta(minutes=1)), {"ts": "yesterday", "values": {"residual_ma": 1}}]
    for item in items:
        item.pop("token", None)
    response = device_client(device.token).post("/api/v1/ingest/readings/", {"readings": items}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["stored", "stored", "duplicate", "rejected"]
    assert body["results"][3]["reason"] == "invalid"
    assert Reading.objects.filter(device=device).count() == 2


def test_a_device_token_cannot_write_for_another_device(device, device2):
    item = reading(device2, NOW - timedelta(minutes=1))
    response = device_client(device.token).post("/api/v1/ingest/readings/", [item], format="json")
    assert response.status_code == 403
    assert response.json()["results"][0]["reason"] == "other_device"
    assert not Reading.objects.exists()


def test_a_wrong_or_rotated_token_is_refused(device):
    old = device.token
    device.rotate_token()
    device.save()
    response = device_client(old).post("/api/v1/ingest/readings/", [reading(device, NOW)], format="json")
    assert response.status_code == 401
    response = api_client_for_user_cannot_ingest(device)
    assert response.status_code in (401, 403)


def api_client_for_user_cannot_ingest(device):
    from apps.orgs.models import User

    user = User.objects.get(username="t_home1")
    return api_client(user).post("/api/v1/ingest/readings/", [reading(device, NOW)], format="json")


def test_rotating_the_token_on_the_device_page_shows_the_new_token_once(world, device):
    response = page_client(world.home1).post(f"/monitoring/devices/{device.pk}/rotate-token/", follow=True)
    device.refresh_from_db()
    assert not device.check_token(device.token)
    text = response.content.decode()
    token = text.split("新的设备令牌")[1].split("：", 1)[1].split("<")[0].strip() if "新的设备令牌" in text else None
    assert token and device.check_token(token)


def test_township_sees_only_its_devices_and_alarms(world, device, device2):
    raise_alarm(device)
    raise_alarm(device2)
    codes = [d["code"] for d in api_client(world.town1).get("/api/v1/devices/").json()["results"]]
    assert codes == [device.code]
    alarms = api_client(world.town2).get("/api/v1/alarms/").json()["results"]
    assert [a["device_code"] for a in alarms] == [device2.code]
    page = page_client(world.town1).get("/monitoring/alarms/").content.decode()
    assert device.name in page and device2.name not in page


def test_alarm_console_filters_by_township_institution_state_and_severity(world, device, device2):
    a1 = raise_alarm(device)
    raise_alarm(device2)
    client = api_client(world.admin)

    def ids(query):
        return [a["id"] for a in client.get(f"/api/v1/alarms/?{query}").json()["results"]]

    assert ids(f"township={world.t1.pk}") == [a1.pk]
    assert ids(f"institution={world.inst1.pk}") == [a1.pk]
    assert len(ids("state=active&severity=critical")) == 2
    assert ids("state=cleared") == []
    assert page_client(world.admin).get(f"/monitoring/?township={world.t2.pk}&state=active").status_code == 200


def test_acknowledge_then_clear_with_a_reason_through_the_api(world, device):
    alarm = raise_alarm(device)
    client = api_client(world.home1)
    response = client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {"note": "电工已到场"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "acknowledged"
    assert client.post(f"/api/v1/alarms/{alarm.pk}/clear/", {}, format="json").status_code == 400
    # the last reading (420 mA) is still over the threshold: 409 with the reason, unless confirmed
    response = client.post(f"/api/v1/alarms/{alarm.pk}/clear/", {"reason": "更换漏电断路器"}, format="json")
    assert response.status_code == 409 and "420" in response.json()["detail"][0]
    alarm.refresh_from_db()
    assert alarm.state == "acknowledged"
    response = client.post(f"/api/v1/alarms/{alarm.pk}/clear/", {"reason": "更换漏电断路器",
                                                                 "still_over_confirmed": True}, format="json")
    assert response.status_code == 200
    alarm.refresh_from_db()
    assert (alarm.state, alarm.cleared_by, alarm.acknowledged_by) == ("cleared", world.home1, world.home1)
    assert client.post(f"/api/v1/alarms/{alarm.pk}/clear/", {"reason": "x"}, format="json").status_code == 400


def test_the_leader_reads_alarms_but_may_not_act(world, device):
    alarm = raise_alarm(device)
    assert api_client(world.leader).post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {}, format="json").status_code == 403
    assert page_client(world.leader).post(f"/monitoring/alarms/{alarm.pk}/acknowledge/").status_code == 403


def test_clearing_on_the_page_without_a_reason_shows_a_chinese_message(world, device):
    alarm = raise_alarm(device)
    response = page_client(world.town1).post(f"/monitoring/alarms/{alarm.pk}/clear/", {"reason": ""}, follow=True)
    assert "这个字段是必填项" in response.content.decode() or "必填" in response.content.decode()
    alarm.refresh_from_db()
    assert alarm.state == "active"


def test_device_list_filters_offline_devices(world, device):
    silent = make_device(world.inst1, code="SILENT")
    ingest_batch(series(device, NOW - timedelta(minutes=3), [100, 100]), source="mqtt")
    client = api_client(world.town1)
    assert [d["code"] for d in client.get("/api/v1/devices/?offline=true").json()["results"]] == [silent.code]
    assert [d["code"] for d in client.get("/api/v1/devices/?offline=false").json()["results"]] == [device.code]
    page = page_client(world.town1).get(f"/monitoring/devices/?offline=true&institution={world.inst1.pk}")
    assert silent.code in page.content.decode() and device.code not in page.content.decode()


def test_readings_and_rollups_of_a_device_by_time_range(world, device):
    start = NOW - timedelta(hours=3)
    ingest_batch(series(device, start, [100, 200, 300], step=timedelta(minutes=30)), source="mqtt")
    client = api_client(world.home1)
    since = (start + timedelta(minutes=20)).isoformat()
    body = client.get(f"/api/v1/devices/{device.pk}/readings/", {"start": since}).json()
    assert [r["residual_ma"] for r in body["results"]] == [200, 300]
    body = client.get(f"/api/v1/devices/{device.pk}/rollups/", {"start": (NOW - timedelta(days=1)).isoformat(),
                                                                 "channel": "residual_ma"}).json()
    assert sum(r["count"] for r in body["results"]) == 3  # from the raw readings: the job has not run
    from apps.monitoring.rollups import roll_up_hours

    assert roll_up_hours() > 0 and HourlyRollup.objects.filter(device=device).exists()
    again = client.get(f"/api/v1/devices/{device.pk}/rollups/", {"start": (NOW - timedelta(days=1)).isoformat(),
                                                                  "channel": "residual_ma"}).json()
    assert again["results"] == body["results"]  # from the rollups now: the same


def test_device_page_shows_state_last_reading_alarms_and_a_local_echarts_chart(world, device):
    raise_alarm(device)
    html = page_client(world.staff1).get(f"/monitoring/devices/{device.pk}/").content.decode()
    assert "vendor/echarts/echarts.min.js" in html and 'id="device-chart"' in html
    assert "剩余电流" in html and 'id="recent-alarms"' in html
    assert "http://" not in html.split("<body")[1].replace("http://testserver", "")


@pytest.mark.parametrize("url", ["/monitoring/devices/", "/monitoring/alarms/", "/api/v1/devices/", "/api/v1/alarms/"])
def test_list_pages_use_a_constant_number_of_queries(world, url, django_assert_max_num_queries):
    client = api_client(world.admin) if url.startswith("/api") else page_client(world.admin)
    for i in range(2):
        raise_alarm(make_device(world.inst1, code=f"Q{i}"))
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(2, 8):
        raise_alarm(make_device(world.inst2 if i % 2 else world.inst1b, code=f"Q{i}"))
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200


def test_metrics_give_an_entry_for_every_institution_in_a_constant_number_of_queries(world, device,
                                                                                     django_assert_num_queries):
    raise_alarm(device)
    make_device(world.inst1, code="OFF")
    ids = [world.inst1.pk, world.inst2.pk, 999999]
    with django_assert_num_queries(4):
        stats = institution_device_stats(ids, timezone.now())
    assert stats[world.inst1.pk] == {"devices": 2, "offline_devices": 1, "active_alarms": 1, "alarms_30d": 1}
    assert stats[999999] == {"devices": 0, "offline_devices": 0, "active_alarms": 0, "alarms_30d": 0}


def test_institution_page_shows_the_monitoring_panel(world, device):
    raise_alarm(device)
    html = page_client(world.home1).get(f"/ledger/{world.inst1.pk}/").content.decode()
    assert 'id="monitoring-panel"' in html


@time_machine.travel(NOW + timedelta(days=1), tick=False)
def test_offline_device_is_listed_from_last_seen_without_any_job(world, device):
    ingest_batch(series(device, NOW, [100]), source="mqtt", now=NOW)  # received a day ago
    assert list(Device.objects.offline()) == [device]
    ingest_batch(series(device, NOW - timedelta(minutes=20), [100]), source="mqtt")  # an old reading received now
    assert list(Device.objects.offline()) == []


def test_registering_a_device_shows_its_first_token_once_and_refuses_another_institutions_building(world):
    from apps.ledger.models import Building

    other_building = Building.objects.create(institution=world.inst2, name="外院主楼")
    client = page_client(world.town1)
    data = {"institution": world.inst1.pk, "code": "NEW-1", "name": "厨房配电箱探测器", "kind": "combined",
            "offline_after_minutes": 15, "thresholds": '{"residual_ma": 400}', "is_active": "on"}
    response = client.post("/monitoring/devices/new/", {**data, "building": other_building.pk})
    assert response.status_code == 400 and not Device.objects.filter(code="NEW-1").exists()
    response = client.post("/monitoring/devices/new/", data, follow=True)
    device = Device.objects.get(code="NEW-1")
    text = response.content.decode()
    token = text.split("旧令牌已失效）：", 1)[1].split("<")[0].strip()
    assert device.check_token(token) and device.thresholds == {"residual_ma": 400}
    assert client.post("/monitoring/devices/new/", {**data, "institution": world.inst2.pk}).status_code == 400
    assert page_client(world.leader).get("/monitoring/devices/new/").status_code == 403


def test_the_institution_panel_figures_match_the_metrics_in_two_queries(world, device, django_assert_num_queries):
    from apps.monitoring.metrics import one_institution_stats

    raise_alarm(device)
    make_device(world.inst1, code="OFF")
    now = timezone.now()
    with django_assert_num_queries(2):
        one = one_institution_stats(world.inst1.pk, now)
    assert one == institution_device_stats([world.inst1.pk], now)[world.inst1.pk]


def test_http_ingest_uses_a_constant_number_of_queries(device, django_assert_max_num_queries):
    client = device_client(device.token)
    start = timezone.now() - timedelta(hours=6)
    client.post("/api/v1/ingest/readings/", [reading(device, start)], format="json")
    batch = [reading(device, start + timedelta(minutes=i + 1)) for i in range(300)]
    with django_assert_max_num_queries(14):
        assert client.post("/api/v1/ingest/readings/", batch, format="json").json()["stored"] == 300


def test_a_long_chart_has_a_point_per_local_day_equal_to_the_readings_of_that_day(world, device,
                                                                                   django_assert_num_queries):
    from collections import defaultdict

    from apps.monitoring.charts import chart_data

    # Readings every 5 hours over 12 days (late evening UTC is the next morning in Beijing).
    start = NOW - timedelta(days=12)
    ingest_batch(series(device, start, [100 + (i % 7) * 10 for i in range(58)], step=timedelta(hours=5)),
                 source="mqtt", now=NOW)
    by_day = defaultdict(list)
    for ts, value in Reading.objects.filter(device=device).values_list("ts", "residual_ma"):
        by_day[timezone.localtime(ts).strftime("%Y-%m-%d")].append(value)
    expected = [[day, min(v), round(sum(v) / len(v), 2), max(v)] for day, v in sorted(by_day.items())]
    with django_assert_num_queries(2):  # no day rolled up yet: all from hours (the last two days in the first)
        chart = chart_data(device, start, NOW, channels=["residual_ma"])
    assert chart["step"] == "day"
    assert chart["channels"][0]["points"] == expected
    # The days that are over, rolled up (as the periodic job does): the same points, from the days.
    from apps.monitoring.daily import roll_up_days
    from apps.monitoring.models import DailyRollup

    assert roll_up_days() > 0 and roll_up_days() > 0  # idempotent: the last day is done again
    assert DailyRollup.objects.filter(day=timezone.localdate()).count() == 0
    with django_assert_num_queries(1):  # the days from the daily rollups, today's from the hourly: one query
        assert chart_data(device, start, NOW, channels=["residual_ma"])["channels"][0]["points"] == expected
    # A day in the middle not rolled up (its daily rows gone): summed from its hours, the rest from days.
    gap = timezone.localdate() - timedelta(days=6)
    assert DailyRollup.objects.filter(device=device, day=gap).delete()[0] > 0
    with django_assert_num_queries(2):
        assert chart_data(device, start, NOW, channels=["residual_ma"])["channels"][0]["points"] == expected
    roll_up_days(first=gap, last=gap)
    # A late reading for a day already rolled up counts once the job runs again.
    yesterday = timezone.localdate() - timedelta(days=1)
    late = timezone.make_aware(timezone.datetime.combine(yesterday, timezone.datetime.min.time())) + timedelta(
        hours=3, minutes=7)
    ingest_batch(series(device, late, [999]), source="mqtt", now=NOW)
    roll_up_days()
    points = dict((p[0], p) for p in chart_data(device, start, NOW, channels=["residual_ma"])["channels"][0]["points"])
    assert points[yesterday.strftime("%Y-%m-%d")][3] == 999
    short = chart_data(device, NOW - timedelta(days=2), NOW, channels=["residual_ma"])
    assert short["step"] == "hour" and all(len(p[0]) == 16 for p in short["channels"][0]["points"])


def test_an_alarm_back_to_normal_clears_with_a_reason_alone_and_the_page_asks_only_when_still_over(world, device):
    from apps.core.models import AuditEntry

    alarm = raise_alarm(device)
    client = page_client(world.home1)
    assert 'name="still_over_confirmed"' in client.get(alarm.get_absolute_url()).content.decode()
    response = client.post(f"/monitoring/alarms/{alarm.pk}/clear/", {"reason": "误报"}, follow=True)
    alarm.refresh_from_db()
    assert alarm.is_open and "420" in response.content.decode()
    ingest_batch(series(device, timezone.now() - timedelta(minutes=1), [100]), source="mqtt")
    alarm.refresh_from_db()
    assert 'name="still_over_confirmed"' not in client.get(alarm.get_absolute_url()).content.decode()
    assert client.post(f"/monitoring/alarms/{alarm.pk}/clear/", {"reason": "更换后复测正常"}).status_code == 302
    alarm.refresh_from_db()
    assert alarm.state == "cleared"
    assert AuditEntry.objects.for_object(alarm).filter(action="monitoring.alarm.clear").exists()


def test_alarms_and_devices_export_the_filtered_rows(world, device):
    import io

    from openpyxl import load_workbook

    raise_alarm(device)
    client = page_client(world.home1)
    for url, expected in (("/monitoring/alarms/?export=xlsx", "剩余电流"), ("/monitoring/devices/?export=xlsx",
                                                                            device.code)):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming
                                      else response.content)).active
        values = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        assert any(expected in v for v in values), values[:40]
    assert "export=xlsx" in client.get("/monitoring/alarms/").content.decode()
    # another township's officer gets an export without this institution's rows
    response = page_client(world.town2).get("/monitoring/devices/?export=xlsx")
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming
                                  else response.content)).active
    assert device.code not in [str(c.value) for row in ws.iter_rows() for c in row]
