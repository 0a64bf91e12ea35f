import datetime
import re
from urllib.parse import urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.assessment.models import FireIncident
from apps.core.testing import api_client, make_institution, page_client
from apps.dashboard.cockpit import Cockpit
from apps.hazards.services import report_hazard

# Each list page and its API share one filterset: the API's count is the list's count.
API_OF_LIST = {"/ledger/": "/api/v1/institutions/", "/assessment/risk/": "/api/v1/risk/",
               "/assessment/incidents/": "/api/v1/fire-incidents/", "/hazards/": "/api/v1/hazards/",
               "/hazards/supervisions/": "/api/v1/supervisions/", "/monitoring/devices/": "/api/v1/devices/",
               "/monitoring/alarms/": "/api/v1/alarms/"}


def count_behind(user, url):
    """How many records the list behind ``url`` shows to ``user``."""
    parts = urlsplit(url)
    if parts.path in API_OF_LIST:
        response = api_client(user).get(API_OF_LIST[parts.path] + ("?" + parts.query if parts.query else ""))
        assert response.status_code == 200, url
        return response.json()["count"]
    if parts.path == "/inspections/patrols/missed/":
        response = page_client(user).get(url)
        assert response.status_code == 200, url
        return response.context["total"]
    raise AssertionError(f"no list known for {url}")


def _populate(world):
    from apps.hazards.models import Hazard, Supervision
    from apps.hazards.supervision import list_supervision

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    major1 = report_hazard(world.home1, world.inst1, category="evacuation", description="出口锁闭", level="major")
    # Deadlines that have passed since they were set (a deadline in the past cannot be set).
    overdue = [report_hazard(world.home1, world.inst1, category="electrical", description="插线板",
                             deadline=timezone.localdate())]
    report_hazard(world.home1, world.inst1b and world.inst1, category="electrical", description="现场整改",
                  fixed_on_spot=True)
    major2 = report_hazard(world.home2, world.inst2, category="gas", description="液化气瓶", level="major")
    plan = dict(responsible_person="院长", measures="更换", responsibility="院长负责", emergency_plan="疏散预案",
                deadline=timezone.localdate() + datetime.timedelta(days=30))
    list_supervision(world.town1, major1, supervising_department=world.t1, **plan)
    late = list_supervision(world.town2, major2, supervising_department=world.t2, **plan)
    Supervision.objects.filter(pk=late.pk).update(deadline=yesterday)
    overdue.append(report_hazard(world.town1, world.inst1b, category="facilities", description="灭火器过期",
                                 deadline=timezone.localdate()))
    Hazard.objects.filter(pk__in=[h.pk for h in overdue]).update(deadline=yesterday)
    FireIncident.objects.create(institution=world.inst2, occurred_at=timezone.now(), place="厨房", handling="扑灭")
    from apps.monitoring.models import Alarm, Device

    now = timezone.now()
    for n, inst in enumerate([world.inst1, world.inst1, world.inst1b, world.inst2]):
        device = Device.objects.create(institution=inst, code=f"D{n}", name=f"配电箱{n}",
                                       last_seen=now - datetime.timedelta(hours=5 if n % 2 else 0))
        Alarm.objects.create(device=device, institution=inst, kind="residual_ma", channel="residual_ma",
                             opened_at=now, last_at=now, state=["active", "acknowledged", "cleared", "active"][n])


def test_every_cockpit_number_equals_a_count_over_the_records_it_links_to(world):
    _populate(world)
    for user in (world.leader, world.town1, world.town2, world.sec_elderly_user, world.unit_user, world.home1):
        cockpit = Cockpit(user)
        tiles = cockpit.all_tiles()
        assert len(tiles) > 20
        for tile in tiles:
            assert tile.value == count_behind(user, tile.url), (user.username, tile.key, tile.url)


