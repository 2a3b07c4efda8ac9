"""``adprep ports``: test the ports AD Connector needs on each domain controller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adprep import requirements as req
from adprep.checks.ports import check_tcp_port
from adprep.collect.ports import collect_tcp, plan_port_jobs
from adprep.errors import InputError
from adprep.model import CheckResult, Report
from adprep.runner import build_report, make_vantage, now
from adprep.validate import check_concurrency, check_timeout


@dataclass(frozen=True)
class PortsSettings:
    targets: tuple[str, ...]
    tcp: tuple[int, ...]
    udp: tuple[int, ...] = ()
    advisory_tcp: tuple[int, ...] = ()
    timeout: float = 2.0
    concurrency: int = 256
    vantage: str | None = None
    profile: str | None = None


def ports_settings(
    *,
    targets: Sequence[str],
    profile: str | None,
    tcp: Sequence[int] | None,
    udp: Sequence[int] | None,
    timeout: float,
    concurrency: int,
    vantage: str | None,
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
        timeout=check_timeout(timeout),
        concurrency=check_concurrency(concurrency),
        vantage=vantage,
        profile=chosen.name if chosen else None,
    )


def run_ports(settings: PortsSettings, *, on_done: Callable[[], None] | None = None) -> Report:
    """Probe every target and port concurrently and return the report."""
    started = now()
    jobs = plan_port_jobs(settings.targets, settings.tcp, settings.udp)
    facts = asyncio.run(
        collect_tcp(jobs, timeout=settings.timeout, concurrency=settings.concurrency, on_done=on_done)
    )
    results: list[CheckResult] = [
        check_tcp_port(p, advisory=p.port in settings.advisory_tcp) for p in facts.tcp
    ]
    return build_report(
        "ports",
        started_at=started,
        targets=settings.targets,
        results=results,
        vantage=make_vantage(settings.vantage, facts.sources),
    )


def probe_count(settings: PortsSettings) -> int:
    return len(plan_port_jobs(settings.targets, settings.tcp, settings.udp))
