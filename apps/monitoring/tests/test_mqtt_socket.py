"""The consumer's buffered socket: paho's reads served from one ``recv`` of what has arrived."""
import socket

import paho.mqtt.client as paho_mqtt
import pytest

from apps.monitoring.mqtt import BufferedSocket, _Client


def test_reads_are_served_in_order_across_chunks_and_pending_counts_what_is_left():
    a, b = socket.socketpair()
    try:
        b.setblocking(False)
        sock = BufferedSocket(b)
        packets = [bytes([0x30, 5]) + b"hello", bytes([0x30, 3]) + b"abc"]
        a.sendall(b"".join(packets))
        got = []
        for _ in packets:  # as paho reads: the type byte, the length byte, then the rest
            kind, length = sock.recv(1), sock.recv(1)
            got.append(kind + length + sock.recv(length[0]))
        assert got == packets and sock.pending() == 0
        with pytest.raises(BlockingIOError):  # nothing left in the buffer nor in the socket
            sock.recv(1)
        assert sock.fileno() == b.fileno()  # everything else is the socket's own
    finally:
        b.close()


def test_a_short_read_returns_what_there_is_and_eof_is_empty():
    a, b = socket.socketpair()
    try:
        sock = BufferedSocket(b)
        a.sendall(b"xyz")
        assert sock.recv(10) == b"xyz"  # fewer bytes than asked: paho keeps the rest for later
        assert sock.pending() == 0
        a.close()
        assert sock.recv(1) == b""  # the connection closed
    finally:
        b.close()


def test_only_plain_tcp_sockets_are_wrapped(monkeypatch):
    import paho.mqtt.client as paho

    class TLS(socket.socket):
        """Stands for ssl.SSLSocket, a subclass of socket.socket too: it buffers on its own."""

    from paho.mqtt.enums import CallbackAPIVersion

    client = _Client(CallbackAPIVersion.VERSION2, client_id="t")
    for made, wrapped in ((socket.socket(), True), (TLS(), False)):
        with made:
            monkeypatch.setattr(paho.Client, "_create_socket", lambda self, s=made: s)
            got = client._create_socket()
            assert isinstance(got, BufferedSocket) is wrapped
            assert got.fileno() == made.fileno()


def _remaining_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic, payload, mid, header=0x32):
    """An MQTT 3.1.1 PUBLISH (``header``: QoS 1 by default; the packet id only at QoS 1 and 2)."""
    body = len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if header & 0x06 else b"") + payload
    return bytes([header]) + _remaining_length(len(body)) + body


def _reading_client(sock):
    from paho.mqtt.client import MQTTv311
    from paho.mqtt.enums import CallbackAPIVersion

    client = _Client(CallbackAPIVersion.VERSION2, client_id="t", protocol=MQTTv311, manual_ack=True)
    got = []
    client.on_message = lambda c, u, m: got.append((m.mid, m.payload))
    client._sock = BufferedSocket(sock)
    return client, got


def test_one_read_handles_every_packet_already_in_the_buffer_and_keeps_a_partial_one():
    """paho handles one packet per turn of its loop, each turn after a ``select``: the consumer's client
    reads on while the buffer holds bytes, so a burst costs one system call, not one per message."""
    a, b = socket.socketpair()
    try:
        b.setblocking(False)
        client, got = _reading_client(b)
        packets = [_publish_packet(b"fs/devices/D-1/readings", b'{"n":%d}' % i, i + 1) for i in range(5)]
        stream = b"".join(packets)
        cut = len(stream) - 4  # the last packet arrives in two parts
        a.sendall(stream[:cut])
        assert client.loop_read() == 0
        assert got == [(i + 1, b'{"n":%d}' % i) for i in range(4)]
        assert client._sock.pending() == 0  # the partial packet is paho's to keep, not the buffer's
        a.sendall(stream[cut:])
        assert client.loop_read() == 0
        assert got[-1] == (5, b'{"n":4}') and len(got) == 5
    finally:
        b.close()


def test_a_burst_is_bounded_so_the_loop_still_writes_acks_and_keeps_alive(monkeypatch):
    a, b = socket.socketpair()
    try:
        b.setblocking(False)
        client, got = _reading_client(b)
        monkeypatch.setattr(_Client, "READ_BURST", 2)
        a.sendall(b"".join(_publish_packet(b"t", b"x", i + 1) for i in range(6)))
        client.loop_read()
        assert len(got) == 3  # paho's one, then READ_BURST more; the rest at the next turn
        client.loop_read()
        assert len(got) == 6
    finally:
        b.close()


class _PahoRead(_Client):
    """The same client reading every packet as paho does (no whole-PUBLISH fast path)."""

    _packet_read = paho_mqtt.Client._packet_read


