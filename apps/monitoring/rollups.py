"""The rollup job: hourly device and township rollups of the hours that received readings.

Ingest writes readings and one ``RollupMark`` per hour a batch touched (with the devices); this job
takes the marks and recomputes those devices' rollups of those hours from the raw readings (delete
and insert, so running it twice gives the same rows), then the township rollups of those hours
from the device rollups. Marks are taken and rollups written in one transaction: a chart sees
either the mark (and reads that hour raw) or the new rollups, never a half-done hour. A mark made
by a batch still in progress is not visible to the job and stays for its next run.

Runs in the MQTT consumer every ``--rollup-every`` seconds and as the scheduled job
``monitoring_hourly_rollups``; jobs of several processes take turns (an advisory lock on PostgreSQL).
"""
from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum

from .choices import ROLLUP_CHANNELS

LOCK_KEY = 0x46534852  # "FSHR": one rollup job at a time
_HOUR = timedelta(hours=1)

_DEVICE_SQL = (
    "INSERT INTO monitoring_hourlyrollup (device_id, channel, hour, min, max, sum, count) "
    "SELECT r.device_id, v.channel, %s, min(v.val), max(v.val), sum(v.val), count(*) "
    "FROM monitoring_reading r CROSS JOIN LATERAL (VALUES "
    + ", ".join(f"('{c}', r.{c}::double precision)" for c in ROLLUP_CHANNELS)
    + ") AS v(channel, val) WHERE {devices}r.ts >= %s AND r.ts < %s AND v.val IS NOT NULL "
    "GROUP BY r.device_id, v.channel"
)
DEVICE_SQL = _DEVICE_SQL.format(devices="r.device_id IN (SELECT unnest(%s::bigint[])) AND ")
EVERY_DEVICE_SQL = _DEVICE_SQL.format(devices="")
_AREA_SQL = (
    "INSERT INTO monitoring_areahourlyrollup (township_id, channel, hour, min, max, sum, count) "
    "SELECT i.township_id, r.channel, r.hour, min(r.min), max(r.max), sum(r.sum), sum(r.count) "
    "FROM monitoring_hourlyrollup r JOIN monitoring_device d ON d.id = r.device_id "
    "JOIN ledger_institution i ON i.id = d.institution_id "
    "WHERE r.hour = %s AND {townships} GROUP BY i.township_id, r.channel, r.hour"
)
AREA_SQL = _AREA_SQL.format(townships="i.township_id IN (SELECT unnest(%s::bigint[]))")
EVERY_AREA_SQL = _AREA_SQL.format(townships="i.township_id IS NOT NULL")


def roll_up_hours(limit=None):
    """Consume the rollup marks (at most ``limit``, oldest first); returns the number of hours done."""
    from .models import RollupMark

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        marks = RollupMark.objects.order_by("id")
        if limit:
            marks = marks[:limit]
        marks = list(marks.values_list("id", "hour", "devices"))
        if not marks:
            return 0
        hours, every = defaultdict(set), set()
        for _id, hour, devices in marks:
            if devices is None:  # every device with readings in the hour
                every.add(hour)
            else:
                hours[hour].update(devices)
        RollupMark.objects.filter(id__in=[m[0] for m in marks]).delete()
        for hour in sorted(set(hours) | every):
            roll_up_hour(hour, None if hour in every else sorted(hours[hour]))
    return len(set(hours) | every)


def roll_up_hour(hour, device_ids):
    """Recompute the device rollups of ``device_ids`` (None: every device) and their townships' rollups
    for one UTC hour."""
    from .models import AreaHourlyRollup, Device, HourlyRollup, Reading

    if device_ids is None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM monitoring_hourlyrollup WHERE hour = %s", [hour])
                cursor.execute(EVERY_DEVICE_SQL, [hour, hour, hour + _HOUR])
                cursor.execute("DELETE FROM monitoring_areahourlyrollup WHERE hour = %s", [hour])
                cursor.execute(EVERY_AREA_SQL, [hour])
            return
        device_ids = sorted(set(Reading.objects.filter(ts__gte=hour, ts__lt=hour + _HOUR)
                                .values_list("device_id", flat=True).distinct()) |
                            set(HourlyRollup.objects.filter(hour=hour).values_list("device_id", flat=True)))
    if connection.vendor == "postgresql":
        # Arrays joined as sets (a hashed semi-join), not IN lists nor = ANY(array) compared row by
        # row: an hour may concern 50,000 devices.
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT i.township_id FROM monitoring_device d JOIN ledger_institution i "
                           "ON i.id = d.institution_id WHERE d.id IN (SELECT unnest(%s::bigint[])) AND i.township_id IS NOT NULL",
                           [device_ids])
            townships = sorted(r[0] for r in cursor.fetchall())
            cursor.execute("DELETE FROM monitoring_hourlyrollup WHERE hour = %s AND device_id IN (SELECT unnest(%s::bigint[]))",
                           [hour, device_ids])
            cursor.execute(DEVICE_SQL, [hour, device_ids, hour, hour + _HOUR])
            if townships:
                cursor.execute("DELETE FROM monitoring_areahourlyrollup WHERE hour = %s "
                               "AND township_id IN (SELECT unnest(%s::bigint[]))",
                               [hour, townships])
                cursor.execute(AREA_SQL, [hour, townships])
        return
    townships = sorted(set(Device.objects.filter(pk__in=device_ids).values_list("institution__township_id",
                                                                                 flat=True)) - {None})
    HourlyRollup.objects.filter(hour=hour, device_id__in=device_ids).delete()
    AreaHourlyRollup.objects.filter(hour=hour, township_id__in=townships).delete()
    rows = []
    readings = Reading.objects.filter(device_id__in=device_ids, ts__gte=hour, ts__lt=hour + _HOUR)
    for channel in ROLLUP_CHANNELS:
        for r in (readings.filter(**{f"{channel}__isnull": False}).values("device_id").order_by()
                  .annotate(lo=Min(channel), hi=Max(channel), total=Sum(channel), n=Count(channel))):
            rows.append(HourlyRollup(device_id=r["device_id"], channel=channel, hour=hour, min=r["lo"], max=r["hi"],
                                     sum=r["total"], count=r["n"]))
    HourlyRollup.objects.bulk_create(rows)
    if townships:
        area = (HourlyRollup.objects.filter(hour=hour, device__institution__township_id__in=townships)
                .values("device__institution__township_id", "channel").order_by()
                .annotate(lo=Min("min"), hi=Max("max"), total=Sum("sum"), n=Sum("count")))
        AreaHourlyRollup.objects.bulk_create([
            AreaHourlyRollup(township_id=a["device__institution__township_id"], channel=a["channel"], hour=hour,
                             min=a["lo"], max=a["hi"], sum=a["total"], count=a["n"]) for a in area])