def test_the_cockpit_numbers_are_right_in_a_known_world(world):
    _populate(world)
    c = Cockpit(world.leader)
    values = {t.key: t.value for t in c.hazard_tiles}
    assert values == {"open": 4, "open_major": 2, "open_general": 2, "overdue": 2}
    assert c.supervision["listed"].value == 2 and c.supervision["overdue"].value == 1
    assert {k: t.value for k, t in c.devices.items()} == {"devices": 4, "offline": 2, "active_alarms": 3}
    assert c.institution_count == 3 and sum(t.value for t in c.risk_tiles) == 3
    assert c.closure_found.value == 5 and c.closure_closed.value == 1 and c.rectification_rate == 20.0
    assert c.fires_12m.value == 1


def test_a_township_cockpit_shows_only_its_township(world):
    _populate(world)
    c = Cockpit(world.town1)
    assert [r["name"] for r in c.township_rows] == ["一号街道"]
    assert {t.key: t.value for t in c.hazard_tiles}["open_major"] == 1
    body = page_client(world.town1).get("/cockpit/").content.decode()
    assert "一号街道" in body and "二号镇" not in body
    # Asking for another township is a 404, not a peek.
    assert page_client(world.town1).get(f"/cockpit/?township={world.t2.pk}").status_code == 404


def test_the_bureau_drills_down_to_one_township(world):
    _populate(world)
    response = page_client(world.leader).get(f"/cockpit/?township={world.t2.pk}")
    assert response.status_code == 200
    c = response.context["c"]
    assert {t.key: t.value for t in c.hazard_tiles}["open"] == 1
    assert all(f"township={world.t2.pk}" in t.url for t in c.hazard_tiles)


def test_the_cockpit_page_links_every_number(world):
    _populate(world)
    body = page_client(world.leader).get("/cockpit/").content.decode()
    assert "/hazards/?open=1&amp;level=major" in body
    assert "vendor/echarts/echarts.min.js" in body
    assert not re.search(r'(?:src|href)=["\'](?:https?:)?//', body)  # no asset from another server


def test_the_cockpit_query_count_is_constant(world):
    from django.core.cache import cache

    _populate(world)
    client = page_client(world.leader)
    client.get("/cockpit/")
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        assert client.get("/cockpit/").status_code == 200
    for i in range(25):
        inst = make_institution(world.t2 if i % 2 else world.t1, f"批量院{i}")
        report_hazard(world.admin, inst, category="electrical", description="x", level="major" if i % 3 else "general")
    client.get("/cockpit/")  # computes the risk of the new institutions once
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        assert client.get("/cockpit/").status_code == 200
    assert len(few.captured_queries) == len(many.captured_queries)


def test_the_cached_cockpit_follows_every_change_at_once(world):
    _populate(world)
    before = {t.key: t.value for t in Cockpit.cached(world.leader).hazard_tiles}
    with CaptureQueriesContext(connection) as warm:
        Cockpit.cached(world.leader)
    assert len(warm.captured_queries) == 0  # served from the cache
    report_hazard(world.home1, world.inst1, category="gas", description="新隐患", level="major")
    after = {t.key: t.value for t in Cockpit.cached(world.leader).hazard_tiles}
    assert after["open_major"] == before["open_major"] + 1


def test_the_home_page_shows_the_compact_summary(world):
    _populate(world)
    body = page_client(world.town2).get("/").content.decode()
    assert 'id="home-summary"' in body and "/hazards/?open=1&amp;level=major" in body


def test_reports_export_docx_and_excel_for_a_township_and_quarter(world):
    import io

    from docx import Document
    from openpyxl import load_workbook

    _populate(world)
    today = timezone.localdate()
    q = (today.month - 1) // 3 + 1
    client = page_client(world.leader)
    base = f"/cockpit/reports/?period=quarter&year={today.year}&n={q}&township={world.t1.pk}"
    page = client.get(base)
    assert page.status_code == 200
    doc = Document(io.BytesIO(client.get(base + "&format=docx").content))
    summary = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert summary["发现隐患"] == "4" and summary["其中重大"] == "1"
    wb = load_workbook(io.BytesIO(client.get(base + "&format=xlsx").content))
    rows = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert rows["发现隐患"] == 4
    bad = client.get("/cockpit/reports/?period=month&year=2026&n=13")
    assert bad.status_code == 200 and "不存在" in bad.content.decode()
    assert page_client(world.home1).get("/cockpit/reports/").status_code == 403


