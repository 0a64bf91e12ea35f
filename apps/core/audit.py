"""The trail (留痕, mechanism 3): an append-only, hash-chained change log.

Every save and delete of an ``AuditedModel`` writes an ``AuditEntry`` through signals;
services record named actions (``record_action``). Each entry stores the SHA-256 of its own
content and the hash of the previous entry; the chain head remembers the last hash and the
count, so ``manage.py verify_audit`` finds any entry altered, removed or inserted.
"""
import contextlib
import contextvars
import datetime
import decimal
import hashlib
import json
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import AuditChainHead, AuditedModel, AuditEntry

_context = contextvars.ContextVar("audit_context", default=None)

# Labels for named actions, filled by apps (verb -> lazy label).
ACTION_LABELS: dict = {}


def register_actions(labels: dict):
    """Let an app name its actions for the history panel (``{"hazard.verify": _("Verified")}``)."""
    ACTION_LABELS.update(labels)


def action_label(action: str):
    return ACTION_LABELS.get(action, action)


class AuditContext:
    def __init__(self, actor=None, request=None, request_id=None, remote_addr=""):
        self._actor = actor
        self.request = request
        self.request_id = request_id or str(uuid.uuid4())
        self.remote_addr = remote_addr

    @property
    def actor(self):
        if self._actor is not None:
            return self._actor
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


@contextlib.contextmanager
def audit_context(**kwargs):
    token = _context.set(AuditContext(**kwargs))
    try:
        yield _context.get()
    finally:
        _context.reset(token)


@contextlib.contextmanager
def acting_as(user):
    """Attribute the changes made inside the block to ``user`` (commands, services, tests)."""
    current = _context.get()
    ctx = AuditContext(
        actor=user,
        request=current.request if current else None,
        request_id=current.request_id if current else None,
        remote_addr=current.remote_addr if current else "",
    )
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def current_actor():
    ctx = _context.get()
    return ctx.actor if ctx else None


def _jsonable(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "storage"):  # FieldFile
        return value.name or ""
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def snapshot(values: dict | None):
    if values is None:
        return None
    return {k: _jsonable(v) for k, v in values.items()}


def entry_digest(entry: AuditEntry) -> str:
    """The hash of an entry's content and the previous hash: what verify recomputes."""
    ct = entry.content_type_id and ContentType.objects.get_for_id(entry.content_type_id)
    payload = {
        "time": entry.time.astimezone(datetime.UTC).isoformat(),
        "actor": entry.actor_name,
        "org": entry.organization_name,
        "action": entry.action,
        "type": f"{ct.app_label}.{ct.model}" if ct else "",
        "object_id": entry.object_id,
        "object": entry.object_repr,
        "institution": entry.institution_id,
        "before": entry.before,
        "after": entry.after,
        "request": entry.request_id,
        "addr": entry.remote_addr,
        "prev": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(action, obj=None, *, before=None, after=None, actor=None, institution_id=None, object_repr=None,
           username=None):
    """Append one entry to the trail, inside the caller's transaction."""
    ctx = _context.get()
    actor = actor if actor is not None else (ctx.actor if ctx else None)
    if obj is not None and institution_id is None:
        institution_id = getattr(obj, "scope_institution_id", None)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditChainHead.objects.create(pk=1)
        entry = AuditEntry(
            time=timezone.now(),
            actor=actor,
            actor_name=(actor.get_username() if actor else (username or "system"))[:150],
            organization_name=(actor.org_label if actor is not None and hasattr(actor, "org_label") else "")[:200],
            action=action,
            content_type=ContentType.objects.get_for_model(obj.__class__) if obj is not None else None,
            object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            object_repr=(object_repr if object_repr is not None else (str(obj) if obj is not None else ""))[:300],
            institution_id=institution_id,
            before=snapshot(before),
            after=snapshot(after),
            request_id=ctx.request_id if ctx else "",
            remote_addr=(ctx.remote_addr if ctx else "")[:64],
            prev_hash=head.last_hash,
        )
        entry.hash = entry_digest(entry)
        entry.save()
        head.last_hash = entry.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return entry


def record_action(obj, action, actor=None, **data):
    """Record a named act on ``obj`` (e.g. ``hazard.verify``) with its data."""
    return record(action, obj, after=data or None, actor=actor)


@receiver(post_save)
def _on_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, AuditedModel):
        return
    after = instance.audit_fields()
    before = None if created else getattr(instance, "_audit_before", None)
    if before is not None:
        before = {k: v for k, v in before.items() if k in after}
        volatile = {f.attname for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)}
        if {k: v for k, v in snapshot(before).items() if k not in volatile} == {
                k: v for k, v in snapshot(after).items() if k not in volatile}:
            return
    record("create" if created else "update", instance, before=before, after=after)
    instance._audit_before = after


@receiver(post_delete)
def _on_delete(sender, instance, **kwargs):
    if not isinstance(instance, AuditedModel):
        return
    record("delete", instance, before=instance.audit_fields(), after=None)


def verify_chain(batch_size: int = 5000):
    """Walk the chain in order. Returns (ok, checked, message, bad_entry_id)."""
    prev = "0" * 64
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.prev_hash != prev:
                return False, checked, f"entry {entry.id}: previous hash does not match (an entry before it was removed or altered)", entry.id
            if entry_digest(entry) != entry.hash:
                return False, checked, f"entry {entry.id}: content does not match its hash (altered)", entry.id
            prev = entry.hash
            checked += 1
            last_id = entry.id
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != prev or head.count != checked):
        return False, checked, (
            f"chain head expects {head.count} entries ending in {head.last_hash[:12]}…, "
            f"found {checked} ending in {prev[:12]}… (entries at the end were removed)"
        ), last_id or None
    return True, checked, f"{checked} entries verified", None
