"""Scheduled: refresh every institution's risk once a day (idempotent: one snapshot per day)."""
from apps.core.notifications import scheduled


@scheduled
def refresh_all_risk():
    from apps.ledger.models import Institution

    from .risk import refresh_risk

    ids = list(Institution.objects.values_list("pk", flat=True))
    return len(refresh_risk(ids))
