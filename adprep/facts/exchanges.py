"""Facts about request/response exchanges: what a conversation over TCP, a UDP exchange and an ICMP
echo saw, and what a UDP reply proves. Transports return them, collectors gather them, checks judge
them (the sweep's TCP connects are in :mod:`adprep.facts.ports`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # a sweep without UDP never loads the UDP probes' module
    from adprep.wire.probes import ProbeAnswer

TcpExchangeOutcome = Literal["reply", "refused", "timeout", "closed", "error"]


@dataclass(frozen=True)
class TcpExchange:
    """What a request/response conversation over one TCP connection saw."""

    address: str
    port: int
    outcome: TcpExchangeOutcome
    elapsed_ms: float
    replies: tuple[bytes, ...] = ()
    """One framed reply per message sent, framing bytes included (fewer when it ended early)."""
    errno_name: str | None = None
    source: str | None = None


UdpOutcome = Literal["reply", "refused", "silent", "unresolved", "error"]


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
    peer: str | None = None
    """The address ``address`` resolved to (the same, for an address)."""


IcmpOutcome = Literal["reply", "unreachable", "silent", "not_allowed", "not_carried", "error"]


@dataclass(frozen=True)
class IcmpEcho:
    """What one echo exchange saw."""

    address: str
    outcome: IcmpOutcome
    elapsed_ms: float = 0.0
    attempts: int = 0
    detail: str | None = None
    """The unreachable reason, the errno name, or why no request could be sent."""
    socket_kind: Literal["ping", "raw"] | None = None
    source: str | None = None


@dataclass(frozen=True)
class UdpProbeFact:
    """A UDP port's exchange and what the reply proves (``None`` when no protocol probe exists)."""

    address: str
    port: int
    exchange: UdpExchange | None
    answer: ProbeAnswer | None = None
