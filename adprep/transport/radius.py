"""The RADIUS UDP loop: send an Access-Request, retransmit, receive, verify; facts, not exceptions.

adprep owns this loop instead of using pyrad's client because pyrad drops a reply whose
authenticator does not verify and keeps waiting, so a wrong shared secret would look like silence.
Here every datagram is looked at: a reply signed with another secret is ``bad_authenticator``,
silence is ``no_response``, and an ICMP port unreachable (reported on a *connected* UDP socket as
ECONNREFUSED) is ``closed``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from dataclasses import dataclass
from typing import Literal

from adprep.errors import WireFormatError
from adprep.wire.radius import (
    AccessRequest,
    Code,
    MessageAuthenticatorState,
    Packet,
    decode_packet,
    verify_message_authenticator,
    verify_response_authenticator,
)

RadiusOutcome = Literal[
    "accept", "reject", "challenge", "bad_authenticator", "no_response", "closed", "unresolved", "error"
]

_OUTCOME_BY_CODE: dict[int, RadiusOutcome] = {
    Code.ACCESS_ACCEPT: "accept",
    Code.ACCESS_REJECT: "reject",
    Code.ACCESS_CHALLENGE: "challenge",
}


@dataclass(frozen=True)
class RadiusExchange:
    """What one Access-Request to one server saw."""

    server: str
    """The server as configured (IP address or FQDN)."""
    port: int
    outcome: RadiusOutcome
    elapsed_ms: float
    attempts: int
    """Datagrams sent (1 + retransmissions)."""
    address: str | None = None
    """The address ``server`` resolved to."""
    source: str | None = None
    """The local address the request left from: the one the server must know as a RADIUS client."""
    reply: Packet | None = None
    """The reply, when one with our identifier arrived (verified or not: see ``outcome``)."""
    message_authenticator: MessageAuthenticatorState | None = None
    """Whether the reply carried a valid Message-Authenticator (RFC 3579 §3.2); None without a reply."""
    errno_name: str | None = None
    discarded: int = 0
    """Datagrams ignored: malformed, or for another identifier."""


async def _resolve(server: str, port: int) -> tuple[int, str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(server, port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP)
    family, _, _, _, sockaddr = infos[0]
    return int(family), str(sockaddr[0])


async def exchange(
    server: str,
    port: int,
    request: AccessRequest,
    secret: bytes,
    *,
    timeout: float,
    retries: int,
    bind: str | None = None,
) -> RadiusExchange:
    """Send ``request`` to ``server``:``port``, retransmitting ``retries`` times, ``timeout`` s apart.

    RFC 5080 §2.2.1: a retransmission keeps the identifier and the Request Authenticator, so a late
    reply to the first copy still matches. The first reply with our identifier ends the exchange.
    """
    loop = asyncio.get_running_loop()
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    try:
        family, address = await _resolve(server, port)
    except (OSError, UnicodeError) as e:
        name = getattr(e, "strerror", None) or type(e).__name__
        return RadiusExchange(server, port, "unresolved", elapsed(), 0, errno_name=str(name))

    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    attempts = 0
    discarded = 0
    source: str | None = None
    try:
        if bind:
            sock.bind((bind, 0))
        # A connected UDP socket: the kernel filters replies to this peer and reports ICMP errors.
        sock.connect((address, port))
        source = str(sock.getsockname()[0])
        for _ in range(retries + 1):
            attempts += 1
            await loop.sock_sendall(sock, request.data)
            deadline = loop.time() + timeout
            try:
                async with asyncio.timeout_at(deadline):
                    while True:
                        data = await loop.sock_recv(sock, 4096)
                        try:
                            reply = decode_packet(data)
                        except WireFormatError:
                            discarded += 1
                            continue
                        if reply.identifier != request.identifier or reply.code not in _OUTCOME_BY_CODE:
                            discarded += 1
                            continue
                        signed = verify_response_authenticator(data, request.authenticator, secret)
                        return RadiusExchange(
                            server,
                            port,
                            _OUTCOME_BY_CODE[reply.code] if signed else "bad_authenticator",
                            elapsed(),
                            attempts,
                            address=address,
                            source=source,
                            reply=reply,
                            message_authenticator=verify_message_authenticator(
                                data, request.authenticator, secret
                            ),
                            discarded=discarded,
                        )
            except TimeoutError:
                continue
        return RadiusExchange(
            server, port, "no_response", elapsed(), attempts, address, source, discarded=discarded
        )
    except ConnectionRefusedError:
        # ICMP port unreachable: the host is there, nothing listens on this UDP port.
        return RadiusExchange(
            server, port, "closed", elapsed(), attempts, address, source, errno_name="ECONNREFUSED"
        )
    except OSError as e:
        name = errno.errorcode.get(e.errno or 0, str(e.errno))
        return RadiusExchange(server, port, "error", elapsed(), attempts, address, source, errno_name=name)
    finally:
        sock.close()
