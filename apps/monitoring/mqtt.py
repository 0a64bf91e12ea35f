"""The MQTT consumer: shared subscription, QoS 1, persistent session, ack only after commit.

Messages are collected into batches (``batch_size``, or until no message came for
``batch_gap`` seconds, or ``batch_wait`` seconds, whichever comes first), the batch goes through ``ingest_batch`` in one transaction, and only then
is each message acknowledged (``manual_ack``). A consumer killed at any moment loses
nothing: unacknowledged messages are redelivered to the session (or to another member
of the shared group) and readings already stored are ignored as duplicates.
"""
import gc
import logging
import socket
import struct
import threading
import time
from collections import deque
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from paho.mqtt.enums import CallbackAPIVersion

from .choices import DeadLetterReason
from .ingest import dead_letter_payload, ingest_batch, safe_detail
from .models import DeadLetter

# The database is away (restart, network, failover): the same batch will go in later. Every other
# error (bad data, a bug) would fail again the same way, so it is never retried as a whole.
TRANSIENT = (OperationalError, InterfaceError)

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "firesafe"
DEFAULT_GROUP = "firesafe-ingest"
PUBACK = 0x40  # MQTT control packet type 4, no flags
_pack_puback = struct.Struct("!BBH").pack  # type, remaining length 2, packet id (as paho packs it)


def readings_topic(prefix=DEFAULT_PREFIX, device="+"):
    return f"{prefix}/devices/{device}/readings"


def subscriptions(prefix=DEFAULT_PREFIX, profiles=None):
    """The topic filters the consumer subscribes to: everything under the prefix (a mistyped topic
    becomes a dead letter instead of vanishing) and each payload profile's topic outside it
    (ThingsBoard's ``v1/devices/+/telemetry``). No two filters overlap, so no message comes twice."""
    from .adapters import subscription_filter
    from .ingest import active_profiles

    filters = [f"{prefix}/#"]
    for p in profiles if profiles is not None else active_profiles():
        f = subscription_filter(p.topic, prefix)
        if not (f == prefix or f.startswith(prefix + "/")) and f not in filters:
            filters.append(f)
    return filters


def received_times(batch):
    """Each message's receive time (wall clock, UTC) from paho's monotonic ``timestamp`` of its arrival."""
    from django.utils import timezone

    wall, mono = timezone.now(), time.monotonic()
    base = wall.timestamp() - mono  # monotonic -> epoch seconds, for this batch
    out = []
    for m in batch:
        at = getattr(m, "timestamp", None)
        out.append(datetime.fromtimestamp(base + at, UTC) if type(at) is float and at <= mono else wall)
    return out


