"""collect_ports keeps at most ``window`` probes alive, and every job's fact lands in its place."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from adprep.collect.port_jobs import plan_port_jobs
from adprep.collect.ports import collect_ports
from adprep.facts.exchanges import IcmpEcho, TcpExchange, UdpExchange
from adprep.facts.ports import TcpProbe
from adprep.wire.probes import ProbeContext


class CountingNetwork:
    """Answers every probe after a short wait and counts how many are in flight at once."""

    label = "fake"
    remote = False

    def __init__(self) -> None:
        self.inflight = 0
        self.most = 0

    async def _visit(self) -> None:
        self.inflight += 1
        self.most = max(self.most, self.inflight)
        await asyncio.sleep(0.001)
        self.inflight -= 1

    async def tcp_connect(self, address: str, port: int, *, timeout: float) -> TcpProbe:
        await self._visit()
        return TcpProbe(address, port, "refused", 0.1, "ECONNREFUSED")

    async def udp_exchange(
        self,
        address: str,
        port: int,
        datagrams: Sequence[bytes],
        *,
        timeout: float,
        interval: float | None = None,
    ) -> UdpExchange:
        await self._visit()
        return UdpExchange(address, port, "silent", 1.0, len(datagrams))

    async def tcp_exchange(
        self, address: str, port: int, messages: Sequence[bytes], **_: object
    ) -> TcpExchange:
        raise AssertionError("not used")

    async def source_address(self, address: str) -> str | None:
        return "192.0.2.1"

    async def icmp_echo(self, address: str, *, timeout: float) -> IcmpEcho:
        await self._visit()
        return IcmpEcho(address, "silent")


def test_a_large_sweep_runs_in_a_window_and_keeps_every_fact_in_order() -> None:
    # Given 300 targets x 2 TCP + 1 UDP ports and ICMP, and a window of 50
    targets = [f"10.0.{i // 250}.{i % 250}" for i in range(300)]
    net = CountingNetwork()
    jobs = plan_port_jobs(targets, (88, 389), (53,))
    # When they are collected
    facts = asyncio.run(collect_ports(net, jobs, context=ProbeContext(domain="corp.example"), timeout=1.0,  # type: ignore[arg-type]
                                      icmp=True, window=50))  # fmt: skip
    # Then no more than 50 probes were ever in flight, and each fact is the one of its job, in order
    assert net.most == 50
    assert [(p.address, p.port) for p in facts.tcp] == [(j.address, j.port) for j in jobs if j.proto == "tcp"]
    assert [(u.address, u.port) for u in facts.udp] == [(j.address, j.port) for j in jobs if j.proto == "udp"]
    assert [e.address for e in facts.icmp] == targets
