"""The hazard register at 10³ … 10⁶ hazards (``BENCH_SCALE``), committed and ANALYZEd, on the bench database.

For each size:
- the list API page (leader: the whole register; a township officer) against its own baseline: a
  bare Django view behind the same middleware and session that runs exactly the SQL the API
  view ran for that request (captured) and answers ``JsonResponse`` of the rows;
- the export of the leader's register (xlsx) in a subprocess, its peak RSS from ``getrusage``;
- the province leader's cockpit on the first request after local midnight (risk left from the
  day before, cache empty), and its median over cold requests after midnight.
The data stay in the bench database between sizes (each size adds rows up to the next).
"""
import datetime
import json
import os
import subprocess
import sys
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.util import alternate, analyze, median_ms, scales

INSTITUTIONS = 400
TOWNSHIPS = 20
PREFIX = "基准隐患"


def _world():
    from apps.ledger.models import Institution
    from apps.orgs.choices import OrgKind, Role
    from apps.orgs.models import Organization, User

    bureau, _ = Organization.objects.get_or_create(name=f"{PREFIX}区民政局", kind=OrgKind.BUREAU)
    townships = [Organization.objects.get_or_create(name=f"{PREFIX}镇{i:02d}", kind=OrgKind.TOWNSHIP,
                                                    parent=bureau)[0] for i in range(TOWNSHIPS)]
    if not Institution.objects.filter(name__startswith=PREFIX).exists():
        Institution.objects.bulk_create([
            Institution(name=f"{PREFIX}机构{i:04d}", township=townships[i % TOWNSHIPS], kind="elderly_care",
                        nature="private", address="基准路1号") for i in range(INSTITUTIONS)])
    users = {}
    for username, role, org in (("bench_hz_leader", Role.LEADER, bureau), ("bench_hz_town", Role.TOWNSHIP,
                                                                             townships[0])):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, password="bench-pass-2026", role=role, organization=org)
        users[username] = user
    return users


