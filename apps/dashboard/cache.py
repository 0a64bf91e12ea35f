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
from django.utils import timezone

from apps.core import scope

TTL = 60
VERSION_KEY = "cockpit:version"
# Models whose changes show at once (skipped when their app is not installed). Patrols, drills,
# staff and device heartbeats change far more often; their figures follow within ``TTL``.
INPUTS = ["ledger.Institution", "hazards.Hazard", "hazards.Supervision", "assessment.FireIncident",
          "monitoring.Alarm", "inspections.Campaign"]


def _version_of(key):
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, None)
        value = cache.get(key) or 1
    return value


def _incr(key):
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, None)


def version():
    return _version_of(VERSION_KEY)


WARM_KEY = "cockpit:warm-scheduled"
WARM_DEBOUNCE = 5


def bump(*args, **kwargs):
    _incr(VERSION_KEY)
    if not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        transaction.on_commit(schedule_warm)


def schedule_warm():
    """Queue one rebuild of the province cockpit (none while one is queued in the last seconds)."""
    if cache.add(WARM_KEY, 1, WARM_DEBOUNCE):
        from .tasks import warm_province

        warm_province.apply_async(countdown=1)


def _reach(user, township, area):
    if user.is_superuser:  # the same figures for every such user
        reach = "all"
    elif scope.sees_all(user):  # the same figures for every bureau role of one administration
        reach = f"area:{user.administration_path}"
    else:
        reach = f"{user.role}:{user.organization_id or 0}:{user.institution_id or 0}"
    return f"{reach}:{township.pk if township else 0}:{area.pk if area else 0}"


def scope_key(user, township, today, area=None):
    return f"cockpit:{version()}:{today.isoformat()}:{_reach(user, township, area)}"


# The last entry built for a scope, whatever its day, under the same version: what the first request
# after local midnight is served (with its time) while today's is rebuilt in the background.
LAST_TTL = 2 * 24 * 3600
REBUILD_KEY = "cockpit:rebuild:{key}"


def last_key(user, township, area=None):
    return f"cockpit:last:{version()}:{_reach(user, township, area)}"


def queue_rebuild(user, township=None, area=None):
    """Queue one rebuild of this scope's cockpit (at most one per scope and day until it ran).

    With a broker, a Celery task; without one (eager Celery) a background thread, so the request
    that asked answers at once. ``COCKPIT_REBUILD_QUEUE = "off"`` only records it (tests)."""
    import threading

    key = REBUILD_KEY.format(key=scope_key(user, township, timezone.localdate(), area))
    if not cache.add(key, True, 600):
        return False
    mode = getattr(settings, "COCKPIT_REBUILD_QUEUE", "auto")
    if mode == "off":
        return True
    from .tasks import rebuild_cockpit

    args = (user.pk, township.pk if township else None, area.pk if area else None)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        threading.Thread(target=_rebuild_in_thread, args=args, name="cockpit-rebuild", daemon=True).start()
    else:
        rebuild_cockpit.delay(*args)
    return True


def _rebuild_in_thread(*args):
    import logging

    from django.db import connection

    from .tasks import rebuild_cockpit

    try:
        rebuild_cockpit(*args)
    except Exception:  # logged: the next request of the day builds it inline
        logging.getLogger(__name__).exception("cockpit rebuild failed")
    finally:
        connection.close()


# The province cockpit's hazard figures of each month (found, closed of those, days to close, closed
# in the month) are kept per month, under a version of that month: a hazard's save or delete bumps
# the months of its found and closed times (before and after), so a change rebuilds one or two
# months, not twelve. ``bump_all_months`` is for writers that bypass the signals (bulk loads).
MONTHS_KEY = "cockpit:hazard-months"
MONTH_TTL = 7 * 24 * 3600  # versioned by the signals; the TTL only bounds a bypassing writer


def month_keys(months):
    """Cache keys of the hazard figures of these months ("YYYY-MM")."""
    generation = _version_of(MONTHS_KEY)
    versions = cache.get_many([f"{MONTHS_KEY}:{m}" for m in months])
    return [f"cockpit:month:{generation}:{m}:{versions.get(f'{MONTHS_KEY}:{m}', 0)}" for m in months]


def bump_month(month):
    """The figures of this month ("YYYY-MM") are to be recomputed."""
    _incr(f"{MONTHS_KEY}:{month}")


def bump_all_months():
    _incr(MONTHS_KEY)
    bump()


def _month(value):
    return None if value is None else timezone.localtime(value).strftime("%Y-%m")


def _snapshot(sender, instance, **kwargs):
    d = instance.__dict__
    # A deferred field is not loaded: its old month is unknown (then every month is redone).
    instance._cockpit_months = (d.get("found_at"), d.get("closed_at")) if (
        "found_at" in d and "closed_at" in d) else None


def _hazard_changed(sender, instance, **kwargs):
    before = getattr(instance, "_cockpit_months", None)
    if before is None and not kwargs.get("created"):
        bump_all_months()
    else:
        months = {_month(instance.found_at), _month(instance.closed_at), *map(_month, before or ())} - {None}
        for m in months:
            bump_month(m)
    instance._cockpit_months = (instance.found_at, instance.closed_at)


def connect():
    from django.db.models.signals import post_init

    try:
        hazard = apps.get_model("hazards.Hazard")
    except LookupError:
        hazard = None
    if hazard is not None:
        post_init.connect(_snapshot, sender=hazard, dispatch_uid="cockpit-hazard-init")
        post_save.connect(_hazard_changed, sender=hazard, dispatch_uid="cockpit-hazard-months-save")
        post_delete.connect(_hazard_changed, sender=hazard, dispatch_uid="cockpit-hazard-months-delete")
    for label in INPUTS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        post_save.connect(bump, sender=model, dispatch_uid=f"cockpit-{label}-save")
        post_delete.connect(bump, sender=model, dispatch_uid=f"cockpit-{label}-delete")
