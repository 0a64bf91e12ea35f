"""Background delivery of notifications (Celery; eager when no broker is configured)."""
import json
import logging
import urllib.request

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)


def webhook_body(fmt, notification):
    text = notification.title + (f"\n{notification.body}" if notification.body else "")
    if fmt == "wecom":
        return {"msgtype": "text", "text": {"content": text}}
    if fmt == "dingtalk":
        return {"msgtype": "text", "text": {"content": text}}
    return {
        "kind": notification.verb,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "recipient": notification.recipient.get_username(),
        "created": notification.created.isoformat(),
        "target": {
            "type": f"{notification.target_type.app_label}.{notification.target_type.model}"
            if notification.target_type_id else None,
            "id": notification.target_id or None,
        },
    }


def post_json(url, body):
    data = json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(req, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as resp:  # noqa: S310
        return resp.status


@shared_task(bind=True, max_retries=3, default_retry_delay=60)
def deliver_notifications(self, ids):
    """E-mail each recipient who has an address and post to the matching webhooks."""

    from .models import Delivery, Notification, WebhookEndpoint

    notes = list(Notification.objects.filter(pk__in=ids).select_related("recipient", "target_type"))
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    sent = 0
    posted = set()
    for note in notes:
        user = note.recipient
        if user.email:
            try:
                send_mail(note.title, f"{note.body}\n\n{note.url}".strip(), settings.DEFAULT_FROM_EMAIL, [user.email])
                Delivery.objects.create(notification=note, channel=Delivery.Channel.EMAIL, ok=True)
                sent += 1
            except Exception as exc:  # noqa: BLE001 - a mail failure must not stop the others
                Delivery.objects.create(notification=note, channel=Delivery.Channel.EMAIL, ok=False, detail=str(exc)[:500])
        for ep in endpoints:
            if ep.verbs and note.verb not in ep.verbs:
                continue
            if ep.organization_id and ep.organization_id not in {user.organization_id,
                                                                 getattr(user.institution, "township_id", None)}:
                continue
            key = (ep.pk, note.verb, note.target_type_id, note.target_id, note.title)
            if key in posted:
                continue
            posted.add(key)
            try:
                post_json(ep.url, webhook_body(ep.format, note))
                Delivery.objects.create(notification=note, channel=Delivery.Channel.WEBHOOK, endpoint=ep, ok=True)
                sent += 1
            except Exception as exc:  # noqa: BLE001
                logger.warning("webhook %s failed: %s", ep.url, exc)
                Delivery.objects.create(notification=note, channel=Delivery.Channel.WEBHOOK, endpoint=ep, ok=False,
                                        detail=str(exc)[:500])
    return sent


@shared_task
def run_scheduled_notifications():
    from .notifications import run_scheduled

    return run_scheduled()


@shared_task
def anchor_audit_trail():
    """Hourly (beat): append a signed checkpoint of the trail outside the database."""
    from .anchor import anchor

    return anchor()["count"]


@shared_task
def run_export_job(job_id):
    """A list export above ``EXPORT_SYNC_LIMIT`` (apps/core/exports.py)."""
    from .exports import run_job

    job = run_job(job_id)
    return job.state if job is not None else None
