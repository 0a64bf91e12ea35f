"""The ledger list page and API list with 10⁵ institutions.

Baseline: the same page of rows fetched with one raw SQL query (what the database alone
costs). Subject: the whole request through Django (scope, filters, pagination, template or
serializer). Reported: medians, the ratio, and the query count of each request.
"""
import random

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.util import alternate

N = 100_000


def _ensure_data():
    from apps.ledger.models import Institution
    from apps.orgs.choices import OrgKind, Role
    from apps.orgs.models import Organization, User

    bureau, _ = Organization.objects.get_or_create(name="基准区民政局", defaults={"kind": OrgKind.BUREAU})
    townships = [Organization.objects.get_or_create(name=f"基准镇{i:02d}", defaults={
        "kind": OrgKind.TOWNSHIP, "parent": bureau})[0] for i in range(20)]
    have = Institution.objects.filter(name__startswith="基准机构").count()
    rng = random.Random(1)
    kinds = ["elderly_care", "child_welfare", "funeral", "community_care"]
    rows = [Institution(name=f"基准机构{i:06d}", township=townships[i % 20], kind=kinds[i % 4], nature="private",
                        address="基准路1号", beds=rng.randint(10, 300), residents=5)
            for i in range(have, N)]
    Institution.objects.bulk_create(rows, batch_size=5000)  # bulk: no trail entries, a benchmark fixture
    small, created = Organization.objects.get_or_create(name="基准小镇", defaults={"kind": OrgKind.TOWNSHIP,
                                                                              "parent": bureau})
    if created:
        Institution.objects.bulk_create([Institution(name=f"小镇机构{i:03d}", township=small, kind="elderly_care",
                                                     nature="public", address="小镇路1号") for i in range(50)])
    small_user = User.objects.filter(username="bench_small").first() or User.objects.create_user(
        "bench_small", password="bench-pass-2026", role=Role.TOWNSHIP, organization=small)
    leader = User.objects.filter(username="bench_leader").first()
    if leader is None:
        leader = User.objects.create_user("bench_leader", password="bench-pass-2026", role=Role.LEADER,
                                          organization=bureau)
    town = User.objects.filter(username="bench_town").first()
    if town is None:
        town = User.objects.create_user("bench_town", password="bench-pass-2026", role=Role.TOWNSHIP,
                                        organization=townships[0])
    return leader, town, small_user


def _raw_page():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, i.name, i.kind, o.name, i.beds, i.residents FROM ledger_institution i "
            "JOIN orgs_organization o ON o.id = i.township_id ORDER BY i.name, i.id LIMIT 50 OFFSET 500")
        return cursor.fetchall()


def run():
    leader, town, small_user = _ensure_data()
    results = []
    small = Client()
    small.force_login(small_user)
    # Scaling: the same request over 10^5 rows against one over a 50-row township.
    for kind, url in (("page", "/ledger/"), ("api", "/api/v1/institutions/")):
        big = Client()
        big.force_login(leader)
        row = alternate(lambda u=url, c=big: c.get(u), lambda u=url: small.get(u), rounds=9)
        row.update(what=f"ledger {kind} list: 10^5 rows (leader) vs 50 rows (small township) - ratio near 1 means flat")
        results.append(row)
    for label, user in (("bureau leader (all 10^5)", leader), ("township officer (1/20)", town)):
        client = Client()
        client.force_login(user)
        for kind, url in (("page", "/ledger/?page=11"), ("api", "/api/v1/institutions/?page=11")):
            connection.queries_log.clear()  # a full log (maxlen) would hide the count
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            row = alternate(lambda u=url, c=client: c.get(u), _raw_page, rounds=9)
            row.update(what=f"ledger {kind} list page 11, {label}, vs one raw SQL query for the same rows",
                       queries=len(ctx.captured_queries))
            results.append(row)
    return results
