"""Benchmarks: ``make bench`` (or ``python -m benchmarks [name ...]``).

Each ``benchmarks/bench_*.py`` defines ``run() -> list[dict]``; every dict names what was
measured, the baseline it was run beside, both medians and their ratio. Numbers are ratios
against a baseline measured in the same run, never absolute timings asserted in tests.
"""
