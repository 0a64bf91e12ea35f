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
