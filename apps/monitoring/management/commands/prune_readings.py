"""python manage.py prune_readings --days 180 — retention of raw readings (the hourly rollups stay).

On PostgreSQL the readings are partitioned by month: the months wholly before the cutoff are
dropped (``DROP TABLE``, no row-by-row delete, no bloat); the rest before the cutoff (in the
month of the cutoff, or in the default partition) is deleted in batches.
"""
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone


class Command(BaseCommand):
    help = "Delete raw readings older than --days (default 180); hourly rollups are kept for charts."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=180)
        parser.add_argument("--batch", type=int, default=50000)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, **opts):
        from apps.monitoring.models import Reading

        if opts["days"] < 1:
            self.stderr.write("--days must be at least 1")
            return
        cutoff = timezone.now() - timedelta(days=opts["days"])
        if not opts["dry_run"]:
            # Readings whose hour is not rolled up yet must be before they go.
            from apps.monitoring.rollups import roll_up_hours

            roll_up_hours()
        dropped = 0
        if not opts["dry_run"]:
            from apps.monitoring.partitions import drop_before, is_partitioned

            if is_partitioned():
                for name, rows in drop_before(cutoff):
                    self.stdout.write(f"dropped partition {name} ({rows} readings)")
                    dropped += rows
        old = Reading.objects.filter(ts__lt=cutoff)
        if opts["dry_run"]:
            self.stdout.write(f"{old.count()} readings before {cutoff:%Y-%m-%d %H:%M} would be deleted")
            return
        total = dropped
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                # Batches keep locks and WAL small; the ts index finds the oldest rows.
                cursor.execute(
                    "DELETE FROM monitoring_reading WHERE (device_id, ts) IN ("
                    "SELECT device_id, ts FROM monitoring_reading WHERE ts < %s ORDER BY ts LIMIT %s)",
                    [connection.ops.adapt_datetimefield_value(cutoff), opts["batch"]])
                deleted = cursor.rowcount
            total += deleted
            if deleted < opts["batch"]:
                break
        self.stdout.write(f"deleted {total} readings before {cutoff:%Y-%m-%d %H:%M}")
