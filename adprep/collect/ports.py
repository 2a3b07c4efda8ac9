"""Collect port facts for every (target, protocol, port) job, concurrently and within bounded time.

Three phases: (1) every TCP connect and every UDP protocol probe at once; (2) for targets whose TCP
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

from adprep.transport.route import source_address_for
from adprep.transport.rpc import RPC_INTERFACES, EpmMapping, map_rpc_interface
from adprep.transport.tcp import TcpProbe, probe_tcp
from adprep.transport.udp import UdpExchange, exchange_udp
from adprep.wire.probes import ProbeAnswer, ProbeContext, probe_for

Proto = Literal["tcp", "udp"]


@dataclass(frozen=True)
class PortJob:
    """One port to test on one address."""

    address: str
    proto: Proto
    port: int


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
    sources: dict[str, str | None] | None = None
    """Per target: the local source address the kernel picks to reach it."""


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
    jobs: Sequence[PortJob],
    *,
    context: ProbeContext,
    timeout: float,
    concurrency: int,
    udp_retries: int = 2,
    rpc: bool = True,
    on_done: Callable[[], None] | None = None,
) -> PortFacts:
    """Run the jobs with at most ``concurrency`` probes in flight."""
    limit = asyncio.Semaphore(concurrency)

    def done() -> None:
        if on_done is not None:
            on_done()

    async def tcp(address: str, port: int) -> TcpProbe:
        async with limit:
            result = await probe_tcp(address, port, timeout)
        done()
        return result

    async def udp(job: PortJob) -> UdpProbeFact:
        probe = probe_for(job.port)
        if probe is None:
            done()
            return UdpProbeFact(job.address, job.port, None)
        sent: list[bytes] = []

        def request(attempt: int) -> bytes:
            sent.append(probe.build(context))
            return sent[-1]

        async with limit:
            exchange = await exchange_udp(
                job.address, job.port, request, timeout=timeout, retries=udp_retries
            )
        done()
        answer = probe.interpret(exchange.reply, sent[-1]) if exchange.reply is not None else None
        return UdpProbeFact(job.address, job.port, exchange, answer)

    tcp_jobs = [j for j in jobs if j.proto == "tcp"]
    udp_jobs = [j for j in jobs if j.proto == "udp" and _has_builder(j.port, context)]
    no_probe = [
        UdpProbeFact(j.address, j.port, None)
        for j in jobs
        if j.proto == "udp" and not _has_builder(j.port, context)
    ]
    tcp_results, udp_results = await asyncio.gather(
        asyncio.gather(*(tcp(j.address, j.port) for j in tcp_jobs)),
        asyncio.gather(*(udp(j) for j in udp_jobs)),
    )

    rpc_facts: list[RpcFact] = []
    epm_targets = [p.address for p in tcp_results if p.port == 135 and p.outcome == "open"] if rpc else []
    if epm_targets:
        loop = asyncio.get_running_loop()
        pairs = [(a, i) for a in epm_targets for i in RPC_INTERFACES]
        with ThreadPoolExecutor(max_workers=min(64, len(pairs))) as pool:
            mappings = await asyncio.gather(
                *(
                    loop.run_in_executor(pool, partial(map_rpc_interface, a, i, timeout=timeout))
                    for a, i in pairs
                )
            )
        ports = sorted({(a, m.port) for (a, _), m in zip(pairs, mappings, strict=True) if m.port is not None})
        probed = dict(zip(ports, await asyncio.gather(*(tcp(a, p) for a, p in ports)), strict=True))
        rpc_facts = [
            RpcFact(a, m, probed.get((a, m.port)) if m.port is not None else None)
            for (a, _), m in zip(pairs, mappings, strict=True)
        ]
    sources = {address: source_address_for(address) for address in dict.fromkeys(j.address for j in jobs)}
    return PortFacts(
        tcp=tuple(tcp_results),
        udp=tuple(udp_results) + tuple(no_probe),
        rpc=tuple(rpc_facts),
        sources=sources,
    )


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
