"""Facts about ports: what a TCP connect, a UDP or TCP exchange, an ICMP echo and the RPC endpoint
mapper saw, and a sweep's facts. Transports return them, collectors gather them, checks judge them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # a TCP-only sweep never loads the UDP probes' module
    from adprep.wire.probes import ProbeAnswer

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
class EpmMapping:
    """The endpoint mapper's answer for one interface."""

    interface: str
    uuid: str
    port: int | None
    """The TCP port it maps to; None when it is not registered or the lookup failed."""
    error: str | None = None
    """Why there is no port (``not registered``, a connection error)."""


@dataclass(frozen=True)
class UdpProbeFact:
    """A UDP port's exchange and what the reply proves (``None`` when no protocol probe exists)."""

    address: str
    port: int
    exchange: UdpExchange | None
    answer: ProbeAnswer | None = None


@dataclass(frozen=True)
class RpcFact:
    """One RPC interface on one DC: where the endpoint mapper put it, and whether that port answers."""

    address: str
    mapping: EpmMapping
    probe: TcpProbe | None


@dataclass(frozen=True)
class PortFacts:
    """What the sweep saw."""

    tcp: tuple[TcpProbe, ...]
    udp: tuple[UdpProbeFact, ...] = ()
    rpc: tuple[RpcFact, ...] = ()
    icmp: tuple[IcmpEcho, ...] = ()
    """One ICMP echo exchange per target, when the sweep asked for them."""
    sources: dict[str, str | None] | None = None
    """Per target: the local source address the kernel picks to reach it."""
