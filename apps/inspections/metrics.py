"""Read-only figures for the cockpit and the risk score (the contract in the brief).

``institution_compliance(institution_ids, today)`` answers for every id given with a constant
number of grouped queries (institutions, rules, patrol times, last inspections).
"""
import datetime

from django.utils import timezone

from apps.ledger.models import Institution

from .compliance import compliance


def institution_compliance(institution_ids, today=None) -> dict[int, dict]:
    """id -> patrol_ok, missed_patrols_30d, inspection_ok, last_inspection, self_assessment_ok."""
    today = today or timezone.localdate()
    ids = list(institution_ids)
    institutions = list(Institution.objects.filter(pk__in=ids).only("id", "kind"))
    # Judge up to the end of ``today`` as it stands now (or the whole day when asked about the past).
    now = min(timezone.now(), timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=1),
                                                                            datetime.time(0))))
    found = compliance(institutions, today, now=now)
    empty = {"patrol_ok": False, "missed_patrols_30d": 0, "inspection_ok": False, "last_inspection": None,
             "self_assessment_ok": False}
    out = {}
    for pk in ids:
        row = found.get(pk)
        out[pk] = {key: row[key] for key in empty} if row else dict(empty)
    return out
