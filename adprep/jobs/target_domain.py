"""``preflight --target-domain``: the WorkSpaces guide's "Target Domain and Default OU".

WorkSpaces may join its computers to a domain other than the one AD Connector connects to: a
resource (target) domain that trusts the account domain. This module runs what that needs, next to
the preflight of the account domain:

1. the target domain's names resolve through the DNS servers given to AD Connector (the same SRV and
   A record checks, ids under ``target.dns.``), since WorkSpaces' computers use those servers;
2. its DCs are reachable: the port checks on every DC found (ids carry the DC's address), and each
   one's rootDSE names the target domain (``target.directory.<dc>``);
3. the trust (``target.trust``), read in the account domain as the service account;
4. the service account may create computers in the target OU (``target.rights.create_computer``),
   computed by a DC of the target domain after the account binds there through the trust.

Reads that need the account run only after the account's bind in its own domain succeeded, so a
wrong password is never sent a second time (one bad-password count per run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adprep import requirements as req
from adprep.ad.dn import ou_path_to_dn
from adprep.ad.names import validate_domain_fqdn
from adprep.checks.dns import check_dns, discovered_dcs
from adprep.checks.trust import (
    as_target_results,
    check_target_dc,
    check_target_rights,
    check_trust,
    dn_domain,
)
from adprep.collect.dns import collect_dns
from adprep.collect.ports import RpcMapper
from adprep.collect.trust import collect_target_dc, collect_trusts
from adprep.errors import InputError
from adprep.facts.directory import Observed
from adprep.facts.trust import TargetDcFacts, TrustFacts
from adprep.jobs.ports import PortsSettings, check_port_facts, collect_port_facts
from adprep.model import CheckResult, FactValue, Status
from adprep.report import run_area_async
from adprep.transport.ldap import LdapTarget, connect
from adprep.transport.tcp import first_open

if TYPE_CHECKING:
    from adprep.jobs.preflight import PreflightSettings
    from adprep.jobs.vantages import VantageRun


def resolve_target_domain(domain: str, target_domain: str | None, target_ou: str | None) -> str | None:
    """The target domain to check: ``--target-domain`` as given, else the domain an ``--ou`` DN names
    when that is not the account domain; None when computers go into the account domain.

    Raises :class:`InputError` for a target domain equal to the account domain, or an OU whose DN
    names a third domain."""
    ou_domain = dn_domain(target_ou) if target_ou else None
    if target_domain:
        fqdn = validate_domain_fqdn(target_domain)
        if fqdn == domain.lower():
            raise InputError(
                f"--target-domain {fqdn} is the domain AD Connector connects to",
                hint="Leave --target-domain out when the WorkSpaces' computers go into that domain.",
            )
        if ou_domain is not None and ou_domain != fqdn:
            raise InputError(
                f"The OU {target_ou} is in {ou_domain}, not in the target domain {fqdn}",
                hint="With a target domain, WorkSpaces creates computers there: give an OU of the target "
                "domain (its DN ends in the target domain's DC= parts, or an OU path inside it).",
            )
        return fqdn
    if ou_domain is not None and ou_domain != domain.lower():
        return validate_domain_fqdn(ou_domain)
    return None


def computers_in_target(settings: PreflightSettings) -> bool:
    """Whether the WorkSpaces' computers go into a target domain: then the target container (``--ou``, a
    DN or an OU path inside the target domain) is judged there, never in the account domain."""
    return settings.target_domain is not None


def target_ou_dn(settings: PreflightSettings) -> str | None:
    """``--ou`` as a DN of the target domain (an OU path is resolved under its base DN); None: the target
    domain's computers container."""
    ou, target = settings.target_ou, settings.target_domain
    if not ou or not target:
        return None
    return ou if "=" in ou else ou_path_to_dn(ou, ",".join(f"DC={label}" for label in target.split(".")))


