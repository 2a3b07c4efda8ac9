"""Facts about RADIUS: what one Access-Request to one server saw, and what a login attempt proved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adprep.wire.radius import MessageAuthenticatorState, Packet

RadiusOutcome = Literal[
    "accept",
    "reject",
    "challenge",
    "bad_authenticator",
    "malformed",
    "no_response",
    "closed",
    "unresolved",
    "error",
]


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
    detail: str | None = None
    """What was wrong with a ``malformed`` reply."""


@dataclass(frozen=True)
class RadiusProbe:
    """What one server answered to one login attempt."""

    exchange: RadiusExchange
    protocol: str
    user: str
    real_login: bool
    """True with ``--user`` (a real user's password was sent); False for AWS's ``fakeusername``."""
    reply_messages: tuple[str, ...] = ()
    """Reply-Message texts (RFC 2865 §5.18): the server's words, shown to the user."""
    mschap_error: str | None = None
    """MS-CHAP-Error text (RFC 2548 §2.1.5), e.g. ``E=691 R=0``."""
    mschap2_server_proof: bool | None = None
    """MS-CHAPv2 Accept only: did MS-CHAP2-Success carry the authenticator response we expected?"""

    @property
    def server(self) -> str:
        return self.exchange.server


@dataclass(frozen=True)
class RadiusFacts:
    probes: tuple[RadiusProbe, ...]
