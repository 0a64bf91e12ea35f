"""Read-only figures over many institutions at once (for the cockpit and the risk score)."""
from datetime import timedelta

from django.db.models import Count, Q

from .choices import OPEN_ALARM_STATES
from .models import Alarm, Device


def institution_device_stats(institution_ids, now):
    """{institution id: {devices, offline_devices, active_alarms, alarms_30d}} for EVERY id given.

    A constant number of grouped queries; offline is derived from last-seen time.
    """
    ids = list(institution_ids)
    out = {i: {"devices": 0, "offline_devices": 0, "active_alarms": 0, "alarms_30d": 0} for i in ids}
    if not ids:
        return out
    base = Device.objects.filter(institution_id__in=ids, is_active=True)
    for row in base.values("institution_id").annotate(n=Count("id")):
        out[row["institution_id"]]["devices"] = row["n"]
    for row in base.offline(now).values("institution_id").annotate(n=Count("id")):
        out[row["institution_id"]]["offline_devices"] = row["n"]
    since = now - timedelta(days=30)
    alarms = (Alarm.objects.filter(institution_id__in=ids)
              .filter(Q(state__in=OPEN_ALARM_STATES) | Q(opened_at__gte=since))
              .values("institution_id")
              .annotate(active=Count("id", filter=Q(state__in=OPEN_ALARM_STATES)),
                        recent=Count("id", filter=Q(opened_at__gte=since))))
    for row in alarms:
        out[row["institution_id"]]["active_alarms"] = row["active"]
        out[row["institution_id"]]["alarms_30d"] = row["recent"]
    return out


def one_institution_stats(institution_id, now):
    """The same figures for one institution in two queries (for the institution page panel)."""
    out = {"devices": 0, "offline_devices": 0, "active_alarms": 0, "alarms_30d": 0}
    for last_seen, window in Device.objects.filter(institution_id=institution_id, is_active=True).values_list(
            "last_seen", "offline_after_minutes"):
        out["devices"] += 1
        if last_seen is None or last_seen < now - timedelta(minutes=window):
            out["offline_devices"] += 1
    since = now - timedelta(days=30)
    row = Alarm.objects.filter(institution_id=institution_id).aggregate(
        active=Count("id", filter=Q(state__in=OPEN_ALARM_STATES)), recent=Count("id", filter=Q(opened_at__gte=since)))
    out["active_alarms"], out["alarms_30d"] = row["active"], row["recent"]
    return out