def test_the_cockpit_shows_the_progress_of_running_campaigns_in_scope(world):
    from apps.inspections.models import Campaign
    from apps.inspections.tests.helpers import submitted_inspection

    today = timezone.localdate()
    campaign = Campaign.objects.create(name="冬春火灾防控专项行动", owner_org=world.bureau,
                                       starts_on=today - datetime.timedelta(days=5),
                                       ends_on=today + datetime.timedelta(days=20))
    campaign.townships.set([world.t1, world.t2])
    Campaign.objects.create(name="已结束的行动", owner_org=world.bureau, starts_on=today - datetime.timedelta(days=90),
                            ends_on=today - datetime.timedelta(days=60)).townships.set([world.t1])
    submitted_inspection(world.town1, world.inst1, campaign=campaign)
    [running] = Cockpit(world.leader).campaigns
    assert running["campaign"] == campaign and running["institutions"] == 3 and running["inspected"] == 1
    [mine] = Cockpit(world.town2).campaigns
    assert mine["institutions"] == 1 and mine["inspected"] == 0  # town2 sees its own institution only
    body = page_client(world.leader).get("/cockpit/").content.decode()
    assert "冬春火灾防控专项行动" in body and "已结束的行动" not in body


def _readings_world(world):
    """Devices in both townships and both kinds of t1, a few readings each in the last hours."""
    from apps.monitoring.ingest import ingest_batch
    from apps.monitoring.tests.conftest import make_device, payload

    start = (timezone.now() - datetime.timedelta(hours=3)).replace(minute=5, second=0, microsecond=0)
    batch = []
    for n, (inst, base) in enumerate([(world.inst1, 100), (world.inst1b, 400), (world.inst2, 900)]):
        device = make_device(inst, code=f"E{n}")
        batch += [payload(device, start + datetime.timedelta(minutes=30 * k), residual_ma=base + k) for k in range(6)]
    ingest_batch(batch, source="mqtt")
    from apps.monitoring.rollups import roll_up_hours

    roll_up_hours()  # the periodic rollup job (every minute in the consumer)


def _expected_electrical(user, township=None):
    """The chart computed the slow way: every raw reading in the user's scope, by local hour."""
    from collections import defaultdict

    from apps.monitoring.models import Device, Reading

    devices = Device.objects.visible_to(user)
    if township is not None:
        devices = devices.filter(institution__township=township)
    hours = defaultdict(list)
    for ts, value in Reading.objects.filter(device__in=devices).values_list("ts", "residual_ma"):
        hours[timezone.localtime(ts).strftime("%m-%d %H:00")].append(value)
    keys = sorted(hours)
    return {"hours": keys, "max": [round(max(hours[k]), 1) for k in keys],
            "mean": [round(sum(hours[k]) / len(hours[k]), 1) for k in keys]}


def test_the_residual_current_chart_equals_the_readings_of_the_scope(world):
    _readings_world(world)
    for user, township in [(world.leader, None), (world.leader, world.t2), (world.town1, None),
                           (world.sec_elderly_user, None), (world.home1, None)]:
        chart = Cockpit(user, township=township).electrical
        assert {k: chart[k] for k in ("hours", "max", "mean")} == _expected_electrical(user, township), user
    # The township officer's chart holds nothing of the other township (900 mA is inst2's).
    assert max(Cockpit(world.town1).electrical["max"]) < 900
    assert max(Cockpit(world.sec_elderly_user).electrical["max"]) > 900 > max(Cockpit(world.home1).electrical["max"])
    body = page_client(world.town1).get("/cockpit/").content.decode()
    assert 'id="chart-electrical"' in body


