"""Demo monitoring: devices in a third of the institutions, a week of readings, alarms in every state,
an offline device and one alarm that opened a hazard. Idempotent and fast (bulk insert)."""
from datetime import timedelta

from .choices import CHANNEL_NAMES, AlarmState, DeviceKind
from .ingest import persist_rows
from .models import Alarm, Device, ThresholdRule
from .simulator import HOT, LEAKAGE, NORMAL, values_at

STEP = timedelta(minutes=15)
# The demo is browsed long after seeding with no simulator running: a day's window keeps the demo
# devices online (the offline one fell silent two days ago). Real devices keep the 15-minute default.
DEMO_OFFLINE_MINUTES = 24 * 60
PLACES = [("一楼配电间总配电箱", "总进线"), ("二楼护理区配电箱", "照明插座回路"), ("厨房配电箱", "厨房动力回路"),
          ("三楼居室区配电箱", "空调回路"), ("洗衣房配电箱", "洗衣设备回路")]
KINDS = [DeviceKind.COMBINED, DeviceKind.RESIDUAL, DeviceKind.TEMPERATURE, DeviceKind.SMART, DeviceKind.ARC]


def seed(ctx):
    if Device.objects.filter(code__startswith="DEMO-").exists():
        return
    rng, now = ctx["rng"], ctx["now"].replace(second=0, microsecond=0)
    institutions = sorted(ctx["institutions"], key=lambda i: i.pk)
    chosen = institutions[::3]
    home1 = ctx.get("home1_institution")
    if home1 is not None and home1 not in chosen:
        chosen = [home1, *chosen]
    elif home1 is not None:
        chosen = [home1, *[i for i in chosen if i != home1]]
    devices, n = [], 0
    for idx, inst in enumerate(chosen):
        for k in range(2 if idx % 2 == 0 else 1):
            n += 1
            place, circuit = PLACES[(idx + k) % len(PLACES)]
            d = Device(institution=inst, code=f"DEMO-{n:04d}", name=f"电气火灾监控探测器 {n:02d}",
                       model=rng.choice(["ACREL ARCM300", "安科瑞 ARCM200", "力安 LA-EFM-4T"]), kind=KINDS[(idx + k) % 5],
                       location=place, circuit=circuit, installed_on=(now - timedelta(days=rng.randint(60, 900))).date(),
                       channels=list(CHANNEL_NAMES), offline_after_minutes=DEMO_OFFLINE_MINUTES)
            d.rotate_token()
            devices.append(d)
    Device.objects.bulk_create(devices)
    devices = list(Device.objects.filter(code__startswith="DEMO-").order_by("code"))
    start = now - timedelta(days=7)
    ticks = int((now - start) / STEP)
    scenario = {0: LEAKAGE, 1: HOT}
    offline = devices[2] if len(devices) > 2 else None
    rows = []
    for i, d in enumerate(devices):
        sc = scenario.get(i, NORMAL)
        end_tick = ticks - 200 if d is offline else ticks  # the offline device fell silent ~2 days ago
        last = None
        for t in range(end_tick):
            vals = values_at(NORMAL, t * 15, rng)
            if sc == LEAKAGE and t > ticks - 60:
                vals["residual_ma"] = round(260 + (t - (ticks - 60)) * 3.5 + rng.uniform(-5, 5), 1)
            if sc == HOT and t > ticks - 40:
                vals["t2"] = round(60 + (t - (ticks - 40)) * 0.8, 1)
            ts = start + t * STEP
            rows.append((d.pk, ts, *(vals.get(c) for c in CHANNEL_NAMES)))
            last = ts
        if last:
            d.last_seen = last
    persist_rows(rows)
    Device.objects.bulk_update(devices, ["last_seen"])
    rules = {r.channel: r for r in ThresholdRule.objects.filter(device_kind="")}
    _alarms(devices, rules, now, offline, ctx)
    from apps.ledger.models import Institution

    Institution.objects.filter(pk__in={d.institution_id for d in devices}).update(has_electrical_monitoring=True)


def _alarm(device, rule, channel, opened, **kw):
    a = Alarm(device=device, institution_id=device.institution_id, rule=rule, kind=rule.channel, channel=channel,
              severity=rule.severity, threshold=kw.pop("threshold", rule.threshold), opened_at=opened, last_at=kw.pop("last_at", opened),
              **kw)
    a.save()
    return a


def _alarms(devices, rules, now, offline, ctx):
    from . import services

    users = ctx.get("users", {})
    res, temp, off = rules.get("residual_ma"), rules.get("temperature"), rules.get("offline")
    if len(devices) < 6 or not (res and temp and off):
        return
    # Active: leakage creeping up on the first device (home1's institution).
    _alarm(devices[0], res, "residual_ma", now - timedelta(hours=2), last_at=now - timedelta(minutes=15), count=1,
           first_value=305.0, last_value=452.0, peak=455.0)
    # Acknowledged: hot terminal on the second device.
    _alarm(devices[1], temp, "t2", now - timedelta(hours=3), last_at=now - timedelta(minutes=15), count=2,
           first_value=71.0, last_value=88.0, peak=89.5, state=AlarmState.ACKNOWLEDGED,
           acknowledged_at=now - timedelta(hours=2, minutes=40), acknowledged_by=users.get("home1"),
           acknowledge_note="已通知电工到场检查接线端子")
    # Offline device, materialised alarm.
    _alarm(offline, off, Alarm.OFFLINE_CHANNEL, offline.last_seen + timedelta(minutes=DEMO_OFFLINE_MINUTES),
           threshold=float(DEMO_OFFLINE_MINUTES))
    # Cleared alarms: one automatically, one by a person with a reason.
    _alarm(devices[3], res, "residual_ma", now - timedelta(days=5), last_at=now - timedelta(days=5) + timedelta(minutes=40),
           first_value=310.0, last_value=330.0, peak=342.0, state=AlarmState.CLEARED,
           cleared_at=now - timedelta(days=5) + timedelta(hours=1), auto_cleared=True, clear_reason="values normal")
    _alarm(devices[4], temp, "t1", now - timedelta(days=3), first_value=72.0, last_value=72.0, peak=74.0,
           state=AlarmState.CLEARED, cleared_at=now - timedelta(days=3) + timedelta(hours=2),
           cleared_by=users.get("town1"), clear_reason="探头松动，已紧固后复测正常")
    # A repeating leakage alarm that opened a hazard (sensor-verified closure).
    repeating = _alarm(devices[5], res, "residual_ma", now - timedelta(days=2), last_at=now - timedelta(hours=6),
                       count=3, first_value=318.0, last_value=336.0, peak=362.0)
    services.open_hazard(repeating)
