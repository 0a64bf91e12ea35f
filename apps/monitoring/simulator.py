"""Realistic readings for demo devices: normal noise, leakage creeping up, a hot terminal, a device going silent."""
import math
import random

NORMAL, LEAKAGE, HOT, SILENT = "normal", "leakage", "hot", "silent"


def scenario_for(index):
    return {0: LEAKAGE, 1: HOT, 2: SILENT}.get(index, NORMAL)


def values_at(scenario, tick, rng: random.Random, base_leak=120.0):
    """One reading's values at ``tick`` (one tick per interval) for a scenario."""
    day = math.sin(tick / 720 * 2 * math.pi)  # a daily load curve at one tick per minute
    load = 18 + 10 * day + rng.uniform(-1.5, 1.5)
    leak = base_leak + 25 * day + rng.uniform(-8, 8)
    temps = [32 + load * 0.5 + rng.uniform(-1, 1) for _ in range(4)]
    if scenario == LEAKAGE:
        leak = min(150 + 2.5 * tick, 480) + rng.uniform(-5, 5)
    elif scenario == HOT:
        temps[1] = min(45 + 0.4 * tick, 88) + rng.uniform(-0.5, 0.5)
    volts = [220 + rng.uniform(-4, 4) for _ in range(3)]
    return {
        "residual_ma": round(max(leak, 0), 1),
        "t1": round(temps[0], 1), "t2": round(temps[1], 1), "t3": round(temps[2], 1), "t4": round(temps[3], 1),
        "ia": round(load, 2), "ib": round(load * 0.92, 2), "ic": round(load * 1.05, 2),
        "ua": round(volts[0], 1), "ub": round(volts[1], 1), "uc": round(volts[2], 1),
        "arc_count": 0, "faults": 0,
    }


def is_silent(scenario, tick, silent_after=20):
    return scenario == SILENT and tick >= silent_after
