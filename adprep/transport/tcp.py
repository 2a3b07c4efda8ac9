"""TCP connect probes: did the handshake complete, get refused, or get no answer in time?"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from adprep.facts.exchanges import TcpExchange, TcpExchangeOutcome
from adprep.facts.ports import TcpProbe
from adprep.wire.relay import Framing

T = TypeVar("T")


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
        # The kernel often knows at once (a refusal from this host, a local listener): then no timer,
        # future or exception is made. Otherwise wait for the handshake (sock_connect sees EALREADY).
        code = sock.connect_ex((address, port))
        if code == errno.ECONNREFUSED:
            return TcpProbe(address, port, "refused", elapsed(), errno_name="ECONNREFUSED")
        if code not in (0, errno.EINPROGRESS):
            raise OSError(code, errno.errorcode.get(code, str(code)))
        if code == errno.EINPROGRESS:
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


#: The largest framed reply adprep reads (a hostile peer cannot make it hoard memory).
MAX_FRAMED_REPLY = 1 << 20


async def exchange_tcp(
    address: str, port: int, messages: Sequence[bytes], *, framing: Framing, timeout: float
) -> TcpExchange:
    """Connect, then for each message send it and read one framed reply, all within ``timeout``.

    Framings as in :mod:`adprep.wire.relay`: ``u16`` (DNS over TCP), ``u32`` (Kerberos over TCP),
    ``dcerpc`` (fragments up to the last one).
    """
    started = time.perf_counter()
    replies: list[bytes] = []
    source: list[str] = []

    def result(outcome: TcpExchangeOutcome, errno_name: str | None = None) -> TcpExchange:
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return TcpExchange(
            address, port, outcome, elapsed, tuple(replies), errno_name, source[0] if source else None
        )

    async def converse() -> None:
        reader, writer = await asyncio.open_connection(address, port)
        try:
            source.append(str(writer.get_extra_info("sockname")[0]))
            for message in messages:
                writer.write(message)
                await writer.drain()
                replies.append(await read_framed(reader, framing))
        finally:
            writer.close()

    try:
        async with asyncio.timeout(timeout):
            await converse()
        return result("reply")
    except TimeoutError:
        return result("timeout")
    except ConnectionRefusedError:
        return result("refused", "ECONNREFUSED")
    except asyncio.IncompleteReadError:
        return result("closed")
    except ValueError:
        return result("error", "EMSGSIZE")
    except OSError as e:
        return result("error", errno.errorcode.get(e.errno or 0, str(e.errno)))


async def read_framed(reader: asyncio.StreamReader, framing: Framing) -> bytes:
    """One framed reply; ValueError when its length is out of bounds."""
    if framing == "dcerpc":
        # C706 §12.6: frag_length (bytes 8-9, little-endian) covers the fragment; PFC_LAST_FRAG ends it.
        whole = b""
        while True:
            head = await reader.readexactly(10)
            size = int.from_bytes(head[8:10], "little")
            if size < 10 or len(whole) + size > MAX_FRAMED_REPLY:
                raise ValueError("DCE/RPC fragment length out of bounds")
            whole += head + await reader.readexactly(size - 10)
            if head[3] & 0x02:
                return whole
    head = await reader.readexactly(2 if framing == "u16" else 4)
    size = int.from_bytes(head, "big")
    if size > MAX_FRAMED_REPLY:
        raise ValueError("reply longer than adprep accepts")
    return head + await reader.readexactly(size)


async def first_open(
    candidates: Sequence[T], address: Callable[[T], str], port: int, timeout: float
) -> T | None:
    """The first candidate, in the order given, whose ``port`` completes a TCP handshake.

    All handshakes start at once, so a filtered candidate ahead in the list costs one timeout at most;
    the order (not the fastest answer) decides, so the same inputs always pick the same candidate.
    """
    tasks = [asyncio.create_task(probe_tcp(address(c), port, timeout)) for c in candidates]
    try:
        for candidate, task in zip(candidates, tasks, strict=True):
            if (await task).outcome == "open":
                return candidate
    finally:
        for task in tasks:
            task.cancel()
    return None
