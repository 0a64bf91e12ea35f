"""One way in: user-name normalisation, the lockout answer, and lock/unlock in the trail.

Every login (the login page, ``/admin/login/``, the API token endpoint) goes through
``django.contrib.auth.authenticate``; django-axes (``AxesStandaloneBackend``, first in
``AUTHENTICATION_BACKENDS``) refuses a locked-out user there and counts failures from the
``user_login_failed`` signal. Settings: ``LOGIN_FAILURE_LIMIT``, ``LOGIN_FAILURE_WINDOW_MINUTES``,
``TRUSTED_PROXY_COUNT`` (see ``firesafe/settings.py``). Failures from one address across user
names never lock anybody out; past ``LOGIN_ADDRESS_FAILURE_LIMIT`` they are answered slowly.
"""
import unicodedata
from time import sleep

from axes.attempts import get_cool_off_threshold
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.core.audit import record


def normalize_username(value) -> str:
    """The one form of a user name, for the login and for the lock alike (as Django's form does)."""
    return unicodedata.normalize("NFKC", str(value or "")).strip()[:150]


def axes_username(request, credentials=None) -> str:
    """``AXES_USERNAME_CALLABLE``: the normalised name from the credentials (or the posted form)."""
    if credentials and "username" in credentials:
        return normalize_username(credentials["username"])
    data = getattr(request, "data", None) or getattr(request, "POST", {})
    return normalize_username(data.get("username", ""))


def lockout_message() -> str:
    return _("Too many failed logins. Try again in %(minutes)d minutes.") % {
        "minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES}


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: 429 with a Chinese reason, as JSON for the API, else the login page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    return render(request, "registration/login.html", {
        "locked_message": lockout_message(), "next": request.POST.get("next", ""),
        "username": axes_username(request, credentials),
    }, status=429)


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    # Axes sends the signal on every refused attempt while locked; the lock itself happens once,
    # at the failure that reaches the limit.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None or failures != settings.LOGIN_FAILURE_LIMIT:
        return
    record("login_locked", None, username=username, object_repr=username,
           after={"username": username, "ip_address": ip_address, "failures": failures,
                  "minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES})


@receiver(post_delete, sender=AccessAttempt)
def _unlocked(sender, instance, **kwargs):
    """A counted attempt that had reached the limit goes away: by an administrator, a command
    (``axes_reset_username``) or the end of the window."""
    if instance.failures_since_start < settings.LOGIN_FAILURE_LIMIT:
        return
    record("login_unlocked", None, object_repr=instance.username or "",
           after={"username": instance.username, "ip_address": instance.ip_address,
                  "failures": instance.failures_since_start})


def address_failures(request) -> int:
    """Failed logins within the window from the client address axes normalised for this request."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    return AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request),
    ).aggregate(n=Sum("failures_since_start"))["n"] or 0


def address_delay(failures: int) -> float:
    """Seconds to wait before answering a failure: 0 up to the limit, then doubling, capped."""
    excess = failures - settings.LOGIN_ADDRESS_FAILURE_LIMIT
    if excess <= 0:
        return 0
    return min(settings.LOGIN_ADDRESS_DELAY_SECONDS * 2 ** min(excess - 1, 16), settings.LOGIN_ADDRESS_DELAY_MAX_SECONDS)


@receiver(user_login_failed)
def _slow_down_an_address(sender, credentials, request=None, **kwargs):
    """Connected after axes' own receiver (``axes`` precedes ``apps.orgs``), so this failure is counted."""
    if request is None:
        return
    delay = address_delay(address_failures(request))
    if delay:
        sleep(delay)
