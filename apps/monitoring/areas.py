"""Township-hour rollups: per-batch deltas at ingest, and a rebuild from the device rollups."""
from django.db import connection, transaction

REBUILD_SQL = (
    "INSERT INTO monitoring_areahourlyrollup (township_id, channel, hour, min, max, sum, count) "
    "SELECT i.township_id, r.channel, r.hour, min(r.min), max(r.max), sum(r.sum), sum(r.count) "
    "FROM monitoring_hourlyrollup r JOIN monitoring_device d ON d.id = r.device_id "
    "JOIN ledger_institution i ON i.id = d.institution_id {where} GROUP BY i.township_id, r.channel, r.hour"
)


def area_rollups_of(agg, township_of):
    """Per-batch device rollups ``(device, channel, epoch hour, min, max, sum, n)`` summed by township.

    Sorted by key (one lock order for concurrent upserts); devices without a township are skipped.
    """
    out = {}
    for device_id, channel, hour, lo, hi, total, n in agg:
        township = township_of.get(device_id)
        if township is None:
            continue
        key = (township, channel, hour)
        a = out.get(key)
        if a is None:
            out[key] = [lo, hi, total, n]
        else:
            if lo < a[0]:
                a[0] = lo
            if hi > a[1]:
                a[1] = hi
            a[2] += total
            a[3] += n
    return [(*k, *v) for k, v in sorted(out.items())]


def rebuild_area_rollups(since=None):
    """Recompute the township rollups (from ``since``, a datetime, or all) from the device rollups.

    For data written around the ingest core (the scale generator) or after devices moved.
    Returns the number of rows written.
    """
    where, params = ("WHERE r.hour >= %s", [since]) if since is not None else ("", [])
    with transaction.atomic(), connection.cursor() as cursor:
        if since is not None:
            cursor.execute("DELETE FROM monitoring_areahourlyrollup WHERE hour >= %s", [since])
        else:
            cursor.execute("DELETE FROM monitoring_areahourlyrollup")
        cursor.execute(REBUILD_SQL.format(where=where), params)
        return cursor.rowcount
