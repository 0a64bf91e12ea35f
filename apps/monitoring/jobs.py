"""Periodic checks (idempotent): offline alarms for silent devices, hazards for persisting alarms,
daily rollups of the days that are over."""
from apps.core.notifications import scheduled


@scheduled
def monitoring_offline_alarms():
    from .services import evaluate_offline

    return evaluate_offline()


@scheduled
def monitoring_escalate_alarms():
    from .services import escalate_persistent_alarms

    return escalate_persistent_alarms()


@scheduled
def monitoring_daily_rollups():
    from .daily import roll_up_days

    return roll_up_days()


@scheduled
def monitoring_hourly_rollups():
    """The hourly and township rollups of the hours that received readings (see ``rollups``)."""
    from .partitions import ensure_partitions
    from .rollups import roll_up_hours
    from .store import flush_device_state

    ensure_partitions()
    flush_device_state()
    return roll_up_hours()
