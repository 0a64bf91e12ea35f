"""Helpers for benchmarks: alternate baseline and subject, report medians and the ratio."""
import statistics
import time


def alternate(subject, baseline, rounds=7):
    """Run ``baseline`` and ``subject`` alternately ``rounds`` times; return medians (s) and ratio."""
    s_times, b_times = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        baseline()
        b_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        subject()
        s_times.append(time.perf_counter() - t)
    s, b = statistics.median(s_times), statistics.median(b_times)
    return {"subject_median_s": round(s, 5), "baseline_median_s": round(b, 5),
            "ratio_baseline_over_subject": round(b / s, 3) if s else None}


def median_ms(fn, rounds=11):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times) * 1000, 2)


class Skip(SystemExit):
    """Raised by a bench module that cannot run here (say why); ``python -m benchmarks`` goes on."""


def analyze(*tables):
    """Commit-visible data analysed, as a production database would be (PostgreSQL ``ANALYZE``)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')


def scales(default="1000,100000"):
    """``BENCH_SCALE`` (e.g. ``1000,100000,1000000``): the sizes to measure, smallest first."""
    import os

    raw = os.environ.get("BENCH_SCALE") or default
    return sorted({int(float(x)) for x in raw.replace("_", "").split(",") if x.strip()})


def first_requests_after_midnight(user, url, rounds=7):
    """The day change as it happens, ``rounds`` times (one simulated day each): ``url`` is seen in
    the evening (23:55 local; the cache keeps what was built, as Redis would), the clock passes local
    midnight, and the first request of the new day (00:05) is timed. Returns the times (ms) and the
    query counts of those first requests."""
    import datetime
    import time
    import zoneinfo

    import time_machine
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    evening = datetime.datetime.combine(timezone.localdate(), datetime.time(23, 55), tzinfo=tz)
    client = Client(HTTP_HOST="127.0.0.1")
    times, queries = [], []
    for k in range(1, rounds + 1):
        with time_machine.travel(evening + datetime.timedelta(days=k), tick=True):
            client.force_login(user)
            assert client.get(url).status_code == 200  # seen during the day
        with time_machine.travel(evening + datetime.timedelta(days=k, minutes=10), tick=True):
            client.force_login(user)  # a session of the new day
            executed = []

            def count(execute, sql, params, many, context, executed=executed):
                executed.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                t = time.perf_counter()
                assert client.get(url).status_code == 200
                times.append(round((time.perf_counter() - t) * 1000, 1))
            queries.append(len(executed))
            time.sleep(1)  # a queued rebuild (a thread without a broker) finishes outside the timing
    return times, queries
