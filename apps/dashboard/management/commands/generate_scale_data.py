"""Build a province-sized dataset for benchmarks: ``manage.py generate_scale_data``.

Defaults: a province (4 cities of 3 districts each) with 120 townships, 10,000 institutions,
1,000,000 hazards over five years, fire incidents, the current risk of every institution, and — once the monitoring app is installed
— its devices and 10,000,000 readings. Written with COPY on PostgreSQL (bulk_create on
SQLite, for small runs), without signals or the trail. Run it on an empty, migrated database.
"""
import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.assessment.choices import IncidentCause
from apps.assessment.models import FireIncident, InstitutionRisk, RiskSnapshot
from apps.assessment.risk import refresh_risk
from apps.dashboard.scale import analyze, bulk_insert
from apps.hazards.choices import OPEN_STATES, HazardCategory, HazardLevel, HazardSource, HazardState
from apps.hazards.models import Hazard
from apps.ledger.choices import InstitutionKind as K
from apps.ledger.models import Building, Institution
from apps.orgs.choices import OrgKind, Role
from apps.orgs.models import Organization, User

PREFIX = "规模"
KINDS = [(K.ELDERLY_CARE, 50), (K.COMMUNITY_CARE, 20), (K.DESTITUTE_SUPPORT, 8), (K.CHILD_WELFARE, 5),
         (K.MINOR_PROTECTION, 3), (K.RELIEF_STATION, 3), (K.MENTAL_WELFARE, 3), (K.FUNERAL, 5), (K.OTHER, 3)]
CATEGORIES = [(HazardCategory.ELECTRICAL, 30), (HazardCategory.EVACUATION, 20), (HazardCategory.FACILITIES, 20),
              (HazardCategory.MANAGEMENT, 12), (HazardCategory.IGNITION, 8), (HazardCategory.GAS, 4),
              (HazardCategory.BUILDING, 4), (HazardCategory.OTHER, 2)]
DESCRIPTIONS = ["插线板串接使用", "疏散通道堆放杂物", "灭火器过期", "应急照明损坏", "电动自行车室内充电",
                "常闭式防火门常开", "消防控制室单人值班", "电线私拉乱接", "厨房油烟管道未清洗", "未按时夜间巡查"]
BENCH_PASSWORD = "bench-pass-2026"


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