class BufferedSocket:
    """A TCP socket read 64 KiB at a time, for paho.

    paho reads a packet in three or more ``recv`` calls (the type byte, the remaining length byte by
    byte, then the rest): a system call each, per message. This serves them from one ``recv`` of
    whatever has arrived. ``pending()`` is the hook paho already has for SSL sockets, which buffer
    too: while it is above zero paho's loop reads on without waiting in ``select``. Everything else
    (``send``, ``fileno``, ``close`` …) is the socket's own.
    """

    CHUNK = 65536

    def __init__(self, sock):
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, bufsize):
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            buf = self._sock.recv(max(bufsize, self.CHUNK))  # BlockingIOError, OSError: as paho expects
            if not buf:
                return buf
            self._buf, pos = buf, 0
        end = pos + bufsize
        self._pos = min(end, len(buf))
        return buf[pos:end] if pos or end < len(buf) else buf

    def pending(self):
        return len(self._buf) - self._pos

    def take_publish(self):
        """The QoS 0 or 1 PUBLISH packet at the head of the buffer, if it is all here:
        ``(header byte, topic, packet id, payload)``, taken out of the buffer. ``None``, with nothing
        taken, for any other packet, one not all received yet, or one paho would refuse (an empty topic,
        a remaining length over four bytes): paho reads those as before."""
        buf, pos = self._buf, self._pos
        end = len(buf)
        if pos >= end:
            return None
        header = buf[pos]
        if header & 0xF6 not in (0x30, 0x32):  # PUBLISH at QoS 0 or 1, any DUP and RETAIN flags
            return None
        length, shift, i = 0, 0, pos + 1
        while True:
            if i >= end or shift > 21:
                return None
            byte = buf[i]
            i += 1
            length += (byte & 127) << shift
            if not byte & 128:
                break
            shift += 7
        stop = i + length
        if stop > end or length < 2:
            return None
        start = i + 2
        topic_end = start + ((buf[i] << 8) | buf[i + 1])
        payload_start = topic_end + 2 if header & 0x02 else topic_end  # (QoS 1: the packet id first)
        if payload_start > stop or topic_end == start:
            return None
        mid = (buf[topic_end] << 8) | buf[topic_end + 1] if header & 0x02 else 0
        self._pos = stop
        return header, buf[start:topic_end], mid, buf[payload_start:stop]

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _Client(mqtt.Client):
    """paho's client on a ``BufferedSocket`` (plain TCP only: TLS and websockets as paho does them), reading
    every packet already received in one turn of its loop, and a whole QoS 0/1 PUBLISH in one piece."""

    # Packets read in one wake-up of the network thread at most, before it writes (acks) and keeps
    # the connection alive (paho's loop_misc) again.
    READ_BURST = 1000

    def _create_socket(self):
        sock = super()._create_socket()
        return BufferedSocket(sock) if type(sock) is socket.socket else sock

    def _packet_read(self):
        """A QoS 0/1 PUBLISH already whole in the buffer is taken in one piece; everything else, and
        MQTT 5 (properties), is paho's own ``_packet_read``. paho reads a packet in four ``recv`` calls
        and a dictionary of partial state, then decodes it: about half of the network thread's time in
        a stream of small messages."""
        sock = self._sock
        if type(sock) is BufferedSocket and self._in_packet["command"] == 0 and self._protocol != mqtt.MQTTv5:
            whole = sock.take_publish()
            if whole is not None:
                return self._publish_received(*whole)
        return super()._packet_read()

    def _publish_received(self, header, topic, mid, payload):
        """What paho's ``_handle_publish`` does with a QoS 0 or 1 PUBLISH on MQTT 3.1.x (tested against it),
        but for its debug log line per message (the consumer does not turn paho's logging on)."""
        message = mqtt.MQTTMessage(mid=mid, topic=topic)
        message.dup = bool(header & 0x08)
        message.qos = qos = (header & 0x06) >> 1
        message.retain = bool(header & 0x01)
        message.payload = payload
        message.timestamp = now = mqtt.time_func()
        with self._msgtime_mutex:
            self._last_bytes_received = now
        self._handle_on_message(message)
        if qos and not self._manual_ack:
            return self._send_puback(mid)
        return mqtt.MQTT_ERR_SUCCESS

    def loop_read(self, max_packets=1):
        """paho's ``loop_read``, read on while the buffer holds bytes already received.

        paho reads one packet per turn of its loop (with QoS 1 nothing raises its count), and each turn
        asks ``select`` first: a system call per message though the next one is already in the buffer.
        A partial packet ends the burst: paho keeps it and the buffer is empty, as before.
        """
        rc = super().loop_read(max_packets)
        sock = self._sock
        if type(sock) is BufferedSocket:
            for _ in range(self.READ_BURST):
                if rc != mqtt.MQTT_ERR_SUCCESS or self._sock is not sock or not sock.pending():
                    break
                rc = super().loop_read(max_packets)
        return rc


