"""Replaying dead letters after a payload profile (or a device's registration) is fixed."""
from django.db import transaction
from django.utils import timezone

from apps.core.audit import record_action

from .ingest import forget_profiles, prepare_batch, write_prepared
from .models import DeadLetter


def replay(letter: DeadLetter, user=None):
    """Ingest the dead letter's payload again, as received (its topic and receive time).

    Stored (or already stored): the letter is marked replayed. Rejected again: the letter keeps its
    place with the new reason, and no second dead letter is written. Returns the status.
    """
    forget_profiles()  # a profile fixed a moment ago in another process counts at once
    auth_device = None
    if letter.source == "http" and letter.device_id is not None:
        auth_device = letter.device
    prep = prepare_batch([letter.payload_bytes], [letter.topic] if letter.topic else None,
                         source=letter.source, auth_device=auth_device, now=timezone.now(),
                         received=[letter.received_at] if letter.source == "mqtt" else None)
    prep.dead_letters = False
    result = write_prepared(prep)
    statuses = [it.status for it in result.items]
    with transaction.atomic():
        letter.replayed_at = timezone.now()
        if statuses and all(s in ("stored", "duplicate") for s in statuses):
            status = "stored" if "stored" in statuses else "duplicate"
            letter.replay_result = status
        else:
            bad = next(it for it in result.items if it.status == "rejected")
            status = "rejected"
            letter.replay_result = f"rejected: {bad.reason}"[:200]
            letter.reason, letter.detail = bad.reason, str(bad.detail).replace("\x00", "")[:500]
        letter.save(update_fields=["replayed_at", "replay_result", "reason", "detail"])
        record_action(letter, "monitoring.deadletter.replay", actor=user, result=letter.replay_result)
    return status
