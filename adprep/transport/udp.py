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
from collections.abc import Sequence

from adprep.facts.exchanges import UdpExchange, UdpOutcome


async def resolve(host: str, port: int, kind: socket.SocketKind) -> tuple[int, str]:
    """The first address ``host`` resolves to, without blocking the loop; raises OSError.

    An IP address is its own answer: asyncio's getaddrinfo would hand each one to a worker thread
    (thousands of them in a large sweep).
    """
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return int(family), socket.inet_ntop(family, socket.inet_pton(family, host))
        except (OSError, ValueError):
            continue
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=kind)
    family, _, _, _, sockaddr = infos[0]
    return int(family), str(sockaddr[0])


async def exchange_udp(
    address: str,
    port: int,
    datagrams: Sequence[bytes],
    *,
    timeout: float,
    interval: float | None = None,
    bind: str | None = None,
    max_reply: int = 65535,
) -> UdpExchange:
    """Send ``datagrams[k]`` at ``k × interval`` seconds until a reply comes, within ``timeout`` in all.

    One datagram per attempt (a protocol may vary its id between attempts); the first datagram back
    ends the exchange. ``interval`` defaults to ``timeout / len(datagrams)``: retries spread over
    the one timeout.
    """
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    attempts = 0
    try:
        family, peer = await resolve(address, port, socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as e:
        name = getattr(e, "strerror", None) or type(e).__name__
        return UdpExchange(address, port, "unresolved", 0.0, 0, errno_name=str(name))
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    def result(outcome: UdpOutcome, **kw: object) -> UdpExchange:
        return UdpExchange(address, port, outcome, elapsed(), attempts, peer=peer, **kw)  # type: ignore[arg-type]

    try:
        if bind:
            sock.bind((bind, 0))
        # Connected: the kernel then reports ICMP port unreachable to us as ECONNREFUSED.
        sock.connect((peer, port))
        source = str(sock.getsockname()[0])
        step = interval if interval is not None else timeout / len(datagrams)
        deadline = started + timeout
        while True:
            await loop.sock_sendall(sock, datagrams[attempts])
            attempts += 1
            wait = (
                min(started + attempts * step, deadline) - time.perf_counter()
                if attempts < len(datagrams)
                else deadline - time.perf_counter()
            )
            try:
                async with asyncio.timeout(max(wait, 0.001)):
                    data = await loop.sock_recv(sock, max_reply)
                return result("reply", reply=data, source=source)
            except TimeoutError:
                if time.perf_counter() >= deadline or attempts >= len(datagrams):
                    return result("silent", source=source)
    except ConnectionRefusedError:
        return result("refused", errno_name="ECONNREFUSED")
    except OSError as e:
        return result("error", errno_name=errno.errorcode.get(e.errno or 0, str(e.errno)))
    finally:
        sock.close()
