"""The cockpit's figures are cached per scope and invalidated when any of their inputs change.

A save or delete of an input row bumps one version number in the cache, so the next view of
any cockpit recomputes (one cold build). Time-derived facts (overdue at midnight, devices
going offline) are covered by the day in the key and a short time to live. With Redis (the
production cache) every web process shares the version; with the local-memory cache each
process has its own and may show figures up to ``TTL`` seconds old.

With a Celery broker, a change also schedules ``warm_province`` (at most one every
``WARM_DEBOUNCE`` seconds, after the transaction commits): a worker rebuilds the province-wide
cockpit, the costliest one (every user who sees everything shares it), so leaders find it built.
"""
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

TTL = 60
VERSION_KEY = "cockpit:version"
# Models whose changes show at once (skipped when their app is not installed). Patrols, drills,
# staff and device heartbeats change far more often; their figures follow within ``TTL``.
INPUTS = ["ledger.Institution", "hazards.Hazard", "hazards.Supervision", "assessment.FireIncident",
          "monitoring.Alarm", "inspections.Campaign"]


def version():
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, 1, None)
        value = cache.get(VERSION_KEY) or 1
    return value


WARM_KEY = "cockpit:warm-scheduled"
WARM_DEBOUNCE = 5


def bump(*args, **kwargs):
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)
    if not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        transaction.on_commit(schedule_warm)


def schedule_warm():
    """Queue one rebuild of the province cockpit (none while one is queued in the last seconds)."""
    if cache.add(WARM_KEY, 1, WARM_DEBOUNCE):
        from .tasks import warm_province

        warm_province.apply_async(countdown=1)


def scope_key(user, township, today):
    if user.sees_everything:  # the same figures for every such user
        scope = "all"
    else:
        scope = f"{user.role}:{user.organization_id or 0}:{user.institution_id or 0}"
    return f"cockpit:{version()}:{today.isoformat()}:{scope}:{township.pk if township else 0}"


def connect():
    for label in INPUTS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        post_save.connect(bump, sender=model, dispatch_uid=f"cockpit-{label}-save")
        post_delete.connect(bump, sender=model, dispatch_uid=f"cockpit-{label}-delete")
