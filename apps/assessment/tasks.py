"""Scheduled: refresh every institution's risk once a day (idempotent: one snapshot per day).

The daily refresh runs from celery beat just after local midnight (``refresh-risk-daily`` in
``CELERY_BEAT_SCHEDULE``) and again with the hourly scheduled jobs; a request that finds stale
figures never recomputes them itself: it shows the last ones with their time and calls
:func:`queue_risk_refresh`.
"""
import logging
import threading

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.core.notifications import scheduled

logger = logging.getLogger(__name__)
QUEUED_KEY = "risk-refresh-queued:{day}"


@scheduled
def refresh_all_risk():
    from apps.ledger.models import Institution

    from .risk import refresh_risk

    ids = list(Institution.objects.values_list("pk", flat=True))
    return len(refresh_risk(ids))


def stale_institution_ids(day=None):
    """Institutions never scored, or last scored before the start of ``day`` (local)."""
    import datetime

    from django.db.models import Q

    from apps.ledger.models import Institution

    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return list(Institution.objects.filter(Q(risk__isnull=True) | Q(risk__computed_at__lt=start))
                .values_list("pk", flat=True))


@shared_task(ignore_result=True)
def refresh_stale_risk():
    """Score the institutions whose risk is stale (beat, and queued by a request that found it stale)."""
    from .risk import refresh_risk

    try:
        return len(refresh_risk(stale_institution_ids()))
    finally:
        cache.delete(QUEUED_KEY.format(day=timezone.localdate()))


def _run_in_thread():
    from django.db import connection

    try:
        refresh_stale_risk()
    except Exception:  # logged: the next request or the beat job tries again
        logger.exception("risk refresh failed")
    finally:
        connection.close()


def queue_risk_refresh():
    """Queue one refresh of the stale risk figures (at most one queued per day until it ran).

    With a broker, a Celery task; without one (local, eager Celery) a background thread, so the
    request that asked still answers at once. ``RISK_REFRESH_QUEUE = "off"`` only records the
    request (tests). Returns True when a refresh was queued by this call."""
    mode = getattr(settings, "RISK_REFRESH_QUEUE", "auto")
    if not cache.add(QUEUED_KEY.format(day=timezone.localdate()), True, 3600):
        return False
    if mode == "off":
        return True
    if settings.CELERY_TASK_ALWAYS_EAGER:
        threading.Thread(target=_run_in_thread, name="risk-refresh", daemon=True).start()
    else:
        refresh_stale_risk.delay()
    return True
