"""Collect port facts: every (target, protocol, port) job runs concurrently, each bounded by a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from adprep.transport.route import source_address_for
from adprep.transport.tcp import TcpProbe, probe_tcp

Proto = Literal["tcp", "udp"]


@dataclass(frozen=True)
class PortJob:
    """One port to test on one address."""

    address: str
    proto: Proto
    port: int


@dataclass(frozen=True)
class PortFacts:
    """What the sweep saw."""

    tcp: tuple[TcpProbe, ...]
    sources: dict[str, str | None]
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


async def collect_tcp(
    jobs: Sequence[PortJob],
    *,
    timeout: float,
    concurrency: int,
    on_done: Callable[[], None] | None = None,
) -> PortFacts:
    """Run the TCP jobs with at most ``concurrency`` connects in flight."""
    limit = asyncio.Semaphore(concurrency)

    async def one(job: PortJob) -> TcpProbe:
        async with limit:
            result = await probe_tcp(job.address, job.port, timeout)
        if on_done is not None:
            on_done()
        return result

    tcp_jobs = [j for j in jobs if j.proto == "tcp"]
    results = await asyncio.gather(*(one(j) for j in tcp_jobs))
    sources = {j.address: source_address_for(j.address) for j in jobs}
    return PortFacts(tcp=tuple(results), sources=sources)
