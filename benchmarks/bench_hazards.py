"""The hazard register (page and API) with 10⁵ hazards, inside a rolled-back transaction.

Baseline: the same page of rows fetched with one raw SQL query (what the database alone
costs). Subject: the whole request through Django (scope, filters, pagination, template or
serializer). Reported: medians, the ratio baseline/subject, and the query count of each request.
Nothing is left behind: every row is created inside a transaction that is rolled back.
"""
import random
import statistics
import time

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.util import alternate

N = 100_000


class _Rollback(Exception):
    pass


def _data():
    import datetime

    from apps.hazards.models import Hazard
    from apps.ledger.models import Institution
    from apps.orgs.choices import OrgKind, Role
    from apps.orgs.models import Organization, User

    bureau = Organization.objects.create(name="基准隐患区民政局", kind=OrgKind.BUREAU)
    townships = [Organization.objects.create(name=f"基准隐患镇{i:02d}", kind=OrgKind.TOWNSHIP, parent=bureau)
                 for i in range(20)]
    institutions = Institution.objects.bulk_create([
        Institution(name=f"基准隐患机构{i:04d}", township=townships[i % 20], kind="elderly_care", nature="private",
                    address="基准路1号") for i in range(400)])
    rng = random.Random(1)
    now = timezone.now()
    today = timezone.localdate()
    states = ["registered", "rectifying", "awaiting_verification", "closed"]
    rows = []
    for i in range(N):
        state = states[i % 4]
        rows.append(Hazard(
            institution=institutions[i % 400], category=rng.choice(["electrical", "evacuation", "gas", "other"]),
            description=f"基准隐患{i}", source="self_inspection", level="major" if i % 50 == 0 else "general",
            state=state, found_at=now - datetime.timedelta(minutes=i),
            deadline=today + datetime.timedelta(days=rng.randint(-30, 30)),
            closed_at=now if state == "closed" else None))
    Hazard.objects.bulk_create(rows, batch_size=5000)  # bulk: no trail entries, a benchmark fixture
    leader = User.objects.create_user("bench_hz_leader", password="bench-pass-2026", role=Role.LEADER,
                                      organization=bureau)
    town = User.objects.create_user("bench_hz_town", password="bench-pass-2026", role=Role.TOWNSHIP,
                                    organization=townships[0])
    return leader, town


def _raw_page():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.id, h.description, h.category, h.level, h.state, h.deadline, h.found_at, i.name, o.name "
            "FROM hazards_hazard h JOIN ledger_institution i ON i.id = h.institution_id "
            "JOIN orgs_organization o ON o.id = i.township_id ORDER BY h.found_at DESC, h.id DESC LIMIT 50 OFFSET 500")
        return cursor.fetchall()


def _median_ms(fn, rounds=9):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times) * 1000, 1)


def run():
    results = []
    try:
        with transaction.atomic():
            leader, town = _data()
            for label, user in (("bureau leader (all 10^5)", leader), ("township officer (1/20)", town)):
                client = Client(HTTP_HOST="127.0.0.1")
                client.force_login(user)
                for kind, url in (("page", "/hazards/?page=11"), ("api", "/api/v1/hazards/?page=11"),
                                  ("open list", "/hazards/lists/open/?page=11"),
                                  ("responsibility list", "/hazards/lists/responsibility/?page=11"),
                                  ("overdue filter", "/hazards/?overdue=1&page=2")):
                    connection.queries_log.clear()
                    with CaptureQueriesContext(connection) as ctx:
                        assert client.get(url).status_code == 200, url
                    row = alternate(lambda u=url, c=client: c.get(u), _raw_page, rounds=9)
                    row.update(what=f"hazard {kind}, {label}, vs one raw SQL query for a page of rows",
                               subject_median_ms=round(row["subject_median_s"] * 1000, 1),
                               baseline_median_ms=round(row["baseline_median_s"] * 1000, 1),
                               queries=len(ctx.captured_queries))
                    results.append(row)
            raise _Rollback
    except _Rollback:
        pass
    return results
