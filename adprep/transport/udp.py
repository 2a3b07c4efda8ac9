"""UDP request/response exchanges: send a real protocol request, wait for an answer, retry.

A UDP "connect()" sends nothing, so it proves nothing. Here a request goes out and the outcome is:
``reply`` (bytes came back: the caller decides whether they are the protocol), ``refused`` (ICMP
port unreachable, seen as ECONNREFUSED on a connected socket: closed), ``silent`` (nothing within the
timeout: open|filtered) or ``error``. Retries are spread over the one timeout (like nmap's and
PortQry's bounded retransmissions), so a silent port costs one timeout, not (retries + 1) of them.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

UdpOutcome = Literal["reply", "refused", "silent", "error"]


@dataclass(frozen=True)
class UdpExchange:
    """What one request/response exchange saw."""

    address: str
    port: int
    outcome: UdpOutcome
    elapsed_ms: float
    attempts: int
    reply: bytes | None = None
    errno_name: str | None = None
    source: str | None = None


async def exchange_udp(
    address: str,
    port: int,
    request: Callable[[int], bytes],
    *,
    timeout: float,
    retries: int = 1,
    bind: str | None = None,
    max_reply: int = 65535,
) -> UdpExchange:
    """Send ``request(attempt)`` up to ``retries + 1`` times within ``timeout`` seconds in all.

    ``request`` gets the attempt number so a protocol can vary its id; the first datagram back ends
    the exchange.
    """
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    started = time.perf_counter()
    attempts = 0

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    def result(outcome: UdpOutcome, **kw: object) -> UdpExchange:
        return UdpExchange(address, port, outcome, elapsed(), attempts, **kw)  # type: ignore[arg-type]

    try:
        if bind:
            sock.bind((bind, 0))
        # Connected: the kernel then reports ICMP port unreachable to us as ECONNREFUSED.
        sock.connect((address, port))
        source = str(sock.getsockname()[0])
        interval = timeout / (retries + 1)
        deadline = started + timeout
        while True:
            attempts += 1
            await loop.sock_sendall(sock, request(attempts))
            wait = (
                min(interval, deadline - time.perf_counter())
                if attempts <= retries
                else deadline - time.perf_counter()
            )
            try:
                async with asyncio.timeout(max(wait, 0.001)):
                    data = await loop.sock_recv(sock, max_reply)
                return result("reply", reply=data, source=source)
            except TimeoutError:
                if time.perf_counter() >= deadline or attempts > retries:
                    return result("silent", source=source)
    except ConnectionRefusedError:
        return result("refused", errno_name="ECONNREFUSED")
    except OSError as e:
        return result("error", errno_name=errno.errorcode.get(e.errno or 0, str(e.errno)))
    finally:
        sock.close()
