"""A TCP-only port sweep from this host, with no event loop: the facts of
:func:`adprep.collect.ports.collect_ports` for TCP jobs, the RPC phase included.

``adprep ports --tcp …`` (no UDP, no ICMP, no ``--via``) needs only sockets: this collector runs it
with :func:`adprep.transport.tcp_sweep.sweep_tcp`, so such a run never imports asyncio or a protocol
codec, and starts probing sooner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adprep.collect.port_jobs import PortJob, epm_targets, rpc_facts, rpc_ports
from adprep.facts.ports import EpmMapping, PortFacts, TcpProbe
from adprep.transport.early_tcp import EarlyConnects
from adprep.transport.route import source_address_for
from adprep.transport.tcp_sweep import sweep_tcp


def collect_tcp_ports(
    jobs: Sequence[PortJob],
    *,
    timeout: float,
    concurrency: int,
    bind: str | None = None,
    rpc: bool = True,
    on_done: Callable[[], None] | None = None,
    early: EarlyConnects | None = None,
    on_probe: Callable[[TcpProbe], None] | None = None,
) -> PortFacts:
    """Every TCP job at once (at most ``concurrency`` in flight), then the RPC phase when TCP 135 answered.

    ``concurrency`` is what the open-files limit allows (see :mod:`adprep.transport.open_files`).
    ``early``: connects already begun for these jobs, which the sweep takes over. ``on_probe`` gets each
    of the jobs' probes as it finishes.
    """
    if any(j.proto != "tcp" for j in jobs):
        raise ValueError("collect_tcp_ports takes TCP jobs only")
    tcp = sweep_tcp([(j.address, j.port) for j in jobs], timeout=timeout, concurrency=concurrency,
                    bind=bind, on_done=on_done, early=early, on_probe=on_probe)  # fmt: skip
    found = []
    asked = epm_targets(tcp) if rpc else []
    if asked:
        mappings = map_rpc_endpoints(asked, timeout=timeout)
        ports = rpc_ports(mappings)
        probed = sweep_tcp(ports, timeout=timeout, concurrency=concurrency, bind=bind, on_done=on_done)
        found = rpc_facts(mappings, {(p.address, p.port): p for p in probed})
    addresses = dict.fromkeys(j.address for j in jobs)
    return PortFacts(
        tcp=tuple(tcp), rpc=tuple(found), sources={a: bind or source_address_for(a) for a in addresses}
    )


def map_rpc_endpoints(addresses: Sequence[str], *, timeout: float) -> list[tuple[str, EpmMapping]]:
    """Ask each address's endpoint mapper (from this host) where the DC's RPC interfaces listen, all
    at once: impacket blocks, so one thread per query."""
    from concurrent.futures import ThreadPoolExecutor

    from adprep.transport.rpc import (  # impacket: only when a mapper answered
        RPC_INTERFACES,
        map_rpc_interface,
    )

    pairs = [(a, i) for a in dict.fromkeys(addresses) for i in RPC_INTERFACES]
    if not pairs:
        return []
    with ThreadPoolExecutor(max_workers=min(64, len(pairs))) as pool:
        found = list(pool.map(lambda pair: map_rpc_interface(*pair, timeout=timeout), pairs))
    return [(a, m) for (a, _), m in zip(pairs, found, strict=True)]
