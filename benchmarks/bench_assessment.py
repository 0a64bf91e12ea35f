"""Cockpit, list pages and API lists on the province-sized dataset (``generate_scale_data``).

Run on PostgreSQL after the generator:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_scale .venv/bin/python -m benchmarks assessment

Reports the median time (ms) and the query count of each page, and the ratio between an
aggregate served from stored rows (current risk per institution) and the same aggregate
recomputed from raw rows (scoring every institution from hazards, buildings, ...).
"""
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.util import alternate, first_requests_after_midnight, median_ms

PAGES = [
    ("cockpit (province leader), cold: cache emptied before each request", "bench_leader", "/cockpit/", True),
    ("cockpit (province leader), after a change: a hazard of this month changed before each request",
     "bench_leader", "/cockpit/", "change"),
    ("cockpit (province leader)", "bench_leader", "/cockpit/"),
    ("cockpit (one township), cold", "bench_town", "/cockpit/", True),
    ("cockpit (one township), after a change", "bench_town", "/cockpit/", "change"),
    ("cockpit (one township)", "bench_town", "/cockpit/"),
    ("home page summary", "bench_leader", "/"),
    ("risk list page", "bench_leader", "/assessment/risk/"),
    ("risk list page, red only", "bench_leader", "/assessment/risk/?level=red"),
    ("incident list page", "bench_leader", "/assessment/incidents/"),
    ("ledger list page", "bench_leader", "/ledger/"),
    ("hazard list page", "bench_leader", "/hazards/?open=1&level=major"),
    ("API risk list", "bench_leader", "/api/v1/risk/"),
    ("API incident list", "bench_leader", "/api/v1/fire-incidents/"),
    ("API institution list", "bench_leader", "/api/v1/institutions/"),
    ("API hazard list", "bench_leader", "/api/v1/hazards/?open=1"),
    ("alarm list page", "bench_leader", "/monitoring/alarms/"),
    ("device list page, offline", "bench_leader", "/monitoring/devices/?offline=true"),
    ("API alarm list", "bench_leader", "/api/v1/alarms/"),
    ("API device list", "bench_leader", "/api/v1/devices/"),
]


def _client(username):
    from apps.orgs.models import User

    client = Client(HTTP_HOST="localhost")  # an allowed host in DEBUG
    client.force_login(User.objects.get(username=username))
    return client


def run():
    from django.urls import Resolver404, resolve

    from apps.ledger.models import Institution

    if not Institution.objects.filter(name__startswith="规模").exists():
        raise SystemExit("run `manage.py generate_scale_data` on this database first")
    from apps.assessment.risk import refresh_risk

    refresh_risk(list(Institution.objects.values_list("pk", flat=True)))
    rows = []
    clients = {}

    for name, username, url, *cold in PAGES:
        try:
            resolve(url.split("?")[0])
        except Resolver404:
            rows.append({"what": name, "url": url, "skipped": "list not installed"})
            continue
        client = clients.setdefault(username, _client(username))
        if client.get(url).status_code != 200:  # warm up (and compute any missing risk once)
            rows.append({"what": name, "url": url, "error": "not 200"})
            continue
        connection.queries_log.clear()
        mode = cold[0] if cold else None
        _prepare(mode)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = len(ctx.captured_queries)  # read now: the property reads the (later cleared) log

        def get(u=url, c=client, mode=mode):
            _prepare(mode)
            assert c.get(u).status_code == 200
            connection.queries_log.clear()
        rows.append({"what": name, "url": url, "median_ms": median_ms(get, rounds=9),
                     "queries": queries})
    rows.append(_day_change())
    rows.append(_rollup_ratio())
    rows.extend(_readings_ratio())
    return rows


def _day_change():
    """The province leader's first cockpit request after local midnight, the cache as the evening
    left it (time-machine; the risk rows go stale at midnight as they do in production)."""
    import statistics

    from apps.orgs.models import User

    times, queries = first_requests_after_midnight(User.objects.get(username="bench_leader"), "/cockpit/")
    return {"what": "cockpit (province leader), first request after local midnight, cache as left by the evening "
                    "(one round per simulated day)", "url": "/cockpit/", "median_ms": statistics.median(times),
            "first_request_ms": times, "queries": queries}


