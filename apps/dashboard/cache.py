"""The cockpit's figures are cached per scope and invalidated when any of their inputs change.

A save or delete of an input row bumps one version number in the cache, so the next view of
any cockpit recomputes (one cold build). Time-derived facts (overdue at midnight, devices
going offline) are covered by the day in the key and a short time to live. With Redis (the
production cache) every web process shares the version; with the local-memory cache each
process has its own and may show figures up to ``TTL`` seconds old.
"""
from django.apps import apps
from django.core.cache import cache
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


def bump(*args, **kwargs):
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)


def scope_key(user, township, today):
    return (f"cockpit:{version()}:{today.isoformat()}:{user.role}:{user.organization_id or 0}:"
            f"{user.institution_id or 0}:{int(user.is_superuser)}:{township.pk if township else 0}")


def connect():
    for label in INPUTS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        post_save.connect(bump, sender=model, dispatch_uid=f"cockpit-{label}-save")
        post_delete.connect(bump, sender=model, dispatch_uid=f"cockpit-{label}-delete")
