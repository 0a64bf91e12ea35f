"""Readings partitioned by month on PostgreSQL (plain declarative partitioning).

``monitoring_reading`` is ``PARTITION BY RANGE (ts)`` with one partition per calendar month (UTC),
named ``monitoring_reading_pYYYYMM``, and a DEFAULT partition for readings outside them (a late
reading older than the first month kept). ``ensure_partitions`` creates the months ahead (run by
the rollup job, so there are always two months ready); retention (``prune_readings``) drops whole
months with ``DROP TABLE`` instead of deleting rows. SQLite has one plain table.
"""
import re
from datetime import UTC, datetime

from django.db import connection, transaction

PREFIX = "monitoring_reading_p"
AHEAD = 2  # months created ahead of the current one


def month_start(d):
    return datetime(d.year, d.month, 1, tzinfo=UTC)


def next_month(d):
    return datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=UTC)


def is_partitioned():
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'monitoring_reading'")
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partitions():
    """``[(name, first day, first day of the next month)]`` of the monthly partitions, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'monitoring_reading'")
        names = [r[0] for r in cursor.fetchall()]
    out = []
    for name in names:
        m = re.fullmatch(PREFIX + r"(\d{4})(\d{2})", name)
        if m:
            start = datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC)
            out.append((name, start, next_month(start)))
    return sorted(out, key=lambda p: p[1])


def ensure_partitions(now=None, ahead=AHEAD):
    """Create the partitions of the current month and ``ahead`` months after it; returns those made."""
    if not is_partitioned():
        return []
    have = {p[0] for p in partitions()}
    month = month_start(now or datetime.now(UTC))
    made = []
    for _ in range(ahead + 1):
        name = f"{PREFIX}{month:%Y%m}"
        if name not in have:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF monitoring_reading "
                               "FOR VALUES FROM (%s) TO (%s)", [month, next_month(month)])
            made.append(name)
        month = next_month(month)
    return made


def drop_before(cutoff):
    """Drop the monthly partitions wholly before ``cutoff``; returns ``[(name, rows)]`` dropped."""
    dropped = []
    for name, _start, end in partitions():
        if end > cutoff:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {name}")
            rows = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {name}")
        dropped.append((name, rows))
    return dropped


# The migration: the plain table becomes a partitioned one with the same columns, keys and rows.
PARTITION_SQL = r"""
DO $$
DECLARE
    first_month date;
    last_month date;
    m date;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE relname = 'monitoring_reading') = 'p' THEN
        RETURN;
    END IF;
    ALTER TABLE monitoring_reading RENAME TO monitoring_reading_unpartitioned;
    ALTER INDEX IF EXISTS monitoring_reading_pkey RENAME TO monitoring_reading_unpartitioned_pkey;
    ALTER INDEX IF EXISTS monitoring_reading_ts RENAME TO monitoring_reading_unpartitioned_ts;
    CREATE TABLE monitoring_reading (LIKE monitoring_reading_unpartitioned INCLUDING DEFAULTS)
        PARTITION BY RANGE (ts);
    ALTER TABLE monitoring_reading ADD CONSTRAINT monitoring_reading_pkey PRIMARY KEY (device_id, ts);
    CREATE INDEX monitoring_reading_ts ON monitoring_reading (ts);
    CREATE TABLE monitoring_reading_default PARTITION OF monitoring_reading DEFAULT;
    SELECT date_trunc('month', min(ts) AT TIME ZONE 'UTC')::date INTO first_month FROM monitoring_reading_unpartitioned;
    m := LEAST(COALESCE(first_month, date_trunc('month', now() AT TIME ZONE 'UTC')::date),
               date_trunc('month', now() AT TIME ZONE 'UTC')::date);
    last_month := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months')::date;
    SELECT GREATEST(last_month, date_trunc('month', max(ts) AT TIME ZONE 'UTC')::date) INTO last_month
        FROM monitoring_reading_unpartitioned;
    last_month := COALESCE(last_month, (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months')::date);
    WHILE m <= last_month LOOP
        EXECUTE format('CREATE TABLE monitoring_reading_p%s PARTITION OF monitoring_reading '
                       'FOR VALUES FROM (%L) TO (%L)', to_char(m, 'YYYYMM'),
                       (m::timestamp AT TIME ZONE 'UTC'), ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
        m := (m + interval '1 month')::date;
    END LOOP;
    INSERT INTO monitoring_reading SELECT * FROM monitoring_reading_unpartitioned;
    DROP TABLE monitoring_reading_unpartitioned;
END $$;
"""