class Command(BaseCommand):
    help = "Generate a province-sized dataset (institutions, hazards, incidents, risk; readings with monitoring)."

    def add_arguments(self, parser):
        parser.add_argument("--townships", type=int, default=120)
        parser.add_argument("--institutions", type=int, default=10000)
        parser.add_argument("--hazards", type=int, default=1000000)
        parser.add_argument("--readings", type=int, default=10000000)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--device-history-days", type=int, default=90,
                            help="Days of readings of one more device, for the month and quarter charts (0: none).")
        parser.add_argument("--readings-only", action="store_true",
                            help="Add the monitoring devices and readings to an existing scale dataset.")

    def log(self, msg):
        self.stdout.write(f"[{time.monotonic() - self.t0:7.1f}s] {msg}")
        self.stdout.flush()

    def handle(self, *args, **o):
        self.t0 = time.monotonic()
        self.history_days = o["device_history_days"]
        self.rng = random.Random(o["seed"])
        self.now = timezone.now()
        if o["readings_only"]:
            ids = list(Institution.objects.filter(name__startswith=PREFIX).order_by("pk").values_list("pk", flat=True))
            if not ids:
                raise CommandError("No scale data here: run without --readings-only first.")
            self.readings(ids, o["readings"])
            refresh_risk(ids, now=self.now)
            self.log("risk of every institution recomputed")
            return
        if Institution.objects.filter(name__startswith=PREFIX).exists():
            raise CommandError("Scale data already exists here; use an empty database (e.g. fs_scale).")
        with transaction.atomic():
            townships = self.tree(o["townships"])
            inst_ids = self.institutions(townships, o["institutions"])
        self.log(f"{len(inst_ids)} institutions and their buildings")
        with transaction.atomic():
            n = self.hazards(inst_ids, o["hazards"], o["years"])
        from apps.dashboard.cache import bump_all_months

        bump_all_months()  # written around the signals: the cockpit's cached months are redone
        self.log(f"{n} hazards")
        with transaction.atomic():
            n = self.incidents(inst_ids, o["years"])
        self.log(f"{n} fire incidents")
        self.readings(inst_ids, o["readings"])
        analyze(Institution, Building, Hazard, FireIncident)
        refresh_risk(inst_ids, now=self.now)
        analyze(InstitutionRisk, RiskSnapshot)
        self.log("risk of every institution computed")
        self.stdout.write(self.style.SUCCESS(f"done in {time.monotonic() - self.t0:.0f}s; users bench_leader "
                                             f"(province), bench_city, bench_district, bench_town "
                                             f"(password {BENCH_PASSWORD})"))

    def tree(self, n, cities=4, districts_per_city=3):
        """A real province: the department → ``cities`` city bureaus → ``districts_per_city`` district
        bureaus each → ``n`` townships shared out among the districts (the same total as before)."""
        def node(name, kind, parent, **extra):
            org, _ = Organization.objects.get_or_create(name=name, defaults={"kind": kind, "parent": parent, **extra})
            if (org.kind, org.parent_id) != (kind, parent.pk if parent else None):  # a tree generated before
                org.kind, org.parent = kind, parent
                org.save()
            return org

        province = node(f"{PREFIX}省民政厅", OrgKind.PROVINCE, None)
        node(f"{PREFIX}养老服务处", OrgKind.SECTION, province,
             institution_kinds=[K.ELDERLY_CARE, K.COMMUNITY_CARE, K.DESTITUTE_SUPPORT])
        districts = []
        for c in range(cities):
            city = node(f"{PREFIX}第{c + 1}市民政局", OrgKind.CITY, province, order=c)
            districts += [node(f"{PREFIX}第{c + 1}市第{d + 1}区民政局", OrgKind.BUREAU, city, order=d)
                          for d in range(districts_per_city)]
        townships = [node(f"{PREFIX}第{i + 1:03d}乡镇", OrgKind.TOWNSHIP, districts[i % len(districts)], order=i)
                     for i in range(n)]
        for username, role, org in (("bench_leader", Role.LEADER, province), ("bench_city", Role.LEADER,
                                    districts[0].parent), ("bench_district", Role.LEADER, districts[0]),
                                    ("bench_town", Role.TOWNSHIP, townships[0])):
            if not User.objects.filter(username=username).exists():
                user = User(username=username, role=role, organization=org, full_name=username)
                user.set_password(BENCH_PASSWORD)
                user.save()
        return townships

    def institutions(self, townships, n):
        rng = self.rng

        def rows():
            for i in range(n):
                kind = _weighted(rng, KINDS)
                beds = rng.choice([0, 20, 40, 60, 80, 120, 200, 300]) if kind != K.FUNERAL else 0
                residents = int(beds * rng.uniform(0.5, 0.95))
                staff = max(3, beds // 6 + rng.randint(0, 5))
                yield dict(name=f"{PREFIX}机构{i:05d}", kind=kind, nature=rng.choice(["public", "private"]),
                           township_id=townships[i % len(townships)].pk, address=f"第{i}号",
                           beds=beds, residents=residents, residents_disabled=int(residents * rng.uniform(0, 0.4)),
                           residents_bedridden=int(residents * rng.uniform(0, 0.2)), staff_count=staff,
                           night_staff_count=max(1, staff // 5), has_sprinklers=rng.random() < 0.6,
                           has_auto_alarm=rng.random() < 0.7, has_electrical_monitoring=rng.random() < 0.4,
                           is_key_unit=beds >= 100)
        bulk_insert(Institution, rows())
        ids = list(Institution.objects.filter(name__startswith=PREFIX).order_by("pk").values_list("pk", flat=True))

        def buildings():
            for iid in ids:
                yield dict(institution_id=iid, name="主楼", floors_above=rng.randint(1, 8),
                           year_built=rng.randint(1975, 2023),
                           colour_steel="combustible" if rng.random() < 0.05 else "none",
                           safety_rating=rng.choice(["A", "B", "B", "C", ""]))
        bulk_insert(Building, buildings())
        return ids

    def hazards(self, inst_ids, n, years):
        rng, now = self.rng, self.now
        span = years * 365 * 86400

        def rows():
            for _ in range(n):
                age = rng.random() ** 1.5 * span  # more recent hazards than old ones
                found = now - datetime.timedelta(seconds=age)
                days = age / 86400
                p_open = 0.6 if days < 30 else (0.2 if days < 180 else 0.02)
                level = HazardLevel.MAJOR if rng.random() < 0.03 else HazardLevel.GENERAL
                row = dict(institution_id=rng.choice(inst_ids), category=_weighted(rng, CATEGORIES),
                           description=rng.choice(DESCRIPTIONS), source=rng.choice(list(HazardSource.values)),
                           found_at=found, found_by_name="巡查员", level=level,
                           deadline=(found + datetime.timedelta(days=rng.choice([7, 15, 30, 60]))).date(),
                           reopened_count=1 if rng.random() < 0.02 else 0, created=found, updated=found)
                if rng.random() < p_open:
                    row["state"] = rng.choice(OPEN_STATES)
                else:
                    closed = min(now, found + datetime.timedelta(days=rng.uniform(0.5, 45)))
                    row.update(state=HazardState.CLOSED, rectified_at=closed, verified_at=closed, closed_at=closed,
                               measures="已整改")
                yield row
        return bulk_insert(Hazard, rows())

    def incidents(self, inst_ids, years):
        rng, now = self.rng, self.now
        n = max(1, len(inst_ids) // 20)

        def rows():
            for _ in range(n):
                yield dict(institution_id=rng.choice(inst_ids), occurred_at=now - datetime.timedelta(
                    seconds=rng.uniform(0, years * 365 * 86400)), place="配电间",
                    cause=rng.choice(list(IncidentCause.values)), deaths=1 if rng.random() < 0.02 else 0,
                    injuries=rng.choice([0, 0, 0, 1]), direct_loss=rng.randint(0, 50000), handling="扑灭")
        return bulk_insert(FireIncident, rows())

    def readings(self, inst_ids, n):
        from django.apps import apps

        if not apps.is_installed("apps.monitoring") or not hasattr(apps.get_app_config("monitoring"), "models_module") \
                or apps.get_app_config("monitoring").models_module is None:
            self.log("monitoring app not installed: no readings")
            return
        from apps.dashboard.scale_monitoring import generate_readings

        generate_readings(self, inst_ids, n)