def _prepare(mode):
    """Before a request: nothing (cached), an emptied cache (cold), or what the signals do when a
    hazard found this month is saved (``change``: the cockpit entry and this month are redone)."""
    from django.core.cache import cache
    from django.utils import timezone

    from apps.dashboard import cache as cockpit_cache

    if mode is True:
        cache.clear()
    elif mode == "change":
        cockpit_cache.bump()
        cockpit_cache.bump_month(timezone.localdate().strftime("%Y-%m"))


def _readings_ratio():
    """Hourly aggregates of the readings: from the hourly rollups vs from the raw readings."""
    from django.utils import timezone

    from apps.monitoring.models import Device, HourlyRollup, Reading

    if not Reading.objects.exists():
        return [{"what": "readings", "skipped": "no readings (monitoring not installed when generated)"}]
    since = timezone.now() - timezone.timedelta(hours=24)
    out = [{"what": "readings in the dataset", "count": Reading.objects.count(),
            "hourly_rollups": HourlyRollup.objects.count()}]

    def sql(query, params):
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    # Whole hours on both sides (the rollups' first hour is whole), so both give the same figures.
    hour0 = "date_trunc('hour', %s::timestamptz)"
    province_raw = ("SELECT date_trunc('hour', ts), max(residual_ma), avg(residual_ma) FROM monitoring_reading "
                    f"WHERE ts >= {hour0} AND residual_ma IS NOT NULL GROUP BY 1 ORDER BY 1", [since])
    # What the cockpit reads for the whole province: the township rollups (a few rows per hour).
    province_area = ("SELECT hour, max(max), sum(sum) / sum(count) FROM monitoring_areahourlyrollup "
                     f"WHERE channel = 'residual_ma' AND hour >= {hour0} GROUP BY 1 ORDER BY 1", [since])
    province_rollup = ("SELECT hour, max(max), sum(sum) / sum(count) FROM monitoring_hourlyrollup "
                       f"WHERE channel = 'residual_ma' AND hour >= {hour0} GROUP BY 1 ORDER BY 1", [since])
    raw_rows = sql(*province_raw)
    for rows in (sql(*province_area), sql(*province_rollup)):
        assert [(h, mx) for h, mx, _ in rows] == [(h, mx) for h, mx, _ in raw_rows], "rollups differ from raw"
        assert all(abs(a - b) < 1e-6 * max(1.0, abs(b)) for (_, _, a), (_, _, b) in zip(rows, raw_rows, strict=True))
    row = alternate(lambda: sql(*province_area), lambda: sql(*province_raw), rounds=5)
    out.append({"what": "province: hourly max and mean residual current, last 24 h — township rollups (what the "
                        "cockpit reads) vs raw readings", **row})
    row = alternate(lambda: sql(*province_rollup), lambda: sql(*province_raw), rounds=5)
    out.append({"what": "province, the same from the device rollups (context) vs raw readings", **row})
    town_devices = list(Device.objects.filter(code__startswith="SCALE-", institution__township__name__startswith="规模")
                        .filter(institution__township=Device.objects.filter(code__startswith="SCALE-")
                                .order_by("pk").values("institution__township")[:1])
                        .values_list("pk", flat=True))
    township_id = Device.objects.filter(pk=town_devices[0]).values_list("institution__township_id", flat=True)[0]
    town_raw = ("SELECT date_trunc('hour', ts), max(residual_ma), avg(residual_ma) FROM monitoring_reading "
                f"WHERE device_id = ANY(%s) AND ts >= {hour0} AND residual_ma IS NOT NULL GROUP BY 1 ORDER BY 1",
                [town_devices, since])
    town_area = ("SELECT hour, max, sum / count FROM monitoring_areahourlyrollup WHERE township_id = %s "
                 f"AND channel = 'residual_ma' AND hour >= {hour0} ORDER BY hour", [township_id, since])
    town_rollup = ("SELECT hour, max(max), sum(sum) / sum(count) FROM monitoring_hourlyrollup WHERE device_id = ANY(%s) "
                   f"AND channel = 'residual_ma' AND hour >= {hour0} GROUP BY 1 ORDER BY 1", [town_devices, since])
    raw_rows = sql(*town_raw)
    for rows in (sql(*town_area), sql(*town_rollup)):
        assert [(h, mx) for h, mx, _ in rows] == [(h, mx) for h, mx, _ in raw_rows], "rollups differ from raw"
    row = alternate(lambda: sql(*town_area), lambda: sql(*town_raw), rounds=9)
    out.append({"what": f"one township ({len(town_devices)} devices): hourly max and mean residual current, last 24 h "
                        "— township rollups (what its cockpit reads) vs raw readings", **row})
    row = alternate(lambda: sql(*town_rollup), lambda: sql(*town_raw), rounds=9)
    out.append({"what": "one township, the same from its devices' rollups (context) vs raw readings", **row})
    # A device's chart (the device page: 1, 7, 30 or 90 days), as the page builds it (chart_data: a
    # point per hour up to 7 days, per local day beyond), vs the same points from the raw readings.
    from django.conf import settings

    from apps.dashboard.scale_monitoring import LONG_CODE
    from apps.monitoring.charts import HOURLY_UP_TO, chart_data

    device = Device.objects.filter(code=LONG_CODE).first() or Device.objects.filter(
        code__startswith="SCALE-").order_by("pk").first()
    tz = settings.TIME_ZONE

    def best_plan(query):
        # The raw side gets its best plan, a primary-key range scan: for a device with much history
        # the planner picks a parallel scan of the whole table, 2-3x slower.
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            try:
                cursor.execute(*query)
                return cursor.fetchall()
            finally:
                cursor.execute("RESET enable_seqscan")

    for days in (90, 30, 7, 1):
        end = timezone.now()
        start = end - timezone.timedelta(days=days)
        daily = end - start > HOURLY_UP_TO
        raw_bucket = f"(ts AT TIME ZONE '{tz}')::date" if daily else "date_trunc('hour', ts)"
        # Whole local days for a daily chart (as the chart shows them), whole hours for an hourly one.
        since = (f"(date_trunc('day', %s::timestamptz AT TIME ZONE '{tz}') AT TIME ZONE '{tz}')" if daily
                 else hour0)
        device_raw = (f"SELECT {raw_bucket}, min(residual_ma), avg(residual_ma), max(residual_ma) "
                      f"FROM monitoring_reading WHERE device_id = %s AND ts >= {since} AND ts <= %s "
                      "AND residual_ma IS NOT NULL GROUP BY 1 ORDER BY 1", [device.pk, start, end])
        # The queries chart_data() runs, as it runs them (daily rollups for the days that are over, the
        # hourly ones for today; the hourly ones up to 7 days).
        with CaptureQueriesContext(connection) as captured:
            points = chart_data(device, start, end, channels=["residual_ma"])["channels"][0]["points"]
        queries = [q["sql"] for q in captured.captured_queries]

        def from_rollups(queries=queries):
            with connection.cursor() as cursor:
                for query in queries:
                    cursor.execute(query)
                    cursor.fetchall()

        raw_points = best_plan(device_raw)
        assert len(points) == len(raw_points), (days, len(points), len(raw_points))
        assert [p[3] for p in points] == [round(r[3], 2) for r in raw_points]
        row = alternate(from_rollups, lambda q=device_raw: best_plan(q), rounds=9)
        page = median_ms(lambda a=start, b=end: chart_data(device, a, b, channels=["residual_ma"]), rounds=9)
        out.append({"what": f"one device ({device.code}): chart of the last {days} day(s), "
                            f"{len(points)} {'daily' if daily else 'hourly'} points — the rollup queries of "
                            "chart_data() vs the same points from raw readings", "queries": len(queries),
                    "chart_data_ms": page, **row})
    return out


def _rollup_ratio():
    """Risk levels of every institution: from the stored rows vs recomputed from raw rows."""
    from django.db.models import Count

    from apps.assessment.models import InstitutionRisk
    from apps.assessment.risk import refresh_risk, score_institutions
    from apps.ledger.models import Institution

    ids = list(Institution.objects.values_list("pk", flat=True))
    refresh_risk(ids)  # the stored rows as the signals and the daily refresh keep them

    def stored():
        return dict(InstitutionRisk.objects.values("level").annotate(n=Count("pk")).values_list("level", "n")
                    .order_by())

    def raw():
        counts = {}
        for start in range(0, len(ids), 2000):
            for r in score_institutions(ids[start:start + 2000]).values():
                counts[r.level] = counts.get(r.level, 0) + 1
        return counts

    assert stored() == raw(), "stored risk differs from the recomputed one"
    result = alternate(stored, raw, rounds=3)
    return {"what": "risk levels of all institutions: stored rows vs raw rows", **result}
