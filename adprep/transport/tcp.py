"""TCP connect probes: did the handshake complete, get refused, or get no answer in time?"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from dataclasses import dataclass
from typing import Literal

TcpOutcome = Literal["open", "refused", "timeout", "error"]


@dataclass(frozen=True)
class TcpProbe:
    """What one TCP connect attempt saw."""

    address: str
    port: int
    outcome: TcpOutcome
    elapsed_ms: float
    errno_name: str | None = None
    """The socket error's symbolic name (``ECONNREFUSED``, ``EHOSTUNREACH``…), if any."""
    source: str | None = None
    """The local address of the connection, when it was made."""


async def probe_tcp(address: str, port: int, timeout: float, *, bind: str | None = None) -> TcpProbe:
    """Open a TCP connection to ``address``:``port`` and close it at once.

    One attempt, bounded by ``timeout`` seconds: silence means a firewall dropped the SYN
    (or the host is gone), which is what "filtered" means.
    """
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    # Close with RST, not FIN: no TIME_WAIT pile-up when sweeping many ports.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    try:
        if bind:
            sock.bind((bind, 0))
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (address, port))
        return TcpProbe(address, port, "open", elapsed(), source=str(sock.getsockname()[0]))
    except TimeoutError:
        return TcpProbe(address, port, "timeout", elapsed())
    except ConnectionRefusedError:
        return TcpProbe(address, port, "refused", elapsed(), errno_name="ECONNREFUSED")
    except OSError as e:
        name = errno.errorcode.get(e.errno or 0, str(e.errno))
        return TcpProbe(address, port, "error", elapsed(), errno_name=name)
    finally:
        sock.close()
