"""Collect port facts for every (target, protocol, port) job, concurrently and within bounded time.

Three phases: (1) every TCP connect, every UDP protocol probe (and ICMP echo, when asked) at once; (2) for targets whose TCP
135 answered, the endpoint mapper's ports for the DC's RPC interfaces; (3) TCP connects to those
ports. Each phase costs at most one probe timeout, whatever the number of targets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

from adprep.collect.port_jobs import PortJob as PortJob
from adprep.collect.port_jobs import Proto, epm_targets, rpc_facts, rpc_ports
from adprep.collect.tcp_ports import map_rpc_endpoints as map_blocking
from adprep.facts.exchanges import IcmpEcho, UdpProbeFact
from adprep.facts.ports import EpmMapping, PortFacts, RpcFact, TcpProbe
from adprep.transport.network import Network
from adprep.wire.probes import ProbeContext, probe_for


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
    window: int = 256,
) -> PortFacts:
    """Run the jobs from ``net``'s vantage, ``window`` at a time (``net`` bounds how many are in flight).

    ``window`` is the run's concurrency: at most that many probes exist at once, so a sweep's memory
    does not grow with its number of jobs, and the network's limit never has a long queue of
    waiters (asyncio.Semaphore scans its waiters on every acquire and release: quadratic in them).

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
    pinged = addresses if icmp else []
    tcp_found: list[TcpProbe | None] = [None] * len(tcp_jobs)
    udp_found: list[UdpProbeFact | None] = [None] * len(udp_jobs)
    icmp_found: list[IcmpEcho | None] = [None] * len(pinged)

    async def worker(work: Iterator[tuple[Proto | Literal["icmp"], int]]) -> None:
        for kind, i in work:  # the workers share one iterator: each takes the next job when it is free
            if kind == "tcp":
                tcp_found[i] = await tcp(tcp_jobs[i].address, tcp_jobs[i].port)
            elif kind == "udp":
                udp_found[i] = await udp(udp_jobs[i])
            else:
                icmp_found[i] = await net.icmp_echo(pinged[i], timeout=timeout)

    work: list[tuple[Proto | Literal["icmp"], int]] = [
        *(("tcp", i) for i in range(len(tcp_jobs))),
        *(("udp", i) for i in range(len(udp_jobs))),
        *(("icmp", i) for i in range(len(pinged))),
    ]
    shared = iter(work)
    await asyncio.gather(*(worker(shared) for _ in range(min(max(window, 1), len(work)))))
    tcp_results = [r for r in tcp_found if r is not None]
    udp_results = [r for r in udp_found if r is not None]
    icmp_results = [r for r in icmp_found if r is not None]

    rpc_found: list[RpcFact] = []
    asked = epm_targets(tcp_results) if rpc else []
    mappings = await (mapper or RpcMapper(timeout))(asked) if asked else []
    if mappings:
        ports = rpc_ports(mappings)
        probed = dict(zip(ports, await asyncio.gather(*(tcp(a, p) for a, p in ports)), strict=True))
        rpc_found = rpc_facts(mappings, probed)
    sources = dict(
        zip(addresses, await asyncio.gather(*(net.source_address(a) for a in addresses)), strict=True)
    )
    return PortFacts(
        tcp=tuple(tcp_results),
        udp=tuple(udp_results) + tuple(no_probe),
        rpc=tuple(rpc_found),
        icmp=tuple(icmp_results),
        sources=sources,
    )


async def map_rpc_endpoints(addresses: Sequence[str], *, timeout: float) -> list[tuple[str, EpmMapping]]:
    """Ask each address's endpoint mapper (from this host) where the DC's RPC interfaces listen."""
    if not addresses:
        return []
    return await asyncio.to_thread(map_blocking, addresses, timeout=timeout)


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
