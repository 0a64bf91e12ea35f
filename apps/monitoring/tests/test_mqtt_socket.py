"""The consumer's buffered socket: paho's reads served from one ``recv`` of what has arrived."""
import socket

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


def _publish_packet(topic, payload, mid):
    """An MQTT 3.1.1 PUBLISH, QoS 1 (remaining length under 128: one byte)."""
    body = len(topic).to_bytes(2, "big") + topic + mid.to_bytes(2, "big") + payload
    assert len(body) < 128
    return bytes([0x32, len(body)]) + body


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
