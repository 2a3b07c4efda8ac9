"""Collect port facts for every (target, protocol, port) job, concurrently and within bounded time.

Three phases: (1) every TCP connect, every UDP protocol probe (and ICMP echo, when asked) at once; (2) for targets whose TCP
135 answered, the endpoint mapper's ports for the DC's RPC interfaces; (3) TCP connects to those
ports. Each phase costs at most one probe timeout, whatever the number of targets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Literal

from adprep.facts.ports import EpmMapping, PortFacts, RpcFact, TcpProbe, UdpProbeFact
from adprep.transport.network import Network
from adprep.transport.rpc import RPC_INTERFACES, map_rpc_interface
from adprep.wire.probes import ProbeContext, probe_for

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


async def collect_ports(
    net: Network,
    jobs: Sequence[PortJob],
    *,
    context: ProbeContext,
    timeout: float,
    udp_retries: int = 2,
    rpc: bool = True,
    mapper: RpcMapper | None = None,
    on_done: Callable[[], None] | None = None,
    icmp: bool = False,
) -> PortFacts:
    """Run the jobs from ``net``'s vantage, all at once (``net`` bounds how many are in flight).

    With ``icmp``, every target also gets an ICMP echo exchange (a relay reports ``not_carried``).

    The endpoint mapper is asked from the admin's host (``mapper``: shared by every vantage of a
    run, so each DC is asked once) for the DCs whose TCP 135 answered this vantage; the ports it
    names are then tested from this vantage.
    """

    def done() -> None:
        if on_done is not None:
            on_done()

    async def tcp(address: str, port: int) -> TcpProbe:
        result = await net.tcp_connect(address, port, timeout=timeout)
        done()
        return result

    # One request per port for the whole sweep, resent as is on retries (as DNS and Kerberos clients
    # resend): each target has its own socket, so replies are never mixed up, and building a
    # Kerberos or CLDAP request (ASN.1) 1,000 times would cost more than the probes themselves.
    requests: dict[int, bytes] = {}

    async def udp(job: PortJob) -> UdpProbeFact:
        probe = probe_for(job.port)
        if probe is None:
            done()
            return UdpProbeFact(job.address, job.port, None)
        request = requests.get(job.port) or requests.setdefault(job.port, probe.build(context))
        exchange = await net.udp_exchange(
            job.address, job.port, [request] * (udp_retries + 1), timeout=timeout
        )
        done()
        answer = probe.interpret(exchange.reply, request) if exchange.reply is not None else None
        return UdpProbeFact(job.address, job.port, exchange, answer)

    tcp_jobs = [j for j in jobs if j.proto == "tcp"]
    buildable = {p for p in {j.port for j in jobs if j.proto == "udp"} if _has_builder(p, context)}
    udp_jobs = [j for j in jobs if j.proto == "udp" and j.port in buildable]
    no_probe = [
        UdpProbeFact(j.address, j.port, None) for j in jobs if j.proto == "udp" and j.port not in buildable
    ]
    addresses = list(dict.fromkeys(j.address for j in jobs))
    tcp_results, udp_results, icmp_results = await asyncio.gather(
        asyncio.gather(*(tcp(j.address, j.port) for j in tcp_jobs)),
        asyncio.gather(*(udp(j) for j in udp_jobs)),
        asyncio.gather(*(net.icmp_echo(a, timeout=timeout) for a in (addresses if icmp else ()))),
    )

    rpc_facts: list[RpcFact] = []
    epm_targets = [p.address for p in tcp_results if p.port == 135 and p.outcome == "open"] if rpc else []
    mappings = await (mapper or RpcMapper(timeout))(epm_targets) if epm_targets else []
    if mappings:
        ports = sorted({(a, m.port) for a, m in mappings if m.port is not None})
        probed = dict(zip(ports, await asyncio.gather(*(tcp(a, p) for a, p in ports)), strict=True))
        rpc_facts = [
            RpcFact(a, m, probed.get((a, m.port)) if m.port is not None else None) for a, m in mappings
        ]
    sources = dict(
        zip(addresses, await asyncio.gather(*(net.source_address(a) for a in addresses)), strict=True)
    )
    return PortFacts(
        tcp=tuple(tcp_results),
        udp=tuple(udp_results) + tuple(no_probe),
        rpc=tuple(rpc_facts),
        icmp=tuple(icmp_results),
        sources=sources,
    )


async def map_rpc_endpoints(addresses: Sequence[str], *, timeout: float) -> list[tuple[str, EpmMapping]]:
    """Ask each address's endpoint mapper (from this host) where the DC's RPC interfaces listen."""
    if not addresses:
        return []
    loop = asyncio.get_running_loop()
    pairs = [(a, i) for a in addresses for i in RPC_INTERFACES]
    with ThreadPoolExecutor(max_workers=min(64, len(pairs))) as pool:
        found = await asyncio.gather(
            *(loop.run_in_executor(pool, partial(map_rpc_interface, a, i, timeout=timeout)) for a, i in pairs)
        )
    return [(a, m) for (a, _), m in zip(pairs, found, strict=True)]


class RpcMapper:
    """Endpoint-mapper answers per DC, asked once from this host however many vantages want them."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._known: dict[str, asyncio.Future[list[EpmMapping]]] = {}

    async def __call__(self, addresses: Sequence[str]) -> list[tuple[str, EpmMapping]]:
        wanted = list(dict.fromkeys(addresses))
        missing = [a for a in wanted if a not in self._known]
        if missing:
            loop = asyncio.get_running_loop()
            for a in missing:
                self._known[a] = loop.create_future()
            by_address: dict[str, list[EpmMapping]] = {a: [] for a in missing}
            for a, m in await map_rpc_endpoints(missing, timeout=self._timeout):
                by_address[a].append(m)
            for a in missing:
                self._known[a].set_result(by_address[a])
        return [(a, m) for a in wanted for m in await self._known[a]]


def _has_builder(port: int, context: ProbeContext) -> bool:
    """A probe exists for the port and can be built from what we know (Kerberos needs a realm)."""
    probe = probe_for(port)
    if probe is None:
        return False
    try:
        probe.build(context)
    except ValueError:
        return False
    return True
