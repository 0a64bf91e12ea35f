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

from benchmarks.util import alternate, median_ms

PAGES = [
    ("cockpit (province leader), cold: cache cleared each time", "bench_leader", "/cockpit/", True),
    ("cockpit (province leader)", "bench_leader", "/cockpit/"),
    ("cockpit (one township), cold", "bench_town", "/cockpit/", True),
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
    from django.core.cache import cache

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
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = len(ctx.captured_queries)  # read now: the property reads the (later cleared) log

        def get(u=url, c=client, clear=bool(cold)):
            if clear:
                cache.clear()
            assert c.get(u).status_code == 200
            connection.queries_log.clear()
        rows.append({"what": name, "url": url, "median_ms": median_ms(get, rounds=9),
                     "queries": queries})
    rows.append(_rollup_ratio())
    rows.extend(_readings_ratio())
    return rows


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

    province_raw = ("SELECT date_trunc('hour', ts), max(residual_ma), avg(residual_ma) FROM monitoring_reading "
                    "WHERE ts >= %s GROUP BY 1 ORDER BY 1", [since])
    province_rollup = ("SELECT hour, max(max), sum(sum) / sum(count) FROM monitoring_hourlyrollup "
                       "WHERE channel = 'residual_ma' AND hour >= date_trunc('hour', %s::timestamptz) "
                       "GROUP BY 1 ORDER BY 1", [since])
    row = alternate(lambda: sql(*province_rollup), lambda: sql(*province_raw), rounds=5)
    out.append({"what": "province: hourly max and mean residual current, last 24 h — rollups vs raw readings",
                **row})
    town_devices = list(Device.objects.filter(code__startswith="SCALE-", institution__township__name__startswith="规模")
                        .filter(institution__township=Device.objects.filter(code__startswith="SCALE-")
                                .order_by("pk").values("institution__township")[:1])
                        .values_list("pk", flat=True))
    town_raw = ("SELECT date_trunc('hour', ts), max(residual_ma), avg(residual_ma) FROM monitoring_reading "
                "WHERE device_id = ANY(%s) AND ts >= %s GROUP BY 1 ORDER BY 1", [town_devices, since])
    town_rollup = ("SELECT hour, max(max), sum(sum) / sum(count) FROM monitoring_hourlyrollup WHERE device_id = ANY(%s) "
                   "AND channel = 'residual_ma' AND hour >= date_trunc('hour', %s::timestamptz) GROUP BY 1 ORDER BY 1",
                   [town_devices, since])
    assert len(sql(*town_raw)) == len(sql(*town_rollup))
    row = alternate(lambda: sql(*town_rollup), lambda: sql(*town_raw), rounds=9)
    out.append({"what": f"one township ({len(town_devices)} devices): hourly max and mean residual current, last 24 h "
                        "— rollups vs raw readings", **row})
    device = Device.objects.filter(code__startswith="SCALE-").order_by("pk").first()
    device_raw = ("SELECT date_trunc('hour', ts), max(residual_ma), min(residual_ma), avg(residual_ma) "
                  "FROM monitoring_reading WHERE device_id = %s AND ts >= %s GROUP BY 1 ORDER BY 1",
                  [device.pk, since])
    device_rollup = ("SELECT hour, max, min, sum / count FROM monitoring_hourlyrollup WHERE device_id = %s AND "
                     "channel = 'residual_ma' AND hour >= date_trunc('hour', %s::timestamptz) ORDER BY hour",
                     [device.pk, since])
    row = alternate(lambda: sql(*device_rollup), lambda: sql(*device_raw), rounds=9)
    out.append({"what": "one device: hourly chart of the last 24 h — rollups vs raw readings", **row})
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
