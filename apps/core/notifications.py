"""The one notification path: in-app rows now, e-mail and webhooks from a background task.

``notify`` writes the in-app notifications inside the caller's transaction and queues
delivery on commit, so a rolled-back action notifies nobody.
"""
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from .models import Notification

_SCHEDULED = []


def notify(recipients, verb, title, *, url="", body="", target=None, dedup_key=""):
    """Notify each distinct active recipient once. With ``dedup_key``, never twice for the same key."""
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not users:
        return []
    if dedup_key:
        already = set(
            Notification.objects.filter(recipient_id__in=users, dedup_key=dedup_key).values_list("recipient_id", flat=True)
        )
        users = {pk: u for pk, u in users.items() if pk not in already}
    ct = ContentType.objects.get_for_model(target.__class__) if target is not None else None
    rows = [
        Notification(recipient_id=pk, verb=verb, title=str(title)[:300], body=str(body), url=url,
                     target_type=ct, target_id=str(target.pk) if target is not None else "", dedup_key=dedup_key)
        for pk in users
    ]
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.pk is not None]
    if not ids:  # backends that do not return ids from bulk_create
        ids = list(Notification.objects.filter(verb=verb, recipient_id__in=users).order_by("-id")
                   .values_list("id", flat=True)[: len(rows)])
    from .tasks import deliver_notifications

    transaction.on_commit(lambda: deliver_notifications.delay(ids))
    return created


def scheduled(fn):
    """Register a function run periodically (deadline reminders, digests). It must be idempotent."""
    _SCHEDULED.append(fn)
    return fn


def run_scheduled():
    results = {}
    for fn in _SCHEDULED:
        results[f"{fn.__module__}.{fn.__name__}"] = fn()
    return results