def foreign_ou_skips(settings: PreflightSettings, results: Sequence[CheckResult]) -> list[CheckResult]:
    """The account domain's checks of where computers go, when they go into the target domain: the
    rights are judged there (``target.rights.create_computer``), and the join probe writes only in the
    domain adprep connects to, so each becomes a skip that says so."""
    if not computers_in_target(settings):
        return list(results)
    where = target_ou_dn(settings) or f"the computers container of {settings.target_domain}"
    why = f"computers go into the target domain {settings.target_domain} ({where})"
    replaced = {
        "account.rights.create_computer": f"Right to create computer objects: checked in {settings.target_domain} "
        "(target.rights.create_computer)",
        "account.join_probe": f"Join probe: not run ({why}; adprep writes only in the domain it connects to)",
    }
    out: list[CheckResult] = []
    for r in results:
        if r.id in replaced and r.status is not Status.SKIP:
            out.append(CheckResult(r.id, Status.SKIP, replaced[r.id], {"reason": why}, target=r.target))
        else:
            out.append(r)
    return out


def foreign_ou_gpo_skip(settings: PreflightSettings, dc: str) -> CheckResult:
    """``gpo.scan`` when computers go into the target domain: its GPOs live there, not in the account domain."""
    ou = target_ou_dn(settings)
    where = ou or f"the computers container of {settings.target_domain}"
    option = f' --ou "{ou}"' if ou else ""
    return CheckResult(
        "gpo.scan", Status.SKIP,
        f"GPOs that reach {where}: not scanned from {settings.domain} (computers go into {settings.target_domain})",
        {"ou": ou, "target_domain": settings.target_domain},
        remedy=f"Scan them in {settings.target_domain} with an account of that domain: adprep gpo scan --domain "
        f"{settings.target_domain}{option}.", target=dc,
    )  # fmt: skip


@dataclass(frozen=True)
class _TargetDc:
    address: str
    host: str | None


@dataclass(frozen=True)
class TargetNetwork:
    """What the network phase found: results so far, the target's DCs, and the first that answers LDAP."""

    results: tuple[CheckResult, ...]
    dcs: tuple[_TargetDc, ...]
    first: _TargetDc | None


async def collect_target_network(
    run: VantageRun, settings: PreflightSettings, *, account_dcs: Sequence[str]
) -> TargetNetwork:
    """DNS for the target domain from every DNS server and vantage, then every port of its DCs (those
    not already checked as DCs of the account domain) and the first DC whose LDAP port answers."""
    target = settings.target_domain
    assert target is not None
    results: list[CheckResult] = []
    found: dict[str, _TargetDc] = {}
    for label, facts in await run.each(
        lambda net: collect_dns(net, target, settings.dns_ips, timeout=settings.timeout)
    ):
        results.extend(as_target_results(run.tag(label, check_dns(facts)), target))
        for dc in discovered_dcs(facts):
            if dc.ldap and dc.kerberos:
                for a in dc.addresses:
                    found.setdefault(a, _TargetDc(a, dc.host))
    dcs = tuple(found.values())
    listed: dict[str, FactValue] = {"dcs": [f"{d.host or '?'} ({d.address})" for d in dcs], "domain": target}
    if not dcs:
        results.append(
            CheckResult(
                "target.dcs.found", Status.FAIL,
                f"No domain controller of the target domain {target} could be found from the DNS servers given",
                listed, remedy=f"The DNS servers given to AD Connector must resolve {target} (its _ldap._tcp.dc._msdcs "
                f"and _kerberos._tcp SRV records and its DCs' A records): add a conditional forwarder (or a "
                f"stub zone) for {target} on them, or use DNS servers that hold both domains.",
            )
        )  # fmt: skip
        return TargetNetwork(tuple(results), (), None)
    results.append(
        CheckResult(
            "target.dcs.found", Status.PASS, f"{len(dcs)} domain controller(s) of {target} to check", listed
        )
    )
    profile = req.PORT_PROFILES[settings.profile]
    ports = PortsSettings(
        targets=tuple(d.address for d in dcs if d.address not in account_dcs),
        tcp=profile.tcp, udp=profile.udp, advisory_tcp=profile.advisory_tcp, advisory_udp=profile.advisory_udp,
        domain=target, timeout=settings.timeout, concurrency=settings.concurrency, profile=profile.name,
        icmp=profile.icmp,
    )  # fmt: skip
    ldap_port = 636 if settings.ldap_mode == "ldaps" and settings.username else 389
    first_task = asyncio.create_task(_first_answering(dcs, ldap_port, settings.timeout))
    if ports.targets:
        mapper = RpcMapper(settings.timeout)
        for label, port_facts in await run.each(lambda net: collect_port_facts(net, ports, mapper=mapper)):
            run.add_sources(label, port_facts.sources or {})
            results.extend(run.tag(label, check_port_facts(ports, port_facts)))
    return TargetNetwork(tuple(results), dcs, await first_task)


