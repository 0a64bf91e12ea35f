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
