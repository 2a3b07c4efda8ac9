"""Facts about ports: what a TCP connect and the RPC endpoint mapper saw, and a sweep's facts (its
UDP and ICMP parts are in :mod:`adprep.facts.exchanges`). Transports return them, collectors gather
them, checks judge them. A TCP-only sweep imports only this module's records: each class a dataclass
makes costs Python 3.11 about a millisecond of start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # a TCP-only sweep never loads the exchanges' records
    from adprep.facts.exchanges import IcmpEcho, UdpProbeFact

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
