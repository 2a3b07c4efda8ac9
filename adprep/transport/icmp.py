"""ICMP echo ("ping") from this host: the one probe that needs a special socket.

Linux offers two: an unprivileged ICMP "ping socket" (``SOCK_DGRAM``, allowed to the groups in
``net.ipv4.ping_group_range``; the kernel picks the identifier and routes only our replies to us)
and a raw socket (``SOCK_RAW``, root or ``CAP_NET_RAW``; every ICMP message arrives, so replies are
matched by identifier and sequence). adprep tries the first, then the second; when the host allows
neither, the outcome is ``not_allowed`` with the reason, never a guess. Retries are spread over the
one timeout, as for UDP.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import secrets
import socket
import time
from typing import Literal

from adprep.errors import WireFormatError
from adprep.facts.exchanges import IcmpEcho, IcmpOutcome
from adprep.wire.icmp import build_echo_request, parse_icmp, strip_ipv4_header

#: Why a host may refuse both kinds of ICMP socket, for the report.
NOT_ALLOWED_REASON = (
    "this host allows neither an unprivileged ICMP socket (net.ipv4.ping_group_range does not cover "
    "adprep's group) nor a raw one (needs root or CAP_NET_RAW)"
)


_REFUSED = (errno.EACCES, errno.EPERM, errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT, errno.EAFNOSUPPORT)
_UNREACHABLE = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNREFUSED)


def _open(family: int) -> tuple[socket.socket, Literal["ping", "raw"]] | None:
    proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
    for kind, name in ((socket.SOCK_DGRAM, "ping"), (socket.SOCK_RAW, "raw")):
        try:
            return socket.socket(family, kind, proto), name  # type: ignore[return-value]
        except OSError as e:
            if e.errno not in _REFUSED:
                raise
    return None


async def echo_icmp(address: str, *, timeout: float, attempts: int = 3, bind: str | None = None) -> IcmpEcho:
    """Send up to ``attempts`` echo requests to ``address`` (an IP address) within ``timeout`` seconds.

    Outcomes: ``reply`` (an echo reply came back), ``unreachable`` (an ICMP error came back, or the
    kernel knows no route), ``silent``, ``not_allowed`` (this host refuses ICMP sockets) or ``error``.
    """
    started = time.perf_counter()
    v6 = ipaddress.ip_address(address).version == 6
    family = socket.AF_INET6 if v6 else socket.AF_INET
    try:
        opened = _open(family)
    except OSError as e:
        return IcmpEcho(address, "error", detail=errno.errorcode.get(e.errno or 0, str(e)))
    if opened is None:
        return IcmpEcho(address, "not_allowed", detail=NOT_ALLOWED_REASON)
    sock, kind = opened
    sent = 0

    def result(outcome: IcmpOutcome, detail: str | None = None, source: str | None = None) -> IcmpEcho:
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return IcmpEcho(address, outcome, elapsed, sent, detail, kind, source)

    loop = asyncio.get_running_loop()
    try:
        sock.setblocking(False)
        if bind:
            sock.bind((bind, 0))
        # Connected: a raw socket then only sees messages from ``address``; a ping socket gets an
        # ICMP error for its request as an errno on the next receive.
        sock.connect((address, 0))
        source = str(sock.getsockname()[0])
        # A ping socket's identifier is its "port", chosen by the kernel, which rewrites the header.
        ident = int(sock.getsockname()[1]) if kind == "ping" else secrets.randbelow(0x10000)
        payload = b"adprep " + os.urandom(16)
        step = timeout / attempts
        deadline = started + timeout
        while True:
            sequence = sent + 1
            await loop.sock_sendall(sock, build_echo_request(ident, sequence, payload, v6=v6))
            sent += 1
            until = min(started + sent * step, deadline) if sent < attempts else deadline
            try:
                async with asyncio.timeout(max(until - time.perf_counter(), 0.001)):
                    while True:
                        data = await loop.sock_recv(sock, 65535)
                        try:
                            message = parse_icmp(
                                strip_ipv4_header(data) if kind == "raw" and not v6 else data, v6=v6
                            )
                        except WireFormatError:
                            continue
                        if kind == "raw" and message.ident != ident:
                            continue  # another prober's (a raw socket sees every ICMP message)
                        if message.sequence is None or not 1 <= message.sequence <= sent:
                            continue
                        if message.kind == "echo_reply":
                            return result("reply", source=source)
                        if message.kind == "unreachable":
                            return result("unreachable", message.detail, source)
            except TimeoutError:
                if time.perf_counter() >= deadline or sent >= attempts:
                    return result("silent", source=source)
    except OSError as e:
        name = errno.errorcode.get(e.errno or 0, str(e.errno))
        if e.errno in _UNREACHABLE:
            return result("unreachable", name)
        return result("error", name)
    finally:
        sock.close()
