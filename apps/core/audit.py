"""The trail (留痕, mechanism 3): an append-only, keyed, hash-chained change log.

Every save and delete of an ``AuditedModel`` writes an ``AuditEntry`` through signals;
services record named actions (``record_action``); exports and downloads are recorded with
``record_download``. Each entry stores the HMAC-SHA256 of every stored field (actor id
included) and of the previous entry's hash, under a key from the environment
(``AUDIT_HMAC_KEY``, its id in ``key_id``), so whoever holds only the database cannot recompute
the chain. The chain head remembers the last hash and the count; ``manage.py audit_anchor``
appends signed checkpoints (count, last id, last hash, time) to a file outside the database,
and ``manage.py verify_audit`` checks the chain against the head and every checkpoint, so an
entry altered, removed or inserted, a truncated or emptied table, a rewritten head or a
recomputed chain is reported. See docs/audit.md.
"""
import contextlib
import contextvars
import datetime
import decimal
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import AuditAction, AuditChainHead, AuditedModel, AuditEntry

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


GENESIS = "0" * 64
LEGACY_KEY_ID = ""  # entries written before the trail was keyed: plain SHA-256 (audit_sign_legacy)


class UnknownKey(Exception):
    pass


def hmac_keys() -> dict:
    """key id -> key: the current AUDIT_HMAC_KEY and the retired ones (AUDIT_HMAC_OLD_KEYS)."""
    keys = {k: v for k, v in settings.AUDIT_HMAC_OLD_KEYS.items() if v}
    if settings.AUDIT_HMAC_KEY:
        keys[settings.AUDIT_HMAC_KEY_ID] = settings.AUDIT_HMAC_KEY
    return keys


def current_key_id() -> str:
    if not settings.AUDIT_HMAC_KEY:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set to write the trail.")
    return settings.AUDIT_HMAC_KEY_ID


def sign(key_id: str, payload: dict) -> str:
    """HMAC-SHA256 of the canonical JSON of ``payload`` under the key named ``key_id``."""
    key = hmac_keys().get(key_id)
    if key is None:
        raise UnknownKey(key_id)
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _type_label(entry):
    ct = entry.content_type_id and ContentType.objects.get_for_id(entry.content_type_id)
    return f"{ct.app_label}.{ct.model}" if ct else ""


def _content(entry: AuditEntry) -> dict:
    """The fields the unkeyed digest covered (everything but the actor id and key id)."""
    return {
        "time": entry.time.astimezone(datetime.UTC).isoformat(),
        "actor": entry.actor_name,
        "org": entry.organization_name,
        "action": entry.action,
        "type": _type_label(entry),
        "object_id": entry.object_id,
        "object": entry.object_repr,
        "institution": entry.institution_id,
        "before": entry.before,
        "after": entry.after,
        "request": entry.request_id,
        "addr": entry.remote_addr,
        "prev": entry.prev_hash,
    }


def legacy_digest(entry: AuditEntry) -> str:
    """The unkeyed SHA-256 that entries carried before the trail was keyed (no actor id)."""
    canonical = json.dumps(_content(entry), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_digest(entry: AuditEntry) -> str:
    """What ``entry.hash`` must be: the HMAC of every stored field but the id and the hash itself.

    Raises ``UnknownKey`` when the entry names a key that is not configured.
    """
    if entry.key_id == LEGACY_KEY_ID:
        return legacy_digest(entry)
    return sign(entry.key_id, {**_content(entry), "v": 2, "key": entry.key_id, "actor_id": entry.actor_id})


def record(action, obj=None, *, before=None, after=None, actor=None, institution_id=None, object_repr=None,
           username=None):
    """Append one entry to the trail, inside the caller's transaction."""
    ctx = _context.get()
    key_id = current_key_id()
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
            key_id=key_id,
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


def record_download(filename, obj=None, *, action="export", **data):
    """Record that the current user took a file away: an export (``export``) or a stored
    document (``download``), with the page or endpoint it came from."""
    ctx = _context.get()
    request = ctx.request if ctx else None
    path = request.get_full_path() if request is not None else ""
    return record(action, obj, after={"file": filename, "path": path[:500], **data},
                  object_repr=None if obj is not None else filename)


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


@dataclass
class Verification:
    checked: int = 0  # entries whose link and HMAC were checked
    last_id: int | None = None
    last_hash: str = GENESIS
    problems: list = field(default_factory=list)
    bad_entry_id: int | None = None
    legacy: int = 0  # entries still carrying the old unkeyed digest
    checkpoints: int = 0

    @property
    def ok(self):
        return not self.problems


def _walk(result, prev, last_id, positions, wanted, batch_size):
    """Check the link and the HMAC of every entry after ``last_id`` (reporting the first bad one
    and how many there are), and remember the position and hash of the ids checkpoints name."""
    first_legacy = None
    bad = 0
    result.last_id, result.last_hash = last_id or None, prev
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for entry in batch:
            problem = None
            if entry.prev_hash != prev:
                problem = f"entry {entry.id}: previous hash does not match (an entry before it was removed or altered)"
            else:
                try:
                    if entry_digest(entry) != entry.hash:
                        problem = f"entry {entry.id}: content does not match its hash (altered)"
                except UnknownKey:
                    problem = (f"entry {entry.id}: signed with key id {entry.key_id!r}, which is not configured "
                               "(AUDIT_HMAC_KEY_ID / AUDIT_HMAC_OLD_KEYS)")
            if problem:
                bad += 1
                if result.bad_entry_id is None:
                    result.problems.append(problem)
                    result.bad_entry_id = entry.id
            if entry.key_id == LEGACY_KEY_ID:
                result.legacy += 1
                first_legacy = first_legacy or entry.id
            prev = entry.hash
            result.checked += 1
            last_id = entry.id
            result.last_id, result.last_hash = last_id, prev
            if entry.id in wanted:
                positions[entry.id] = (result.checked, entry.hash)
    if bad > 1:
        result.problems.append(f"{bad} entries in all do not verify (the chain after entry {result.bad_entry_id} "
                               "was rewritten or recomputed without the key)")
    if result.legacy:
        result.problems.append(
            f"{result.legacy} entries from entry {first_legacy} on carry the old unkeyed digest, which anyone "
            "holding the database can recompute: run manage.py audit_sign_legacy once")


def verify_chain(batch_size: int = 5000, checkpoints=None, since=None) -> Verification:
    """Walk the chain in order and check it against the head and the given checkpoints.

    ``since`` (a checkpoint) starts the walk after the entry it names, for ``audit_anchor``.
    """
    result = Verification()
    checkpoints = list(checkpoints or [])
    wanted = {cp["last_id"] for cp in checkpoints if cp.get("last_id")}
    positions = {}
    prev, last_id, offset = GENESIS, 0, 0
    if since and since.get("last_id"):
        start = AuditEntry.objects.filter(pk=since["last_id"]).values_list("hash", flat=True).first()
        if start != since["last_hash"]:
            result.problems.append(
                f"entry {since['last_id']} recorded by the checkpoint of {since['time']} is missing or was rewritten")
            return result
        prev, last_id, offset = since["last_hash"], since["last_id"], since["count"]
    _walk(result, prev, last_id, positions, wanted, batch_size)
    result.checked += offset
    positions = {k: (n + offset, h) for k, (n, h) in positions.items()}
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != result.last_hash or head.count != result.checked):
        result.problems.append(
            f"chain head expects {head.count} entries ending in {head.last_hash[:12]}…, "
            f"found {result.checked} ending in {result.last_hash[:12]}… (entries at the end were removed)")
        if result.bad_entry_id is None:
            result.bad_entry_id = result.last_id
    for cp in checkpoints:
        result.checkpoints += 1
        _check_against(result, cp, positions)
    return result


