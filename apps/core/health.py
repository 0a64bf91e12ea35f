"""Readiness checks behind ``/healthz``: each answers None when usable, or a short reason.

A check never raises: a load balancer asks often, and a check that crashes is a failed check.
"""
import logging
import uuid

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.cache import cache
from django.db import connection

log = logging.getLogger(__name__)

# A file every page links (templates/base.html): when it does not resolve, no page renders.
STATIC_PROBE_ASSET = "css/app.css"
BROKER_TIMEOUT_SECONDS = 2


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache():
    key = f"healthz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            return "the value written was not read back"
    finally:
        cache.delete(key)


def broker_url():
    """The configured Celery broker, or None when tasks run in-process (no broker set)."""
    url = settings.CELERY_BROKER_URL
    if not url or url.startswith("memory://"):
        return None
    return url


def check_broker():
    from kombu import Connection

    url = broker_url()
    if url is None:
        return None
    with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)


def check_static_manifest():
    """With the manifest storage (production), the manifest was loaded and a known asset resolves."""
    if not isinstance(staticfiles_storage, ManifestFilesMixin):  # the lazy object answers as its storage
        return None
    if not staticfiles_storage.hashed_files:
        return f"no manifest loaded from {staticfiles_storage.manifest_name} (run collectstatic, then restart)"
    name = staticfiles_storage.stored_name(STATIC_PROBE_ASSET)  # ValueError when not in the manifest
    if not staticfiles_storage.exists(name):
        return f"{name} is in the manifest but missing in STATIC_ROOT"


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "static": check_static_manifest,
}


def run_checks():
    """{check name: None (ok) or a reason}, every check run even after one fails."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency means not ready
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
        if results[name] is not None:
            log.warning("healthz: %s check failed: %s", name, results[name])
    return results
