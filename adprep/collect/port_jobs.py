"""A port sweep as data: its jobs (target × protocol × port) and the steps of its RPC phase. Pure.

Shared by the collector that runs any vantage's probes on an event loop (:mod:`adprep.collect.ports`)
and the one for a TCP-only sweep from this host (:mod:`adprep.collect.tcp_ports`), so both plan and
assemble the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from adprep.facts.ports import EpmMapping, RpcFact, TcpProbe

Proto = Literal["tcp", "udp"]


@dataclass(frozen=True)
class PortJob:
    """One port to test on one address."""

    address: str
    proto: Proto
    port: int


def plan_port_jobs(
    targets: Sequence[str], tcp: Iterable[int], udp: Iterable[int] = ()
) -> tuple[PortJob, ...]:
    """Every target × every port, in a stable order (target, protocol, port)."""
    tcp_ports, udp_ports = sorted(set(tcp)), sorted(set(udp))
    jobs: list[PortJob] = []
    for address in dict.fromkeys(targets):
        jobs.extend(PortJob(address, "tcp", p) for p in tcp_ports)
        jobs.extend(PortJob(address, "udp", p) for p in udp_ports)
    return tuple(jobs)


def epm_targets(tcp: Iterable[TcpProbe]) -> list[str]:
    """The addresses whose endpoint mapper (TCP 135) answered: the RPC phase asks them."""
    return [p.address for p in tcp if p.port == 135 and p.outcome == "open"]


def rpc_ports(mappings: Iterable[tuple[str, EpmMapping]]) -> list[tuple[str, int]]:
    """The (address, port) pairs the endpoint mappers named, each once, to test over TCP."""
    return sorted({(a, m.port) for a, m in mappings if m.port is not None})


def rpc_facts(
    mappings: Iterable[tuple[str, EpmMapping]], probed: Mapping[tuple[str, int], TcpProbe]
) -> list[RpcFact]:
    """One fact per mapping, with the connect to the port it named (none when it named none)."""
    return [RpcFact(a, m, probed.get((a, m.port)) if m.port is not None else None) for a, m in mappings]
