"""Many TCP connects from this host at once, without an event loop: non-blocking sockets and one poller.

A TCP-only sweep needs nothing more, so ``adprep ports --tcp …`` neither imports asyncio (tens of
milliseconds of start-up on a small host) nor pays a task, a timer and a future per probe. Each
probe is one ``connect()`` whose answer the kernel reports on the socket: handshake done (open),
RST (refused), or silence until the probe's own deadline (timeout). Verdicts are the same as
:func:`adprep.transport.tcp.probe_tcp`'s.
"""

from __future__ import annotations

import _socket  # not socket: its enums cost a sweep's start-up ~1.5 ms, and sockets need no wrapper here
import errno
import selectors
import time
from collections import deque
from collections.abc import Callable, Sequence

from adprep.facts.ports import TcpOutcome, TcpProbe
from adprep.transport.early_tcp import EarlyConnects, EarlyProbe

#: SO_LINGER on, 0 s (set on a socket that connected, just before closing it).
_LINGER_RST = b"\x01\x00\x00\x00\x00\x00\x00\x00"


def sweep_tcp(
    pairs: Sequence[tuple[str, int]],
    *,
    timeout: float,
    concurrency: int,
    bind: str | None = None,
    on_done: Callable[[], None] | None = None,
    early: EarlyConnects | None = None,
    on_probe: Callable[[TcpProbe], None] | None = None,
) -> list[TcpProbe]:
    """Connect to every (address, port), at most ``concurrency`` at a time; one probe per pair, in order.

    Each probe waits at most ``timeout`` seconds from its own SYN, so with ``concurrency`` at least
    ``len(pairs)`` a filtered port costs one timeout for the whole sweep. ``bind`` is the local
    address to send from. ``on_done`` is called once per finished probe (progress). A pair ``early``
    already began connecting to (with the same timeout, from no bound address) is taken over as it
    stands: its timeout runs from its own start, its answer is kept. ``on_probe`` gets each probe as it
    finishes (a caller judges the early answers while the sweep waits for the late ones).
    """
    results: list[TcpProbe | None] = [None] * len(pairs)
    started_at = [0.0] * len(pairs)
    # Probes in flight, in the order they started: with one timeout for all, also deadline order.
    # A probe that finished early stays until it reaches the head (``results[i]`` tells it is done).
    inflight: deque[tuple[float, int, _socket.socket]] = deque()
    active = 0
    selector = selectors.DefaultSelector()
    clock = time.perf_counter

    def finish(
        i: int, outcome: TcpOutcome, code: int = 0, source: str | None = None, ended: float | None = None
    ) -> None:
        address, port = pairs[i]
        name = errno.errorcode.get(code, str(code)) if code else None
        elapsed = round(((clock() if ended is None else ended) - started_at[i]) * 1000, 2)
        results[i] = probe = TcpProbe(address, port, outcome, elapsed, name, source)
        if on_probe is not None:
            on_probe(probe)
        if on_done is not None:
            on_done()

    def settle(i: int, sock: _socket.socket | None, code: int, ended: float | None = None) -> None:
        """Record what the kernel said about probe ``i`` (0: connected), at ``ended`` (default now), and
        close its socket (None: an early connect closed when the kernel answered at once)."""
        if code == 0 and sock is not None:
            source = str(sock.getsockname()[0])
            # SO_LINGER on, 0 s: close() sends RST, so a sweep of many ports leaves no TIME_WAIT behind.
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, _LINGER_RST)
            sock.close()
            finish(i, "open", source=source, ended=ended)
        else:
            if sock is not None:
                sock.close()
            finish(i, "refused" if code == errno.ECONNREFUSED else "error", code, ended=ended)

    def adopt(i: int, probe: EarlyProbe) -> None:
        """Take over probe ``i``, which ``early`` began, where it stands."""
        nonlocal active
        started_at[i] = probe.started
        if (
            probe.code != errno.EINPROGRESS or probe.sock is None
        ):  # answered (at once, or while adprep loaded)
            settle(i, probe.sock, probe.code, probe.ended)
        else:
            selector.register(probe.sock, selectors.EVENT_WRITE, i)
            inflight.append((probe.started + timeout, i, probe.sock))
            active += 1

    def start(i: int) -> None:
        nonlocal active
        address, port = pairs[i]
        started_at[i] = clock()
        try:
            sock = _socket.socket(
                _socket.AF_INET6 if ":" in address else _socket.AF_INET, _socket.SOCK_STREAM
            )
        except OSError as e:  # EMFILE, ENOBUFS: this probe could not even start
            finish(i, "error", e.errno or 0)
            return
        try:
            sock.setblocking(False)
            if bind:
                sock.bind((bind, 0))
            code = sock.connect_ex((address, port))
        except OSError as e:  # a bind address this host lacks, an address the kernel rejects
            sock.close()
            finish(i, "error", e.errno or 0)
            return
        if code == errno.EINPROGRESS:
            selector.register(sock, selectors.EVENT_WRITE, i)
            inflight.append((started_at[i] + timeout, i, sock))
            active += 1
        else:
            settle(i, sock, code)

    following = 0
    try:
        queue: Sequence[int] = range(len(pairs))
        if early is not None and bind is None:
            taken = [(p.started, i, p) for i, pair in enumerate(pairs) if (p := early.take(*pair, timeout))]
            for _, i, probe in sorted(taken, key=lambda t: t[0]):  # oldest first: ``inflight``'s order
                adopt(i, probe)
            adopted = {i for _, i, _ in taken}
            queue = [i for i in queue if i not in adopted]
        while True:
            while following < len(queue) and active < concurrency:
                start(queue[following])
                following += 1
            if not active:
                break
            wait = inflight[0][0] - clock()
            for key, _ in selector.select(wait) if wait > 0 else ():
                sock = key.fileobj
                assert isinstance(sock, _socket.socket)
                selector.unregister(sock)
                active -= 1
                settle(key.data, sock, sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR))
            now = clock()
            while inflight and (results[inflight[0][1]] is not None or inflight[0][0] <= now):
                _, i, sock = inflight.popleft()
                if results[i] is None:
                    selector.unregister(sock)
                    sock.close()
                    active -= 1
                    finish(i, "timeout")
    finally:
        for _, i, sock in inflight:
            if results[i] is None:
                sock.close()
        selector.close()
    return [r for r in results if r is not None]
