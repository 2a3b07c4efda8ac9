"""Loopback peers shared by tests: a UDP echo server, a TCP listener, a port nothing listens on and
one whose SYNs go unanswered."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def udp_responder(answer: Callable[[bytes], bytes]) -> Iterator[int]:
    """A UDP server on 127.0.0.1 that answers every datagram with ``answer(datagram)``; yields its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                data, peer = sock.recvfrom(65535)
                sock.sendto(answer(data), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


@contextlib.contextmanager
def udp_echo() -> Iterator[int]:
    """A UDP server on 127.0.0.1 that sends every datagram back; yields its port."""
    with udp_responder(lambda data: data) as port:
        yield port


@contextlib.contextmanager
def tcp_listener() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that completes handshakes (the kernel's backlog); yields its port."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def unused_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago: a connect to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A TCP port on 127.0.0.1 whose SYNs go unanswered (filtered, as far as a client can tell): a
    listener with a full accept queue drops them (Linux); yields its port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(0)
        port = s.getsockname()[1]
        fillers = []
        for _ in range(2):  # backlog 0 admits one connection; the next ones fill the SYN side
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        time.sleep(0.05)
        try:
            yield port
        finally:
            for c in fillers:
                c.close()
