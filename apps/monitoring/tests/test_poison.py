"""One hostile or broken message never stops the ingest (issue 17, poison-proof)."""
import json
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import DataError, OperationalError

from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import DeadLetter, Reading
from apps.monitoring.mqtt import Consumer

from .conftest import T0, payload

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(days=1)
# The shape of a GB/T 26875 frame: start bytes, a NUL-filled header, end bytes.
BINARY_FRAME = b"\x40\x40\x01\x00\x00\x00\x23\x23"


def test_a_binary_frame_with_nul_bytes_is_kept_as_a_dead_letter_and_the_batch_goes_on(device):
    result = ingest_batch([BINARY_FRAME, b"\xff\xfe not utf-8", payload(device, T0, residual_ma=50)],
                          source="mqtt", now=NOW)
    assert result.stored == 1 and result.rejected == 2
    frame, not_utf8 = DeadLetter.objects.order_by("id")
    assert frame.payload_encoding == "base64" and frame.payload_bytes == BINARY_FRAME
    assert not_utf8.payload_encoding == "base64" and not_utf8.payload_bytes == b"\xff\xfe not utf-8"
    assert "\x00" not in frame.detail


def test_text_payloads_stay_readable_text(device):
    ingest_batch([b"{not json"], source="http", now=NOW)
    letter = DeadLetter.objects.get()
    assert letter.payload == "{not json" and letter.payload_encoding == "text"


def _message(payload_bytes, mid=1, device="X"):
    from apps.monitoring.mqtt import readings_topic

    return SimpleNamespace(payload=payload_bytes, topic=readings_topic(device=device), mid=mid, qos=1)


@pytest.mark.django_db(transaction=True)
def test_a_data_error_is_not_retried_forever_but_found_message_by_message(device, monkeypatch):
    """A batch that fails with a data error goes message by message: the bad one is dead-lettered."""
    import apps.monitoring.mqtt as mqtt_module

    real = mqtt_module.ingest_batch
    calls = []

    def flaky(payloads, **kw):
        calls.append(len(payloads))
        if len(payloads) > 1:
            raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        if payloads[0] == BINARY_FRAME:
            raise DataError("still bad")
        return real(payloads, **kw)

    monkeypatch.setattr(mqtt_module, "ingest_batch", flaky)
    consumer = Consumer(client_id="test-poison")
    acked = []
    monkeypatch.setattr(consumer, "_ack", lambda batch: acked.extend(m.mid for m in batch))
    from django.utils import timezone

    good = payload(device, timezone.now() - timedelta(minutes=1), residual_ma=50)
    consumer.process([_message(BINARY_FRAME, 1, device.code), _message(good, 2, device.code)])
    assert calls == [2, 1, 1]  # once as a batch, then each message once
    assert acked == [1, 2]
    assert Reading.objects.count() == 1
    letter = DeadLetter.objects.get()
    assert letter.payload_bytes == BINARY_FRAME and "still bad" in letter.detail


def test_sigterm_during_a_database_outage_ends_the_consumer_within_a_second(monkeypatch):
    import apps.monitoring.mqtt as mqtt_module

    def down(payloads, **kw):
        raise OperationalError("connection refused")

    monkeypatch.setattr(mqtt_module, "ingest_batch", down)
    consumer = Consumer(client_id="test-sigterm")
    acked = []
    monkeypatch.setattr(consumer, "_ack", lambda batch: acked.extend(batch))
    stop = threading.Event()
    consumer.stopping = stop.is_set
    threading.Timer(0.6, stop.set).start()
    started = time.monotonic()
    consumer.process([_message(json.dumps({"device": "X"}).encode())])
    assert time.monotonic() - started < 1.6  # retries 0.5 s, 1 s …: it stops at the next 0.1 s tick
    assert acked == []  # not acknowledged: the broker redelivers it to the next consumer
