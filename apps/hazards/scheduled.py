"""Date-driven hazard notifications, run periodically by the platform's scheduler."""
from apps.core.notifications import scheduled


@scheduled
def hazard_deadline_reminders():
    from .services import deadline_reminders

    return deadline_reminders()