def test_changes_queue_one_rebuild_of_the_province_cockpit_which_leaders_then_find_built(
        world, settings, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from apps.dashboard.cache import WARM_KEY
    from apps.dashboard.tasks import warm_province

    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker: the rebuild goes to a worker
    cache.delete(WARM_KEY)
    queued = []
    monkeypatch.setattr(warm_province, "apply_async", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        report_hazard(world.home1, world.inst1, category="electrical", description="插线板")
        report_hazard(world.home2, world.inst2, category="gas", description="液化气瓶")
    assert len(queued) == 1  # two changes, one rebuild
    assert warm_province() is True  # what the worker runs
    with CaptureQueriesContext(connection) as q:
        c = Cockpit.cached(world.leader)
    assert len(q.captured_queries) == 0  # built already, for every leader
    assert {t.key: t.value for t in c.hazard_tiles}["open"] == 2
    cache.delete(WARM_KEY)


def test_the_province_months_are_kept_and_a_change_redoes_only_its_months(world):
    from django.core.cache import cache

    from apps.hazards.models import Hazard

    _populate(world)
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        first = Cockpit(world.leader)
    report_hazard(world.home1, world.inst1, category="gas", description="本月新隐患")
    with CaptureQueriesContext(connection) as after:
        second = Cockpit(world.leader)
    # Twelve months were computed the first time (two queries each); one month the second time.
    assert len(cold.captured_queries) - len(after.captured_queries) == 22
    assert second.trend_found[-1] == first.trend_found[-1] + 1
    assert second.closure_found.value == first.closure_found.value + 1
    # Every figure is still the count of the hazards behind it.
    found = Hazard.objects.filter(found_at__gte=timezone.make_aware(
        datetime.datetime.combine(second.closure_since, datetime.time.min)))
    assert second.closure_found.value == found.count()
    assert second.closure_closed.value == found.filter(state="closed").count()
    assert sum(second.trend_found) == found.count()


def test_the_first_cockpit_after_local_midnight_shows_yesterdays_risk_and_queues_a_refresh(world, settings):
    """No stall at the day change: stale risk is not recomputed in the request (bounded queries),
    the page says as of when, and one refresh is queued; the queued job brings it up to date."""
    import zoneinfo

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.assessment import tasks
    from apps.assessment.models import InstitutionRisk
    from apps.core.testing import page_client

    settings.RISK_REFRESH_QUEUE = "off"
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    day = timezone.localdate() + datetime.timedelta(days=1)
    evening = datetime.datetime.combine(day, datetime.time(23, 50), tzinfo=tz)
    with time_machine.travel(evening, tick=False):
        assert tasks.refresh_stale_risk() == 3  # the scheduled job of that day
        assert Cockpit(world.leader).risk_stale is False
    computed = set(InstitutionRisk.objects.values_list("computed_at", flat=True))
    assert len(computed) == 1
    with time_machine.travel(evening + datetime.timedelta(minutes=20), tick=False):
        with CaptureQueriesContext(connection) as ctx:
            response = page_client(world.leader).get("/cockpit/")
        assert response.status_code == 200
        assert len(ctx.captured_queries) <= 60, len(ctx.captured_queries)
        assert not any("INSERT" in q["sql"] and "assessment_institutionrisk" in q["sql"]
                       for q in ctx.captured_queries)
        body = response.content.decode()
        assert 'id="risk-as-of"' in body and f"{day:%Y-%m-%d} 23:50" in body
        assert set(InstitutionRisk.objects.values_list("computed_at", flat=True)) == computed
        assert not tasks.queue_risk_refresh()  # the request queued it; once a day until it ran
        assert tasks.refresh_stale_risk() == 3  # the queued (or beat) job
        assert Cockpit(world.leader).risk_stale is False