class Consumer:
    def __init__(self, *, host="127.0.0.1", port=1883, prefix=DEFAULT_PREFIX, group=DEFAULT_GROUP,
                 client_id="firesafe-ingest-1", batch_size=1000, batch_wait=0.2, batch_gap=0.005,
                 keepalive=30, username=None, password=None):
        self.host, self.port, self.keepalive = host, port, keepalive
        self.prefix, self.group = prefix, group
        self.filters = []
        self.topic = f"$share/{group}/{readings_topic(prefix)}"  # kept for callers; see ``_on_connect``
        self.batch_size, self.batch_wait, self.batch_gap = batch_size, batch_wait, batch_gap
        # Filled by the network thread, emptied by the batch loop: a deque (append and popleft are
        # atomic) and an event set when it may hold messages, rather than a Queue's lock per message.
        self.queue = deque()
        self._arrived = threading.Event()
        self.subscribed = False
        self._live = threading.Event()  # subscribed, or the persistent session is already delivering
        self.stopping = lambda: False  # set by the command: true once SIGTERM/SIGINT arrived
        self.stats = {"messages": 0, "stored": 0, "duplicates": 0, "rejected": 0, "batches": 0}
        # MQTT 3.1.1: Mosquitto serves shared subscriptions to 3.1.1 clients too, and paho parses no
        # MQTT 5 properties per message (a third of the consumer's time under v5). The session is
        # persistent (clean_session=False, kept by the broker's persistent_client_expiration) and the
        # in-flight window is the broker's max_inflight_messages (deploy/mosquitto/firesafe.conf).
        self.client = _Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                              clean_session=False, manual_ack=True)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # paho callbacks run in the network thread: they only queue.
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        self.filters = subscriptions(self.prefix)
        client.subscribe([(f"$share/{self.group}/{f}", 1) for f in self.filters])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.subscribed = True
        self._live.set()

    def _on_message(self, client, userdata, msg):
        self.queue.append(msg)
        if not self._arrived.is_set():
            self._arrived.set()
        if not self._live.is_set():
            self._live.set()
        # The network thread reads on while a batch is ingested: the batch's Python work is short (the
        # express lane) and its database round trips leave the GIL free, so pausing this thread for the
        # batch (as it did before the lane) cost more wall time than it saved. The broker's in-flight
        # window bounds what is queued here.

    def start(self, wait=10.0):
        # What the process holds by now (Django, the apps, the caches) lives as long as it does: out of
        # the cyclic collector's way, so that the collections set off by the stream's short-lived
        # objects do not walk it again and again (gc.freeze, as long-running servers do).
        gc.collect()
        gc.freeze()
        self.client.connect(self.host, self.port, self.keepalive)
        self.client.loop_start()
        # A persistent session delivers what the broker queued for it before the SUBACK of the
        # (re-)subscription comes back: start consuming as soon as either happens.
        self._live.wait(wait)
        return self._live.is_set()

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()

    def _take_batch(self, timeout):
        """Up to ``batch_size`` messages: while they keep coming (no gap over ``batch_gap``) for at most
        ``batch_wait`` seconds. A burst becomes one batch; a lone message waits only ``batch_gap``.

        It sleeps and looks at the queue's size rather than waking for every message, so the network
        thread receives a burst without handing the GIL back and forth per message.
        """
        pending = self.queue
        if not pending:
            self._arrived.clear()
            if not pending and not self._arrived.wait(timeout):  # (a message may have come in between)
                return []
        deadline = time.monotonic() + self.batch_wait
        size = len(pending)
        while size < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(remaining, self.batch_gap))
            grown = len(pending)
            if grown == size:
                break
            size = grown
        take = pending.popleft
        return [take() for _ in range(min(len(pending), self.batch_size))]

    def process(self, batch):
        """Ingest and commit a batch, then acknowledge its messages. Database errors retry; never drop."""
        return self._process(batch)

    def _process(self, batch):
        payloads, topics = [m.payload for m in batch], [m.topic for m in batch]
        received = received_times(batch)
        delay = 0.5
        while True:
            if self.stopping():
                # Asked to stop while the database is away: leave the batch unacknowledged (the
                # broker redelivers it to the next consumer) and end now, not after the retries.
                return None
            try:
                close_old_connections()
                result = ingest_batch(payloads, source="mqtt", topics=topics, received=received, prefix=self.prefix)
                break
            except TRANSIENT:
                log.exception("database unavailable; retrying the batch (messages stay unacknowledged)")
                connection.close()
                self._sleep(delay)
                delay = min(delay * 2, 10)
            except Exception:  # noqa: BLE001 - bad data or a bug on one message must not stop the consumer
                # Data errors (DataError, IntegrityError …) would fail the same way forever: find
                # the message at fault instead of retrying the batch.
                log.exception("batch failed; ingesting message by message")
                connection.close()
                result = self._one_by_one(payloads, topics, received)
                if result is None and self.stopping():
                    return None
                break
        self._ack(batch)
        self.stats["messages"] += len(batch)
        self.stats["batches"] += 1
        if result is not None:
            self.stats["stored"] += result.stored
            self.stats["duplicates"] += result.duplicates
            self.stats["rejected"] += result.rejected
        return result

    def _ack(self, batch):
        """PUBACK every QoS 1 message of a committed batch in one write.

        ``client.ack`` queues one 4-byte packet and wakes the network thread once per message (a
        system call each, and the GIL handed back and forth: 7-8 ms for 900 messages). The same
        packets, joined, go out in one ``send``; the broker reads them one by one as before. Without
        the (private, but long-standing) queueing method, or for any other QoS, it acks one by one.
        """
        queue_packet = getattr(self.client, "_packet_queue", None)
        if queue_packet is None or any(m.qos != 1 for m in batch):
            for m in batch:
                self.client.ack(m.mid, m.qos)
            return
        queue_packet(PUBACK, b"".join([_pack_puback(PUBACK, 2, m.mid) for m in batch]), 0, 1)

    def _one_by_one(self, payloads, topics, received=None):
        """Each message in its own transaction; one that fails for any reason but an unavailable
        database becomes a dead letter (stored safely whatever its bytes) and the rest go on."""
        received = received or [None] * len(payloads)
        for payload, topic, at in zip(payloads, topics, received, strict=True):
            delay = 0.5
            while True:
                if self.stopping():
                    return None
                try:
                    close_old_connections()
                    ingest_batch([payload], source="mqtt", topics=[topic], received=[at], prefix=self.prefix)
                    break
                except TRANSIENT:
                    connection.close()
                    self._sleep(delay)
                    delay = min(delay * 2, 10)
                except Exception as exc:  # noqa: BLE001
                    connection.close()
                    text, encoding = dead_letter_payload(payload)
                    with transaction.atomic():
                        DeadLetter.objects.create(source="mqtt", topic=safe_detail(topic)[:300],
                                                  reason=DeadLetterReason.INVALID,
                                                  detail=safe_detail(f"processing error: {exc}"),
                                                  payload=text, payload_encoding=encoding)
                    break
        return None

    def _sleep(self, seconds):
        """Sleep, but wake within 0.1 s of a stop request (SIGTERM)."""
        end = time.monotonic() + seconds
        while not self.stopping() and time.monotonic() < end:
            time.sleep(min(0.1, end - time.monotonic()))

    def run(self, *, until=None, idle_exit=None, poll=0.5):
        """Consume until ``until()`` is true or no message came for ``idle_exit`` seconds."""
        idle_since = time.monotonic()
        while until is None or not until():
            batch = self._take_batch(poll)
            if batch:
                self.process(batch)
                idle_since = time.monotonic()
            elif idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                break
