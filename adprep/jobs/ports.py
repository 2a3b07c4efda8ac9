"""``adprep ports``: test the ports AD Connector needs on each domain controller.

A TCP-only run from this host (no UDP, no ICMP, no ``--via``) takes a lean path: the TCP sweep on
non-blocking sockets (:mod:`adprep.collect.tcp_ports`), with no event loop and no protocol codec
imported, because start-up is much of what such a run costs; it takes over the connects a head
start began before the command line loaded (:mod:`adprep.cli.head_start`). Every other run probes on an event
loop, from every vantage at once. Both give the same facts to the same checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adprep import requirements as req
from adprep.catalogue import check_id
from adprep.checks.ports import check_icmp_echo, check_rpc_interface, check_tcp_port, check_udp_port
from adprep.collect.port_jobs import plan_port_jobs
from adprep.errors import InputError
from adprep.facts.ports import PortFacts, TcpProbe
from adprep.model import CheckResult, Report, Status
from adprep.report import build_report, make_vantage, now
from adprep.validate import check_concurrency, check_timeout
from adprep.vantage import RelayOptions, VantageSpec

if TYPE_CHECKING:
    from adprep.collect.ports import RpcMapper
    from adprep.jobs.vantages import VantageRun
    from adprep.transport.early_tcp import EarlyConnects
    from adprep.transport.network import Network


@dataclass(frozen=True)
class PortsSettings:
    targets: tuple[str, ...]
    tcp: tuple[int, ...]
    udp: tuple[int, ...] = ()
    advisory_tcp: tuple[int, ...] = ()
    advisory_udp: tuple[int, ...] = ()
    domain: str | None = None
    """The AD domain: lets the CLDAP ping and the Kerberos probe ask the right questions."""
    rpc: bool = True
    """Ask the endpoint mapper (when TCP 135 is tested) and test the RPC ports it names."""
    icmp: bool = False
    """Also send each target an ICMP echo (the ``workspaces`` profile does)."""
    timeout: float = 2.0
    concurrency: int = 256
    vantage: str | None = None
    profile: str | None = None
    vantages: tuple[VantageSpec, ...] = ()
    """Where to probe from (``--via``); empty: this host only."""
    relay: RelayOptions = field(default_factory=RelayOptions)

    @property
    def profile_source(self) -> str | None:
        """The public list the profile's ports come from (an advisory port's verdict names it)."""
        chosen = req.PORT_PROFILES.get(self.profile or "")
        return chosen.source if chosen else None


def ports_settings(
    *,
    targets: Sequence[str],
    profile: str | None,
    tcp: Sequence[int] | None,
    udp: Sequence[int] | None,
    timeout: float,
    concurrency: int,
    vantage: str | None,
    domain: str | None = None,
    rpc: bool = True,
    vantages: Sequence[VantageSpec] = (),
    relay: RelayOptions | None = None,
) -> PortsSettings:
    """Validate and combine the inputs: a profile's ports, or explicit lists (which win)."""
    if not targets:
        raise InputError(
            "No domain controller address given", hint="Pass one or more IP addresses, e.g. 10.0.0.10."
        )
    if profile is not None and profile not in req.PORT_PROFILES:
        names = ", ".join(req.PORT_PROFILES)
        raise InputError(f"Unknown port profile {profile!r}", hint=f"Use one of: {names}.")
    chosen = req.PORT_PROFILES[profile or req.DEFAULT_PORT_PROFILE] if not (tcp or udp) or profile else None
    tcp_ports = tuple(tcp) if tcp else (chosen.tcp if chosen else ())
    udp_ports = tuple(udp) if udp else (chosen.udp if chosen else ())
    return PortsSettings(
        targets=tuple(targets),
        tcp=tcp_ports,
        udp=udp_ports,
        advisory_tcp=chosen.advisory_tcp if chosen and not tcp else (),
        advisory_udp=chosen.advisory_udp if chosen and not udp else (),
        domain=domain.strip().rstrip(".").lower() if domain else None,
        rpc=rpc,
        icmp=bool(chosen and chosen.icmp and not (tcp or udp)),
        timeout=check_timeout(timeout),
        concurrency=check_concurrency(concurrency),
        vantage=vantage,
        profile=chosen.name if chosen else None,
        vantages=tuple(vantages),
        relay=relay or RelayOptions(concurrency=concurrency),
    )


#: Without the domain, probes still prove a service answers: a CLDAP server answers a ping for a
#: domain it does not serve with an empty result, and a KDC answers a foreign realm with KRB-ERROR 68.
PLACEHOLDER_DOMAIN = "adprep-probe.invalid"


async def collect_port_facts(
    net: Network,
    settings: PortsSettings,
    *,
    mapper: RpcMapper | None = None,
    on_done: Callable[[], None] | None = None,
) -> PortFacts:
    """Every port of every target, probed from ``net``'s vantage."""
    from adprep.collect.ports import collect_ports
    from adprep.wire.probes import ProbeContext

    jobs = plan_port_jobs(settings.targets, settings.tcp, settings.udp)
    context = ProbeContext(domain=settings.domain or PLACEHOLDER_DOMAIN)
    return await collect_ports(
        net, jobs, context=context, timeout=settings.timeout, rpc=settings.rpc, mapper=mapper, on_done=on_done,
        icmp=settings.icmp, window=settings.concurrency,
    )  # fmt: skip


