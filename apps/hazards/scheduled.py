"""Date-driven hazard notifications, run periodically by the platform's scheduler."""
from apps.core.notifications import scheduled


@scheduled
def hazard_deadline_reminders():
    from .services import deadline_reminders

    return deadline_reminders()


@scheduled
def ledger_hazard_suggestions():
    """Facts become hazards with the passing of time too (a yearly test falls due): re-run the ledger rules."""
    from .ledger_rules import scan

    return scan()
