"""TCP connects begun before the command line has loaded, for a sweep to take over.

Loading click and adprep takes a Python process tens of milliseconds, and a sweep with a filtered
address then waits its whole timeout on top. :func:`adprep.cli.head_start.head_start` reads a plain
``adprep ports … --tcp …`` command line with nothing but the standard library and starts its
connects here first. The answers already in are timed at once with poll(2), and a thread times
the rest while adprep loads (so a probe's ``elapsed_ms`` is the peer's, not the start-up's); the sweep
(:func:`adprep.transport.tcp_sweep.sweep_tcp`) then takes each connect over where it stands: a probe's
timeout still runs from its own SYN, and its verdict is the one a sweep that started it would have
reached. What no sweep takes is closed, unused, at exit.

Only what a connect needs is imported before the connects: the C ``_socket`` (``socket``'s wrapper
imports ``enum`` and ``selectors``, milliseconds before the first SYN), ``errno``, ``os``, ``time``
and ``_thread``; not even ``typing``. This module runs before everything else.
"""

from __future__ import annotations

import _socket
import _thread
import errno
import os
import time
from _collections_abc import Iterable  # collections.abc without loading collections


class EarlyProbe:
    """One connect: when it started and, once the kernel answered, what and when."""

    __slots__ = ("code", "ended", "sock", "started")

    def __init__(self, started: float, sock: _socket.socket | None, code: int, ended: float) -> None:
        self.started = started
        self.sock = sock
        """The socket (None once closed: an error the kernel gave at once)."""
        self.code = code
        """The answer: 0 (connected), an error (ECONNREFUSED…), or EINPROGRESS (none yet)."""
        self.ended = ended
        """When the answer came (meaningless while ``code`` is EINPROGRESS)."""


class EarlyConnects:
    """Connects to (address, port) pairs, each begun once, waiting for a sweep with the same timeout."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._probes: dict[tuple[str, int], EarlyProbe] = {}
        self._wake: int | None = None
        """The write end of the pipe that stops the watching thread."""
        self._watching: _thread.LockType | None = None

    def start(self, pairs: Iterable[tuple[str, int]]) -> None:
        """Begin a non-blocking connect to each pair (the same pair once), then watch for the answers.

        A socket that cannot be made (EMFILE…) is not begun: the sweep starts that probe itself and
        reports what happens then.
        """
        clock = time.perf_counter
        for pair in pairs:
            if pair in self._probes:
                continue
            address, port = pair
            family = _socket.AF_INET6 if ":" in address else _socket.AF_INET
            try:
                sock = _socket.socket(family, _socket.SOCK_STREAM)
            except OSError:
                break
            started = clock()
            try:
                sock.setblocking(False)
                code = sock.connect_ex((address, port))
            except OSError:  # an address the kernel rejects: the sweep says so, as it would have
                sock.close()
                continue
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                self._probes[pair] = EarlyProbe(started, None, code, clock())
            else:
                self._probes[pair] = EarlyProbe(started, sock, code, clock())
        waiting = [p for p in self._probes.values() if p.code == errno.EINPROGRESS]
        if waiting:
            self._watch(waiting)

    def _watch(self, waiting: list[EarlyProbe]) -> None:
        """Note each answer's time: those already in at once (a loopback's, a near LAN's), then the
        rest on a thread until :meth:`_stop` (the sweep's selector does it after). ``poll(2)``, not a
        selector: a few microseconds less per connect. Without it (Windows), the sweep notes them."""
        import select

        if not hasattr(select, "poll"):
            return
        poller = select.poll()
        watched: dict[int, EarlyProbe] = {}
        for probe in waiting:
            assert probe.sock is not None
            watched[probe.sock.fileno()] = probe
            poller.register(probe.sock, select.POLLOUT)

        def note(events: list[tuple[int, int]]) -> int:
            """Record each probe's answer (SO_ERROR: 0 or the error) and its time; stop watching it."""
            now, noted = time.perf_counter(), 0
            for fd, _ in events:
                probe = watched.pop(fd, None)
                if probe is not None and probe.sock is not None:
                    poller.unregister(fd)
                    probe.code, probe.ended = probe.sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR), now
                    noted += 1
            return noted

        left = len(waiting) - note(poller.poll(0))
        if not left:
            return
        wake_read, self._wake = os.pipe()
        poller.register(wake_read, select.POLLIN)
        self._watching = _thread.allocate_lock()
        self._watching.acquire()

        def run() -> None:
            nonlocal left
            try:  # an OSError here (none is expected) leaves the answers to the sweep, as without a head start
                while left:
                    events = poller.poll()
                    if any(fd == wake_read for fd, _ in events):  # _stop()
                        return
                    left -= note(events)
            except OSError:
                pass
            finally:
                os.close(wake_read)
                assert self._watching is not None
                self._watching.release()

        _thread.start_new_thread(run, ())

    def _stop(self) -> None:
        """Stop the watching thread and wait for it: the probes are the caller's from here."""
        if self._watching is None or self._wake is None:
            return
        try:  # noqa: SIM105 - contextlib is one import more before the connects
            os.write(self._wake, b"\0")
        except OSError:  # the thread ended already (every probe had answered) and closed its end
            pass
        self._watching.acquire()
        os.close(self._wake)
        self._wake, self._watching = None, None

    def take(self, address: str, port: int, timeout: float) -> EarlyProbe | None:
        """The connect begun to (address, port) with this timeout, now the caller's; None if there is none."""
        self._stop()
        if timeout != self.timeout:
            return None
        return self._probes.pop((address, port), None)

    def __len__(self) -> int:
        return len(self._probes)

    def close(self) -> None:
        """Close every connect no sweep took (a run that stopped before its sweep, or probed less)."""
        self._stop()
        for probe in self._probes.values():
            if probe.sock is not None:
                probe.sock.close()
        self._probes.clear()
