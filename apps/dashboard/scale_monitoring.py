"""Devices, readings, hourly rollups and alarms for the scale dataset (monitoring app).

One device per institution with electrical-fire monitoring; readings every 10 seconds up to
now (residual current, a cable temperature, phase-A current and voltage), written with COPY
straight into the readings table in time order (devices interleaved, as they arrive); the hourly rollups are then built from them in one
INSERT … SELECT (the same rollups the ingest path keeps), and the township rollups from those; a few
active and recent alarms.
"""
import datetime
import time

from django.db import connection, transaction
from django.utils import timezone

from apps.dashboard.scale import analyze, bulk_insert

INTERVAL = 10  # seconds between two readings of a device (electrical monitors report every 10–30 s)
CHANNELS = ("residual_ma", "t1", "ia", "ua")


def generate_readings(command, inst_ids, n):
    from apps.ledger.models import Institution
    from apps.monitoring.models import Alarm, Device, HourlyRollup, Reading

    rng, now = command.rng, command.now.replace(microsecond=0)
    if Device.objects.filter(code__startswith="SCALE-").exists():
        command.log("devices already generated")
        _long_history(command)
        return
    monitored = list(Institution.objects.filter(pk__in=inst_ids, has_electrical_monitoring=True)
                     .values_list("pk", flat=True))
    with transaction.atomic():
        bulk_insert(Device, ({"institution_id": iid, "code": f"SCALE-{iid:06d}", "name": "总配电箱监测",
                              "kind": "combined", "location": "一层配电间",
                              "last_seen": now - datetime.timedelta(
                                  minutes=rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 1, 600]))}
                             for iid in monitored))
    devices = list(Device.objects.filter(code__startswith="SCALE-").values_list("pk", "institution_id"))
    command.log(f"{len(devices)} devices")
    per_device = max(1, n // max(1, len(devices)))
    start = now - datetime.timedelta(seconds=INTERVAL * per_device)
    t0 = time.monotonic()
    if connection.vendor == "postgresql":
        cols = ["device_id", "ts", *CHANNELS]
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY monitoring_reading ({', '.join(cols)}) FROM STDIN") as copy:
                # In time order, devices interleaved, as ingest writes them when they arrive.
                base = {device_id: rng.uniform(40, 220) for device_id, _ in devices}
                for k in range(per_device):
                    ts = start + datetime.timedelta(seconds=INTERVAL * k)
                    for device_id, _ in devices:
                        copy.write_row((device_id, ts, round(base[device_id] + rng.uniform(-15, 15), 1),
                                        round(35 + rng.uniform(-5, 20), 1), round(rng.uniform(5, 60), 1),
                                        round(220 + rng.uniform(-8, 8), 1)))
    else:
        rows = ({"device_id": d, "ts": start + datetime.timedelta(seconds=INTERVAL * k), "residual_ma": 100.0,
                 "t1": 40.0, "ia": 10.0, "ua": 220.0} for d, _ in devices for k in range(per_device))
        bulk_insert(Reading, rows)
    command.log(f"{per_device * len(devices)} readings in {time.monotonic() - t0:.0f}s")
    _build_rollups(HourlyRollup, Reading)
    from apps.monitoring.areas import rebuild_area_rollups

    rebuild_area_rollups()
    command.log("hourly rollups (devices and townships)")
    with transaction.atomic():
        bulk_insert(Alarm, _alarms(rng, now, devices))
    _long_history(command)
    from apps.monitoring.daily import roll_up_days

    command.log(f"{roll_up_days()} daily rollups")
    from apps.monitoring.models import AreaHourlyRollup

    analyze(Device, Reading, HourlyRollup, AreaHourlyRollup, Alarm)


LONG_CODE = "SCALE-LONG-000001"


def _long_history(command):
    """One more device with ``--device-history-days`` (90) of readings every 10 s (777,600): what a
    device's month and quarter charts read, for the benchmark of the device chart (the other
    devices hold a few hours)."""
    from apps.monitoring.areas import rebuild_area_rollups
    from apps.monitoring.models import Device

    days = getattr(command, "history_days", 90)
    if days <= 0 or connection.vendor != "postgresql" or Device.objects.filter(code=LONG_CODE).exists():
        return
    first = Device.objects.filter(code__startswith="SCALE-").order_by("pk").first()
    if first is None:
        return
    rng, now = command.rng, command.now.replace(microsecond=0)
    device = Device.objects.create(institution_id=first.institution_id, code=LONG_CODE, name="一层照明回路监测",
                                   kind="combined", location="一层配电间", last_seen=now)
    n = days * 24 * 3600 // INTERVAL
    start = now - datetime.timedelta(seconds=INTERVAL * n)
    cols = ["device_id", "ts", *CHANNELS]
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY monitoring_reading ({', '.join(cols)}) FROM STDIN") as copy:
            for k in range(n):
                copy.write_row((device.pk, start + datetime.timedelta(seconds=INTERVAL * k),
                                round(120 + rng.uniform(-30, 30), 1), round(35 + rng.uniform(-5, 20), 1),
                                round(rng.uniform(5, 60), 1), round(220 + rng.uniform(-8, 8), 1)))
    from apps.monitoring.models import HourlyRollup, Reading

    _build_rollups(HourlyRollup, Reading, device_ids=[device.pk])
    rebuild_area_rollups(start)
    from apps.monitoring.daily import roll_up_days

    roll_up_days(first=timezone.localtime(start).date())
    command.log(f"{n} readings of one device over {days} days")


def _build_rollups(HourlyRollup, Reading, device_ids=None):
    if connection.vendor != "postgresql":
        return
    values = ", ".join(f"('{c}', r.{c}::double precision)" for c in CHANNELS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO monitoring_hourlyrollup (device_id, channel, hour, min, max, sum, count) "
            "SELECT r.device_id, v.channel, date_trunc('hour', r.ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "
            "min(v.val), max(v.val), sum(v.val), count(*) "
            f"FROM monitoring_reading r CROSS JOIN LATERAL (VALUES {values}) AS v(channel, val) "
            "WHERE v.val IS NOT NULL AND r.device_id IN (SELECT id FROM monitoring_device WHERE code LIKE 'SCALE-%%') "
            + ("AND r.device_id = ANY(%s) " if device_ids else "")
            + "GROUP BY 1, 2, 3 ON CONFLICT (device_id, channel, hour) DO NOTHING", [device_ids] if device_ids else [])


def _alarms(rng, now, devices):
    for device_id, iid in devices:
        roll = rng.random()
        if roll < 0.05:
            opened = now - datetime.timedelta(hours=rng.uniform(0, 72))
            state = "active" if roll < 0.02 else ("acknowledged" if roll < 0.03 else "cleared")
            yield {"device_id": device_id, "institution_id": iid, "kind": "residual_ma", "channel": "residual_ma",
                   "severity": "warning", "state": state, "threshold": 300.0, "opened_at": opened, "last_at": opened,
                   "first_value": 320.0, "last_value": 330.0, "peak": 350.0,
                   "cleared_at": opened + datetime.timedelta(hours=1) if state == "cleared" else None}
