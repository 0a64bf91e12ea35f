"""Read functions for the cockpit and the risk score (the contract in the brief).

Pure reads over many institutions at once with a constant number of grouped queries; an entry
for every id given.
"""
import datetime

from django.db.models import Count, F, Max, Q

from apps.ledger.models import Institution

from .choices import ObligationStatus
from .models import Drill, StaffMember
from .obligations import drill_interval, evaluate, load_drill_rules


def institution_compliance(institution_ids, today) -> dict[int, dict]:
    """{id: {staff, people_overdue, drill_ok, last_drill, drills_12m}} for every id given.

    Queries: institutions, staff, attendance dates, obligation rules, drill rules, drills (6).
    """
    ids = [int(i) for i in institution_ids]
    out = {i: {"staff": 0, "people_overdue": 0, "drill_ok": False, "last_drill": None, "drills_12m": 0}
           for i in ids}
    if not ids:
        return out
    insts = {row["id"]: row for row in Institution.objects.filter(pk__in=ids).values("id", "kind", "is_key_unit")}
    staff = (StaffMember.objects.filter(institution_id__in=ids, hired_on__lte=today)
             .filter(Q(left_on__isnull=True) | Q(left_on__gt=today))
             .annotate(inst_kind=F("institution__kind")))
    for person in evaluate(staff, today):
        entry = out[person.staff.institution_id]
        entry["staff"] += 1
        if person.status == ObligationStatus.OVERDUE:
            entry["people_overdue"] += 1
    year_ago = today - datetime.timedelta(days=365)
    drills = (Drill.objects.filter(institution_id__in=ids, date__lte=today).values("institution_id")
              .annotate(last=Max("date"), n=Count("id", filter=Q(date__gt=year_ago))).order_by())
    rules = load_drill_rules()
    for row in drills:
        entry = out[row["institution_id"]]
        entry["last_drill"] = row["last"]
        entry["drills_12m"] = row["n"]
    for i in ids:
        inst = insts.get(i)
        last = out[i]["last_drill"]
        if inst and last:
            interval = drill_interval(inst["kind"], inst["is_key_unit"], rules)
            out[i]["drill_ok"] = (today - last).days <= interval
    return out