def _stream_of_packets(rng):
    """PUBLISH at QoS 0, 1 and 2 with any flags, topics and payloads (remaining lengths of one to three
    bytes), packets paho refuses (an empty topic), a topic that is not UTF-8, and other packet types."""
    packets = []
    for mid in range(1, 120):
        qos = rng.choice((0, 1, 1, 1, 2))
        flags = (rng.random() < 0.2) << 3 | qos << 1 | (rng.random() < 0.2)
        topic = rng.choice((b"fs/devices/D-%d/readings" % mid, b"v1/devices/me/telemetry", b"\xff\xfe/x"))
        payload = rng.randbytes(rng.choice((0, 3, 90, 200, 20000)))
        packets.append(_publish_packet(topic, payload, mid, 0x30 | flags))
        if rng.random() < 0.1:
            packets.append(bytes([0xD0, 0]))  # PINGRESP
    return packets


def _read_all(cls, chunks, manual_ack):
    from paho.mqtt.client import MQTTv311
    from paho.mqtt.enums import CallbackAPIVersion

    a, b = socket.socketpair()
    try:
        b.setblocking(False)
        client = cls(CallbackAPIVersion.VERSION2, client_id="t", protocol=MQTTv311, manual_ack=manual_ack)
        got, codes = [], []
        client.on_message = lambda c, u, m: got.append(
            (m._topic, m.mid, m.qos, m.dup, m.retain, bytes(m.payload), type(m.timestamp)))
        client._sock = BufferedSocket(b)
        for chunk in chunks:
            a.sendall(chunk)
            for _ in range(1000):  # (bounded: a reader that stops making progress fails, not hangs)
                if client._sock is None:
                    break
                rc = client.loop_read()
                codes.append(rc)
                if rc or not client._sock.pending():
                    break
            if client._sock is None or codes[-1]:
                break
        client.loop_write()
        a.setblocking(False)
        try:
            sent = a.recv(1 << 20)  # what the client wrote back: PUBACK, PUBREC
        except BlockingIOError:
            sent = b""
        return got, [c for c in codes if c], sent
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("seed", range(6))
def test_the_whole_publish_path_gives_what_paho_gives(seed):
    """Any stream, cut anywhere: the same messages (topic, id, QoS, flags, payload), the same errors and the
    same bytes written back (PUBACK with automatic acks, PUBREC for QoS 2) as paho's own reading."""
    import random

    rng = random.Random(seed)
    packets = [p for p in _stream_of_packets(rng) if seed % 2 or p[0] & 0xF0 != 0x30 or p[1:3] != b"\x00\x00"]
    if seed == 4:  # a packet paho refuses (empty topic) ends the stream in the same error on both
        packets.insert(40, bytes([0x32, 4, 0, 0, 0, 7]))
    stream = b"".join(packets)
    cuts = sorted(rng.sample(range(1, len(stream)), 60))
    chunks = [stream[i:j] for i, j in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    for manual_ack in (True, False):
        ours, paho = _read_all(_Client, chunks, manual_ack), _read_all(_PahoRead, chunks, manual_ack)
        assert ours == paho
        assert ours[0]  # messages were read (the comparison is not of two empty lists)


def test_a_stream_cut_at_every_byte_reads_as_paho_reads_it():
    # QoS 1; QoS 0; QoS 1 retained; QoS 1 duplicate, retained, with a two-byte remaining length
    packets = [_publish_packet(b"fs/devices/D-1/readings", b'{"a":1}', 7), _publish_packet(b"t/x", b"qq", 0, 0x30),
               _publish_packet(b"r", b"pl", 9, 0x33), _publish_packet(b"t", b"z" * 130, 5, 0x3B)]
    assert packets[-1][1] & 128
    stream = b"".join(packets)
    for cut in range(1, len(stream)):
        for manual_ack in (True, False):
            chunks = [stream[:cut], stream[cut:]]
            ours = _read_all(_Client, chunks, manual_ack)
            assert ours == _read_all(_PahoRead, chunks, manual_ack), cut
            assert len(ours[0]) == 4


@pytest.mark.parametrize("bad", [
    bytes([0x30, 4, 0, 5]) + b"ab",  # QoS 0: the topic's length runs past the packet
    bytes([0x30, 4, 0, 3]) + b"ab",  # QoS 0: by one byte
    bytes([0x32, 4, 0, 2]) + b"ab",  # QoS 1: no room left for the packet id
    bytes([0x32, 5, 0, 2]) + b"ab" + b"\x01",  # QoS 1: one byte of packet id
    bytes([0x32, 3, 0, 9]) + b"a",  # QoS 1: the topic's length runs past the packet
    bytes([0x32, 1, 0]),  # shorter than a topic's length
    bytes([0x32, 2, 0, 0]),  # an empty topic
    bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) + b"x",  # a remaining length of five bytes
])
def test_a_malformed_publish_fails_as_it_does_in_paho(bad):
    good = _publish_packet(b"t/1", b"ok", 3)
    for chunks in ([good + bad + good], [good + bad, good]):
        ours = _read_all(_Client, chunks, True)
        assert ours == _read_all(_PahoRead, chunks, True)
        assert ours[1], "paho refuses it: the stream ends in an error"