def _check_against(result, cp, positions):
    when, count, last_id, last_hash = cp["time"], cp["count"], cp["last_id"], cp["last_hash"]
    if not count:
        return
    if last_id in positions:
        position, found_hash = positions[last_id]
        if found_hash != last_hash:
            result.problems.append(
                f"checkpoint of {when}: entry {last_id} has hash {found_hash[:12]}… but {last_hash[:12]}… was "
                "anchored: the chain up to it was rewritten (recomputed)")
        elif position != count:
            result.problems.append(
                f"checkpoint of {when}: {count} entries up to entry {last_id} were anchored, {position} found: "
                f"{abs(count - position)} entries before it were {'removed' if position < count else 'inserted'}")
        return
    if result.checked == 0:
        result.problems.append(
            f"checkpoint of {when}: {count} entries up to entry {last_id} were anchored, but the trail is empty "
            "(every entry was removed)")
    elif (result.last_id or 0) < last_id:
        result.problems.append(
            f"checkpoint of {when}: {count} entries up to entry {last_id} were anchored, but the trail ends at "
            f"entry {result.last_id} with {result.checked} entries: the entries after entry {result.last_id} up "
            f"to entry {last_id} are missing (removed at the end)")
    else:
        result.problems.append(f"checkpoint of {when}: entry {last_id} is missing (removed)")


def sign_legacy(batch_size: int = 2000) -> dict:
    """Sign the whole chain with the current key, once, after checking it the old way.

    Entries written before the trail was keyed carry a plain SHA-256 that anyone holding the
    database can recompute. This verifies every entry as it claims to be signed (refusing with
    ``ValueError`` if anything is off), then re-computes every link and HMAC under
    ``AUDIT_HMAC_KEY`` and records the re-signing, with the old head, in the trail itself.
    """
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        legacy = AuditEntry.objects.filter(key_id=LEGACY_KEY_ID).count()
        if not legacy:
            return {"legacy": 0, "entries": 0, "old_last_hash": head.last_hash if head else GENESIS}
        check = verify_chain()
        if check.bad_entry_id is not None:
            raise ValueError(f"The trail does not verify the old way, nothing was re-signed: {check.problems[0]}")
        key_id = current_key_id()
        prev, last_id, count = GENESIS, 0, 0
        while True:
            batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
            if not batch:
                break
            for entry in batch:
                entry.prev_hash, entry.key_id = prev, key_id
                entry.hash = entry_digest(entry)
                prev, last_id = entry.hash, entry.id
                count += 1
            AuditEntry.objects.bulk_update(batch, ["prev_hash", "key_id", "hash"])
        old_last_hash = head.last_hash if head else check.last_hash
        AuditChainHead.objects.update_or_create(pk=1, defaults={"last_hash": prev, "count": count})
        record(AuditAction.LEGACY_SIGNED.value, None, object_repr="audit trail", after={
            "entries": count, "legacy_entries": legacy, "old_last_hash": old_last_hash, "key_id": key_id})
    return {"legacy": legacy, "entries": count, "old_last_hash": old_last_hash}