def check_port_facts(
    settings: PortsSettings, facts: PortFacts, *, known: Mapping[TcpProbe, CheckResult] | None = None
) -> list[CheckResult]:
    """Verdicts for every probe, ordered by target (as given), protocol, then port. ``known``: TCP
    verdicts :func:`tcp_verdict` already gave (while a sweep waited for its slowest probes)."""
    known = known or {}
    results: list[CheckResult] = [known.get(p) or tcp_verdict(settings, p) for p in facts.tcp]
    results.extend(
        check_udp_port(u, advisory=u.port in settings.advisory_udp, source=settings.profile_source)
        for u in facts.udp
    )
    results.extend(check_rpc_interface(r) for r in facts.rpc)
    results.extend(check_icmp_echo(e) for e in facts.icmp)
    order = {a: i for i, a in enumerate(settings.targets)}
    protos = {"tcp": 0, "udp": 1, "rpc": 2, "icmp": 3}
    results.sort(
        key=lambda r: (order.get(r.target or "", len(order)), protos[r.id.split(".")[1]], _port_key(r.id))
    )
    return results


def tcp_verdict(settings: PortsSettings, probe: TcpProbe) -> CheckResult:
    """The verdict on one TCP probe under ``settings`` (its profile's advisory ports and source)."""
    return check_tcp_port(probe, advisory=probe.port in settings.advisory_tcp, source=settings.profile_source)


def _port_key(check_id: str) -> tuple[int, str]:
    if check_id.startswith("ports.icmp."):
        return (0, "")
    last = check_id.rsplit(".", 1)[-1]
    return (int(last), "") if last.isdigit() else (70000, last)


def run_ports(
    settings: PortsSettings,
    *,
    on_done: Callable[[], None] | None = None,
    early: EarlyConnects | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> Report:
    """Probe every target and port concurrently, from every vantage at once, and return the report.

    ``early``: connects begun before the command line loaded, which a TCP-only sweep from this host
    takes over (:mod:`adprep.cli.head_start`). ``on_result``: given each verdict such a sweep reaches
    while it still waits for slower probes (a renderer may encode it then).
    """
    started = now()
    if not (settings.vantages or settings.udp or settings.icmp):
        results, sources = _tcp_ports_here(settings, on_done, early, on_result)
        return build_report("ports", started_at=started, targets=settings.targets, results=results,
                            vantage=make_vantage(settings.vantage, sources))  # fmt: skip
    import asyncio

    results, run = asyncio.run(_ports(settings, on_done))
    return build_report(
        "ports",
        started_at=started,
        targets=settings.targets,
        results=results,
        vantage=make_vantage(settings.vantage, run.local_sources()),
        vantages=run.vantages(),
    )


def _tcp_ports_here(
    settings: PortsSettings,
    on_done: Callable[[], None] | None,
    early: EarlyConnects | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> tuple[list[CheckResult], dict[str, str | None]]:
    """The lean path: TCP only, from this host, without an event loop."""
    from adprep.collect.tcp_ports import collect_tcp_ports
    from adprep.transport.open_files import usable_concurrency

    concurrency = usable_concurrency(settings.concurrency)
    known: dict[TcpProbe, CheckResult] = {}

    def judge(probe: TcpProbe) -> None:  # the answers that came first, judged while the sweep waits
        known[probe] = result = tcp_verdict(settings, probe)
        if on_result is not None:
            on_result(result)

    facts = collect_tcp_ports(
        plan_port_jobs(settings.targets, settings.tcp), timeout=settings.timeout, concurrency=concurrency,
        bind=settings.relay.source, rpc=settings.rpc, on_done=on_done, early=early, on_probe=judge,
    )  # fmt: skip
    results = check_port_facts(settings, facts, known=known)
    results.extend(concurrency_notes([(concurrency, settings.concurrency)]))
    return results, facts.sources or {}


async def _ports(
    settings: PortsSettings, on_done: Callable[[], None] | None
) -> tuple[list[CheckResult], VantageRun]:
    from adprep.collect.ports import RpcMapper
    from adprep.jobs.vantages import vantage_run
    from adprep.transport.network import LocalNetwork

    mapper = RpcMapper(settings.timeout)
    async with vantage_run(settings.vantages, settings.relay, label=settings.vantage) as run:
        per_vantage = await run.each(
            lambda net: collect_port_facts(net, settings, mapper=mapper, on_done=on_done)
        )
    results: list[CheckResult] = []
    for label, facts in per_vantage:
        run.add_sources(label, facts.sources or {})
        results.extend(run.tag(label, check_port_facts(settings, facts)))
    results.extend(run.vantage_results(results))
    here = [v.net for v in run.opened if isinstance(v.net, LocalNetwork)]
    results.extend(concurrency_notes([(net.concurrency, net.wanted_concurrency) for net in here]))
    return results, run


def concurrency_notes(limits: Sequence[tuple[int, int]]) -> list[CheckResult]:
    """A warning when the open-files limit held this host's probes below ``--concurrency``.

    ``limits``: per network of this host, (probes it runs at once, probes asked for).
    """
    return [
        CheckResult(
            check_id("ports.concurrency"),
            Status.WARN,
            f"Only {concurrency} probes ran at once (asked: {wanted}): the open-files limit allows no more sockets",
            {"concurrency": concurrency, "wanted": wanted},
            remedy="Raise the limit (ulimit -n, or LimitNOFILE= in a systemd unit) so that a filtered "
            "port costs one timeout for the whole sweep, not one per wave of probes.",
        )
        for concurrency, wanted in limits
        if concurrency < wanted
    ]


def probe_count(settings: PortsSettings) -> int:
    """How many probes the sweep will run (for the progress bar)."""
    return len(plan_port_jobs(settings.targets, settings.tcp, settings.udp))