def _grow_to(n):
    """Hazards up to ``n`` rows, committed: one template row copied by INSERT … SELECT generate_series."""
    from apps.hazards.models import Hazard
    from apps.ledger.models import Institution

    have = Hazard.objects.count()
    if have >= n:
        return have
    inst_ids = list(Institution.objects.filter(name__startswith=PREFIX).order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    template = Hazard.objects.filter(description="bench-template").first()
    if template is None:
        template = Hazard(institution_id=inst_ids[0], category="electrical", description="bench-template",
                          source="self_inspection", level="general", state="registered", found_at=now,
                          deadline=timezone.localdate())
        Hazard.objects.bulk_create([template])
        template = Hazard.objects.get(description="bench-template")
        have += 1
    cols = [f.column for f in Hazard._meta.concrete_fields if f.column != "id"]
    overrides = {
        "institution_id": f"(ARRAY{inst_ids})[1 + mod(g, {len(inst_ids)})]",
        "category": "(ARRAY['electrical','evacuation','gas','other'])[1 + mod(g * 7, 4)]",
        "description": f"'{PREFIX}' || g",
        "level": "CASE WHEN mod(g, 50) = 0 THEN 'major' ELSE 'general' END",
        "state": "(ARRAY['registered','rectifying','awaiting_verification','closed'])[1 + mod(g, 4)]",
        "found_at": "%s - make_interval(secs => g * 30)",
        "deadline": "CURRENT_DATE + (mod(g * 13, 61) - 30)",
        "closed_at": "CASE WHEN mod(g, 4) = 3 THEN %s ELSE NULL END",
    }
    select = ", ".join(overrides.get(c, f't."{c}"') for c in cols)
    params = [now, now]
    start = have
    step = 200_000
    while start < n:
        stop = min(n, start + step)
        with connection.cursor() as cursor:
            cursor.execute(f'INSERT INTO hazards_hazard ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                           f"SELECT {select} FROM hazards_hazard t, generate_series(%s, %s) g WHERE t.id = %s",
                           [*params, start + 1, stop, template.pk])
        start = stop
    analyze("hazards_hazard", "ledger_institution", "orgs_organization")
    return Hazard.objects.count()


# ------------------------------------------------------------------ the bare baseline view
_CAPTURED = {}


def baseline_view(request):
    """The same SQL the API view ran (captured for this URL), rows as dicts, ``JsonResponse``."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.http import JsonResponse

    out = {}
    with connection.cursor() as cursor:
        for i, (sql, params) in enumerate(_CAPTURED[request.GET["key"]]):
            cursor.execute(sql, params)
            names = [c.name for c in cursor.description]
            out[f"q{i}"] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return JsonResponse(out, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})


def _install_baseline_url():
    from django.conf import settings
    from django.urls import clear_url_caches

    settings.ROOT_URLCONF = "benchmarks.urls"
    clear_url_caches()


def _capture(client, url):
    """The data queries the API view runs for ``url`` (those on the hazard tables), with parameters."""
    captured = []

    def wrapper(execute, sql, params, many, context):
        if "hazards_hazard" in sql:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    connection.queries_log.clear()  # a full log (9,000 entries) would count nothing
    with connection.execute_wrapper(wrapper), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return captured, len(ctx.captured_queries), response


def _api_rows(size, users):
    rows = []
    for label, username, page in (("leader (whole register)", "bench_hz_leader", 11),
                                  ("township officer", "bench_hz_town", 1)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(users[username])
        for what, url in ((f"register page {page}", f"/api/v1/hazards/?page={page}"),
                          ("register, indexed filter state=registered", "/api/v1/hazards/?state=registered")):
            key = f"{username}:{url}"
            captured, queries, response = _capture(client, url)
            _CAPTURED[key] = captured
            body = json.loads(response.content)
            base = f"/__bench__/baseline/?key={key}"
            assert client.get(base).status_code == 200
            row = alternate(lambda u=url, c=client: c.get(u), lambda b=base, c=client: c.get(b), rounds=15)
            rows.append({"what": f"API {what}, {label}, vs bare JsonResponse of the same SQL",
                         "hazards": size, "subject_median_ms": round(row["subject_median_s"] * 1000, 2),
                         "baseline_median_ms": round(row["baseline_median_s"] * 1000, 2),
                         "ratio_baseline_over_subject": row["ratio_baseline_over_subject"],
                         "queries": queries, "count": body["count"], "count_exact": body["count_exact"]})
    return rows


def _export_row(size):
    """The leader's register exported (xlsx) in a fresh process: seconds and peak RSS."""
    env = dict(os.environ)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.export_child", "bench_hz_leader"], env=env,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"what": "export of the leader's register (xlsx, as a background export job) in a subprocess", "hazards": size,
            "rows": result["rows"], "seconds": result["seconds"], "peak_rss_mb": result["peak_rss_mb"],
            "baseline_process_rss_mb": result["start_rss_mb"], "file_mb": result["file_mb"],
            "wall_s": round(time.perf_counter() - started, 1)}


def _cockpit_rows(size, users):
    """The first cockpit after local midnight, with yesterday's risk, for the province leader."""
    import zoneinfo

    import time_machine
    from django.conf import settings
    from django.core.cache import cache

    from apps.assessment.risk import refresh_risk
    from apps.ledger.models import Institution

    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    evening = datetime.datetime.combine(today, datetime.time(23, 55), tzinfo=tz)
    settings.RISK_REFRESH_QUEUE = "off"  # measure the request, not a background refresh competing for the CPU
    ids = list(Institution.objects.values_list("pk", flat=True))
    with time_machine.travel(evening, tick=False):
        refresh_risk(ids)
    analyze("assessment_institutionrisk")
    client = Client(HTTP_HOST="127.0.0.1")
    with time_machine.travel(evening + datetime.timedelta(minutes=10), tick=True):
        client.force_login(users["bench_hz_leader"])  # a session of the new day
        cache.clear()
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            t = time.perf_counter()
            response = client.get("/cockpit/")
            assert response.status_code == 200, (response.status_code, response.get("Location"))
            first = round((time.perf_counter() - t) * 1000, 1)

        def cold():
            cache.clear()
            assert client.get("/cockpit/").status_code == 200

        median = median_ms(cold, rounds=7)
    rows = [{"what": "cockpit, province leader, first request after local midnight (risk from yesterday, "
                     "cache empty)", "hazards": size, "institutions": len(ids), "first_ms": first,
             "queries": len(executed), "cold_median_ms": median}]
    rows.append(_day_change_row(size, users, evening, len(ids)))
    return rows


