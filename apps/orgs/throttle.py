"""Failed-login throttling, counted from the trail so it holds across web nodes."""
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.core.models import AuditEntry


def is_locked_out(username: str, remote_addr: str = "") -> bool:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    q = Q(actor_name=username[:150]) if username else Q(pk__in=[])
    if remote_addr:
        # An address gets a larger allowance: several people may share one office NAT.
        addr_failures = AuditEntry.objects.filter(action="login_failed", time__gte=since, remote_addr=remote_addr).count()
        if addr_failures >= settings.LOGIN_FAILURE_LIMIT * 4:
            return True
    failures = AuditEntry.objects.filter(q, action="login_failed", time__gte=since).count()
    return failures >= settings.LOGIN_FAILURE_LIMIT
