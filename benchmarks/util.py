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