def _day_change_row(size, users, evening, institutions, rounds=7):
    """The day change as it happens: the cockpit was seen in the evening (the cache holds what was
    built then, as Redis would), the clock passes local midnight, the first request of the new day
    is timed. One round per simulated day (each day's first request is a first request)."""
    import statistics

    import time_machine
    from django.core.cache import cache

    cache.clear()
    client = Client(HTTP_HOST="127.0.0.1")
    times, queries = [], []
    for k in range(1, rounds + 1):
        day_evening = evening + datetime.timedelta(days=k)
        with time_machine.travel(day_evening, tick=True):
            client.force_login(users["bench_hz_leader"])
            assert client.get("/cockpit/").status_code == 200  # seen during the day
            _join_rebuilds()  # a rebuild it queued (a thread without a broker) ends before midnight
        with time_machine.travel(day_evening + datetime.timedelta(minutes=10), tick=True):
            client.force_login(users["bench_hz_leader"])  # a session of the new day
            executed = []

            def count(execute, sql, params, many, context, executed=executed):
                executed.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                t = time.perf_counter()
                assert client.get("/cockpit/").status_code == 200
                times.append((time.perf_counter() - t) * 1000)
            queries.append(len(executed))
            _join_rebuilds()  # the rebuild the first request queued finishes outside the timing
    return {"what": "cockpit, province leader, first request after local midnight, cache as left by the "
                    "evening (the day change simulated with time-machine, one round per day)",
            "hazards": size, "institutions": institutions, "rounds": rounds,
            "first_request_median_ms": round(statistics.median(times), 1),
            "first_request_ms": [round(x, 1) for x in times], "queries": queries}


def _join_rebuilds():
    import threading

    for thread in threading.enumerate():
        if thread.name == "cockpit-rebuild":
            thread.join()


def run():
    from django.conf import settings

    _install_baseline_url()
    users = _world()
    rows = []
    for size in scales():
        have = _grow_to(size)
        print(f"   {have} hazards (committed, analysed)", flush=True)
        rows += _api_rows(have, users)
        if os.environ.get("BENCH_EXPORT", "1") == "1":
            rows.append(_export_row(have))
        rows += _cockpit_rows(have, users)
    settings.RISK_REFRESH_QUEUE = "auto"
    return rows


def summary(rows):
    lines = []
    api = [r for r in rows if r["what"].startswith("API register page 11, leader")]
    for r in api:
        lines.append(f"API page (leader) at {r['hazards']:,} hazards: {r['subject_median_ms']} ms, "
                     f"{r['ratio_baseline_over_subject']}x bare JsonResponse ({r['baseline_median_ms']} ms), "
                     f"{r['queries']} queries, count_exact={r['count_exact']}")
    if len(api) >= 2:
        lines.append(f"API page (leader) at {api[-1]['hazards']:,} vs {api[0]['hazards']:,}: "
                     f"{round(api[-1]['subject_median_ms'] / api[0]['subject_median_ms'], 2)}x the time")
    for r in rows:
        if r["what"].startswith("API register, indexed"):
            lines.append(f"API state filter, {r['what'].split(', ')[2]} at {r['hazards']:,}: "
                         f"{r['subject_median_ms']} ms, {r['ratio_baseline_over_subject']}x bare")
        if r["what"].startswith("export"):
            lines.append(f"export of {r['rows']:,} hazards: {r['seconds']} s, peak RSS {r['peak_rss_mb']} MB "
                         f"(process at start {r['baseline_process_rss_mb']} MB), file {r['file_mb']} MB")
        if r["what"].startswith("cockpit"):
            if "first_request_median_ms" in r:
                lines.append(f"cockpit, first request after the day change at {r['hazards']:,} hazards: median "
                             f"{r['first_request_median_ms']} ms of {r['rounds']} days, queries {r['queries']}")
            else:
                lines.append(f"cockpit after midnight at {r['hazards']:,} hazards / {r['institutions']:,} "
                             f"institutions, cache empty: first {r['first_ms']} ms ({r['queries']} queries), "
                             f"median {r['cold_median_ms']} ms")
    return lines