async def _first_answering(dcs: Sequence[_TargetDc], port: int, timeout: float) -> _TargetDc | None:
    """The first DC in DNS order whose LDAP port completes a handshake (all tried at once)."""
    return await first_open(dcs, lambda d: d.address, port, timeout)


def target_directory_results(
    settings: PreflightSettings,
    network: TargetNetwork,
    *,
    account_dc: tuple[str, str | None] | None,
    account_bound: bool,
) -> list[CheckResult]:
    """The trust (read in the account domain on ``account_dc``) and the target DC's rootDSE and rights.

    ``account_bound``: the account's bind in its own domain succeeded; without it nothing is sent
    with the password again."""
    target = settings.target_domain
    assert target is not None
    timeout = settings.directory_timeout
    if settings.username is None or settings.password is None:
        not_bound = "no service account given (--user)"
    elif account_dc is None:
        not_bound = f"no DC of {settings.domain} answered LDAP"
    elif not account_bound:
        not_bound = "the service account did not bind in its own domain (see account.bind)"
    else:
        not_bound = None
    results: list[CheckResult] = []
    trust: Observed[TrustFacts] | None = None
    acct = settings.account_directory(*account_dc) if not_bound is None and account_dc is not None else None
    if acct is not None:

        def read() -> TrustFacts:
            with connect(acct.target(), user=acct.bind_name, password=acct.password) as session:
                return collect_trusts(session, settings.domain, acct.base_dn)

        trust = Observed.attempt(f"The trusts of {settings.domain}", read)
    results.append(
        check_trust(trust, account_domain=settings.domain, target_domain=target, skip_reason=not_bound)
    )

    first = network.first
    if first is None:
        reason = (
            "no DC of the target domain answered LDAP" if network.dcs else "no DC of the target domain found"
        )
        results.append(check_target_rights(None, target, skip_reason=reason))
        return results
    ou = target_ou_dn(settings)
    # The account binds with its UPN in the account domain: the target domain's DC authenticates it
    # through the trust (MS-ADTS 5.1.1.1.1: a simple bind's name may be a UPN).
    ldap_target = LdapTarget(
        address=first.address, server_name=first.host, mode=settings.ldap_mode, ca_file=settings.ca_file,
        verify=settings.verify, timeout=timeout,
    )  # fmt: skip
    facts: TargetDcFacts = collect_target_dc(
        ldap_target, ",".join(f"DC={label}" for label in target.split(".")), ou,
        bind_name=f"{settings.username}@{settings.domain}", password=settings.password, bind_reason=not_bound,
    )  # fmt: skip
    results.append(check_target_dc(facts, target))
    results.append(check_target_rights(facts, target))
    return results


def start_target_checks(
    run: VantageRun, settings: PreflightSettings, account_dcs: Sequence[str]
) -> asyncio.Task[TargetNetwork] | None:
    """The target domain's network phase, started next to the account domain's (None: no target)."""
    if not settings.target_domain:
        return None
    return asyncio.create_task(collect_target_network(run, settings, account_dcs=account_dcs))


async def finish_target_checks(
    task: asyncio.Task[TargetNetwork] | None,
    settings: PreflightSettings,
    account_dc: tuple[str, str | None] | None,
    so_far: Sequence[CheckResult],
) -> list[CheckResult]:
    """The network phase's results, then the trust and the target OU's rights (after the account's bind
    in ``so_far`` said whether its password may be sent again). Guarded like every preflight area: if
    it stops on an error, that is one ``target.run`` error and the account domain's results stand."""
    if task is None:
        return []
    return await run_area_async("target.run", f"Target domain {settings.target_domain} checks",
                                _finish(task, settings, account_dc, so_far))  # fmt: skip


async def _finish(
    task: asyncio.Task[TargetNetwork],
    settings: PreflightSettings,
    account_dc: tuple[str, str | None] | None,
    so_far: Sequence[CheckResult],
) -> list[CheckResult]:
    network = await task
    bound = any(r.id == "account.bind" and r.status is Status.PASS for r in so_far)
    directory = await asyncio.to_thread(
        target_directory_results, settings, network, account_dc=account_dc, account_bound=bound
    )
    return [*network.results, *directory]
