"""Periodic, idempotent notices: a missed night patrol is told to the institution and its township.

Correctness never depends on this running: the missed-patrol pages derive the same facts from the
records; this only pushes them. ``dedup_key`` makes a rerun send nothing new.
"""
import datetime
from collections import defaultdict

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import scope
from apps.core.notifications import notify, scheduled
from apps.ledger.models import Institution
from apps.orgs.models import User

from .compliance import missed_patrols


@scheduled
def notify_missed_night_patrols(today=None):
    """Notify last night's missed night patrols (per institution, once)."""
    today = today or timezone.localdate()
    night = today - datetime.timedelta(days=1)
    institutions = list(Institution.objects.filter(is_active=True).only("id", "kind", "name", "township_id"))
    found = missed_patrols(institutions, night, night)
    missed = {pk: [m for m in misses if m.kind == "night"] for pk, misses in found.items()}
    missed = {pk: misses for pk, misses in missed.items() if misses}
    if not missed:
        return 0
    by_id = {i.pk: i for i in institutions}
    townships = {by_id[pk].township_id for pk in missed}
    officers, staff = defaultdict(list), defaultdict(list)
    for user in User.objects.filter(scope.reached_through_q("township_id", townships)):
        officers[user.organization_id].append(user)
    for user in User.objects.filter(scope.reached_through_q("id", list(missed))):
        staff[user.institution_id].append(user)
    sent = 0
    for pk, misses in missed.items():
        inst = by_id[pk]
        gap = misses[0]
        title = _("Missed night patrol at %(name)s: no round from %(a)s to %(b)s") % {
            "name": inst.name, "a": timezone.localtime(gap.gap_from).strftime("%m-%d %H:%M"),
            "b": timezone.localtime(gap.gap_to).strftime("%m-%d %H:%M")}
        url = reverse("inspections:missed_patrols") + f"?institution={pk}&since={night.isoformat()}"
        sent += len(notify(staff[pk] + officers[inst.township_id], "patrol.missed", title, url=url, target=inst,
                           dedup_key=f"patrol.missed:{pk}:{night.isoformat()}"))
    return sent
