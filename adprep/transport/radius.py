"""The RADIUS exchange: send an Access-Request, retransmit, receive, verify; facts, not exceptions.

adprep owns this loop instead of using pyrad's client because pyrad drops a reply whose
authenticator does not verify and keeps waiting, so a wrong shared secret would look like silence.
Here the reply is looked at: one signed with another secret is ``bad_authenticator``, one that is
not a RADIUS reply to this request is ``malformed``, silence is ``no_response``, and an ICMP port
unreachable (reported on a *connected* UDP socket as ECONNREFUSED) is ``closed``. The datagrams go
through a :class:`~adprep.transport.network.Network`, so the same code judges a probe sent from a
relay in AD Connector's subnets; the shared secret stays on this host.
"""

from __future__ import annotations

from typing import Any

from adprep.errors import WireFormatError
from adprep.facts.radius import RadiusExchange, RadiusOutcome
from adprep.transport.network import Network
from adprep.wire.radius import (
    AccessRequest,
    Code,
    decode_packet,
    verify_message_authenticator,
    verify_response_authenticator,
)

_OUTCOME_BY_CODE: dict[int, RadiusOutcome] = {
    Code.ACCESS_ACCEPT: "accept",
    Code.ACCESS_REJECT: "reject",
    Code.ACCESS_CHALLENGE: "challenge",
}


async def exchange(
    net: Network,
    server: str,
    port: int,
    request: AccessRequest,
    secret: bytes,
    *,
    timeout: float,
    retries: int,
) -> RadiusExchange:
    """Send ``request`` to ``server``:``port`` from ``net``'s vantage, retransmitting ``retries`` times,
    ``timeout`` s apart, and judge the first datagram back here (the secret never leaves this host).

    RFC 5080 §2.2.1: a retransmission keeps the identifier and the Request Authenticator, so a late
    reply to the first copy still matches.
    """
    attempts = [request.data] * (retries + 1)
    x = await net.udp_exchange(server, port, attempts, timeout=timeout * (retries + 1), interval=timeout)

    def result(outcome: RadiusOutcome, **kw: Any) -> RadiusExchange:
        return RadiusExchange(server, port, outcome, x.elapsed_ms, x.attempts, address=x.peer, source=x.source,
                              errno_name=x.errno_name, **kw)  # fmt: skip

    if x.outcome != "reply":
        return result(_OUTCOME_BY_UDP[x.outcome])
    data = x.reply or b""
    try:
        reply = decode_packet(data)
    except WireFormatError as e:
        return result("malformed", detail=e.sentence())
    if reply.identifier != request.identifier or reply.code not in _OUTCOME_BY_CODE:
        return result(
            "malformed",
            detail=f"a RADIUS packet with code {reply.code} and identifier {reply.identifier}, not a reply "
            "to this request",
        )
    signed = verify_response_authenticator(data, request.authenticator, secret)
    return result(
        _OUTCOME_BY_CODE[reply.code] if signed else "bad_authenticator",
        reply=reply,
        message_authenticator=verify_message_authenticator(data, request.authenticator, secret),
    )


_OUTCOME_BY_UDP: dict[str, RadiusOutcome] = {
    "silent": "no_response",
    "refused": "closed",
    "unresolved": "unresolved",
    "error": "error",
}
