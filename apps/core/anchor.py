"""Checkpoints of the trail kept outside the database (``audit_anchor``, ``verify_audit``).

A checkpoint is one JSON line ``{"v", "time", "count", "last_id", "last_hash", "key", "hmac"}``
appended to ``AUDIT_ANCHOR_FILE`` (and, when ``AUDIT_ANCHOR_SYSLOG`` is set, sent to syslog;
when ``AUDIT_ANCHOR_WEBHOOK`` is set, POSTed there as JSON), signed with the trail's HMAC key. Whoever rewrites the database cannot rewrite what was
anchored before; ``verify_audit`` checks the chain against every line.
"""
import json
import logging
import logging.handlers
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .audit import UnknownKey, current_key_id, sign, verify_chain

FIELDS = ("v", "time", "count", "last_id", "last_hash", "key")


class AnchorError(Exception):
    pass


class AnchorDeliveryError(Exception):
    """The checkpoint is in the file, but could not be delivered to the webhook."""

    def __init__(self, checkpoint, reason):
        super().__init__(reason)
        self.checkpoint = checkpoint


def _payload(cp):
    return {k: cp.get(k) for k in FIELDS}


def read_checkpoints(path=None):
    """(checkpoints whose signature holds, problems with the others) from the anchor file."""
    path = Path(path or settings.AUDIT_ANCHOR_FILE)
    if not path.exists():
        return [], []
    checkpoints, problems = [], []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                cp = json.loads(line)
                valid = isinstance(cp, dict) and sign(cp["key"], _payload(cp)) == cp["hmac"]
            except UnknownKey:
                problems.append(f"{path} line {number}: signed with key id {cp['key']!r}, which is not configured")
                continue
            except (ValueError, KeyError, TypeError):
                valid = False
            if not valid:
                problems.append(f"{path} line {number}: not a checkpoint signed with the trail's key (edited?)")
                continue
            checkpoints.append(cp)
    return checkpoints, problems


def verify(path=None):
    """The chain checked against the head and every checkpoint of the anchor file."""
    checkpoints, problems = read_checkpoints(path)
    result = verify_chain(checkpoints=checkpoints)
    result.problems.extend(problems)
    return result


def anchor(path=None):
    """Verify what is new since the last checkpoint and append a checkpoint of the chain as it is.

    Refuses (``AnchorError``) to anchor a chain that does not verify: a checkpoint vouches for it.
    """
    path = Path(path or settings.AUDIT_ANCHOR_FILE)
    checkpoints, problems = read_checkpoints(path)
    if problems:
        raise AnchorError("; ".join(problems))
    result = verify_chain(since=checkpoints[-1] if checkpoints else None)
    if not result.ok:
        raise AnchorError("; ".join(result.problems))
    key = current_key_id()
    cp = {"v": 1, "time": timezone.now().isoformat(), "count": result.checked, "last_id": result.last_id,
          "last_hash": result.last_hash, "key": key}
    cp["hmac"] = sign(key, _payload(cp))
    line = json.dumps(cp, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    if settings.AUDIT_ANCHOR_SYSLOG:
        _to_syslog(line)
    if settings.AUDIT_ANCHOR_WEBHOOK:
        _to_webhook(cp)
    return cp


def _to_webhook(cp):
    """POST the signed checkpoint as JSON; a failure raises ``AnchorDeliveryError`` (the file keeps it)."""
    from .tasks import post_json

    try:
        post_json(settings.AUDIT_ANCHOR_WEBHOOK, cp)
    except (OSError, ValueError) as exc:  # URLError/HTTPError/timeouts are OSErrors; a bad URL is a ValueError
        raise AnchorDeliveryError(cp, f"the checkpoint was not delivered to AUDIT_ANCHOR_WEBHOOK: {exc}") from exc


def _to_syslog(line):
    target = settings.AUDIT_ANCHOR_SYSLOG
    if target.startswith("/"):
        address = target
    else:
        host, _sep, port = target.partition(":")
        address = (host, int(port or 514))
    handler = logging.handlers.SysLogHandler(address=address)
    try:
        handler.emit(logging.LogRecord("firesafe.audit_anchor", logging.INFO, __file__, 0,
                                       "firesafe-audit-anchor %s", (line,), None))
    finally:
        handler.close()
