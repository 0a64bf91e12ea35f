"""The cockpit on a province (4 cities × 3 districts × 10 townships, 3,000 institutions, 3·10⁴
hazards), inside a rolled-back transaction: the province leader, a city leader and a district
leader, each building the cockpit from scratch (no cache). Baseline: one raw SQL count of the open
hazards of the scope (what the database alone costs for the cheapest figure). Reported: medians,
the ratio baseline/subject and the query count of each build (the same at every level).
"""
import datetime
import random

from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.util import alternate

INSTITUTIONS = 3000
HAZARDS = 30_000


class _Rollback(Exception):
    pass


def _data():
    from apps.hazards.models import Hazard
    from apps.ledger.models import Institution
    from apps.orgs.choices import OrgKind, Role
    from apps.orgs.models import Organization, User

    province = Organization.objects.create(name="基准层级省民政厅", kind=OrgKind.PROVINCE)
    cities = [Organization.objects.create(name=f"基准层级第{c}市", kind=OrgKind.CITY, parent=province)
              for c in range(4)]
    districts = [Organization.objects.create(name=f"基准层级第{c}市第{d}区", kind=OrgKind.BUREAU, parent=city)
                 for c, city in enumerate(cities) for d in range(3)]
    townships = [Organization.objects.create(name=f"基准层级镇{i:03d}", kind=OrgKind.TOWNSHIP,
                                             parent=districts[i % len(districts)]) for i in range(120)]
    institutions = Institution.objects.bulk_create([
        Institution(name=f"基准层级机构{i:05d}", township=townships[i % 120], kind="elderly_care", nature="private",
                    address="基准路1号") for i in range(INSTITUTIONS)])
    rng = random.Random(1)
    now, today = timezone.now(), timezone.localdate()
    states = ["registered", "rectifying", "awaiting_verification", "closed"]
    Hazard.objects.bulk_create([Hazard(
        institution=institutions[i % INSTITUTIONS], category=rng.choice(["electrical", "evacuation", "gas"]),
        description=f"基准层级隐患{i}", source="self_inspection", level="major" if i % 50 == 0 else "general",
        state=states[i % 4], found_at=now - datetime.timedelta(hours=i % 8000),
        deadline=today + datetime.timedelta(days=rng.randint(-30, 30)),
        closed_at=now if i % 4 == 3 else None) for i in range(HAZARDS)], batch_size=5000)
    users = {}
    for label, org in (("province", province), ("city", cities[0]), ("district", districts[0])):
        users[label] = (User.objects.create_user(f"bench_tier_{label}", password="bench-pass-2026",
                                                 role=Role.LEADER, organization=org), org)
    return users


def _raw_open(path):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM hazards_hazard h JOIN ledger_institution i ON i.id = h.institution_id "
                "JOIN orgs_organization o ON o.id = i.township_id WHERE o.path LIKE %s AND h.state <> 'closed'",
                [path + "%"])
            return cursor.fetchone()
    return run


def run():
    from apps.dashboard.cockpit import Cockpit

    results = []
    try:
        with transaction.atomic():
            users = _data()
            for label, (user, org) in users.items():
                def build(u=user):
                    cache.clear()
                    return Cockpit(u)
                build()  # the risk rows of the scope are computed once
                with CaptureQueriesContext(connection) as ctx:
                    build()
                row = alternate(build, _raw_open(org.path), rounds=5)
                row.update(what=f"cockpit of the {label} leader ({org.name}), vs one raw count of its open hazards",
                           subject_median_ms=round(row["subject_median_s"] * 1000, 1),
                           baseline_median_ms=round(row["baseline_median_s"] * 1000, 1),
                           queries=len(ctx.captured_queries))
                results.append(row)
            raise _Rollback
    except _Rollback:
        pass
    return results
