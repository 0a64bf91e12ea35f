"""Default threshold rules (GB 50116 §9.2 / GB 14287; domain.md §5). The bureau edits them in admin."""
from django.db import migrations

RULES = [
    # name, kind ("" = all), channel, threshold, consecutive, severity, clear_min, hazard_min, hazard_repeats, days
    ("剩余电流超限", "", "residual_ma", 300, 3, "critical", 30, 24 * 60, 3, 3),
    ("线缆/端子温度超限", "", "temperature", 70, 3, "critical", 30, 24 * 60, 3, 3),
    ("相电流过载", "", "current", 63, 5, "warning", 30, 48 * 60, 5, 3),
    ("过电压", "", "overvoltage", 264, 5, "warning", 30, None, None, 3),
    ("欠电压", "", "undervoltage", 176, 5, "info", 30, None, None, 3),
    ("故障电弧", "", "arc_count", 1, 1, "critical", 60, 24 * 60, 3, 3),
    ("设备故障", "", "faults", 1, 1, "warning", 30, None, None, 3),
    ("设备离线", "", "offline", 15, 1, "warning", 0, None, None, 3),
]


def seed(apps, schema_editor):
    ThresholdRule = apps.get_model("monitoring", "ThresholdRule")
    for name, kind, channel, threshold, consecutive, severity, clear, hmin, hrep, days in RULES:
        ThresholdRule.objects.get_or_create(
            channel=channel, device_kind=kind,
            defaults=dict(name=name, threshold=threshold, consecutive=consecutive, severity=severity,
                          clear_after_minutes=clear, hazard_after_minutes=hmin, hazard_after_repeats=hrep,
                          verify_days=days))


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
