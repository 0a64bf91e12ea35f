"""Obligations for every person in the district: grouped (two queries) vs per person (N queries).

Runs against the configured database when it holds the demo district (``seed_demo``, ~800 people);
``BENCH_SEED_DEMO=1`` seeds it first on a database without staff, otherwise the module is skipped.
"""
from django.db.models import F, Max
from django.utils import timezone

from benchmarks.util import Skip, alternate


def run():
    from apps.training.metrics import institution_compliance
    from apps.training.models import Attendance, StaffMember
    from apps.training.obligations import evaluate, evaluate_person, load_rules, rules_for

    today = timezone.localdate()
    staff = list(StaffMember.objects.annotate(inst_kind=F("institution__kind")))
    if not staff:  # a fresh benchmark database: the demo district has ~800 staff
        import os

        if os.environ.get("BENCH_SEED_DEMO") != "1":
            # In a full `make bench` this module comes last, on a database the other modules filled
            # (10⁵ hazards, the tier tree): seed_demo there ran 35 minutes at 6 GB RSS without
            # finishing (2026-12-01), so the default run does not seed it.
            raise Skip("no staff on this database: run `manage.py seed_demo` first, or BENCH_SEED_DEMO=1")
        from django.core.management import call_command

        call_command("seed_demo", quiet=True)
        staff = list(StaffMember.objects.annotate(inst_kind=F("institution__kind")))

    def grouped():
        evaluate(StaffMember.objects.annotate(inst_kind=F("institution__kind")), today)

    def per_person():
        rules = load_rules()
        for s in StaffMember.objects.annotate(inst_kind=F("institution__kind")):
            dates = dict(Attendance.objects.filter(staff=s).values("session__category")
                         .annotate(last=Max("session__date")).values_list("session__category", "last"))
            evaluate_person(s, dates, rules_for(s.inst_kind, rules), today)

    ids = list(StaffMember.objects.values_list("institution_id", flat=True).order_by().distinct())
    rows = [{"measured": f"obligations of {len(staff)} people", "baseline": "one attendance query per person",
             **alternate(grouped, per_person, rounds=5)}]
    rows.append({"measured": f"institution_compliance for {len(ids)} institutions",
                 "baseline": "per-institution calls",
                 **alternate(lambda: institution_compliance(ids, today),
                             lambda: [institution_compliance([i], today) for i in ids], rounds=3)})
    return rows
