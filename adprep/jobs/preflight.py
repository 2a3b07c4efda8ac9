"""``adprep preflight``: everything AD Connector will do with the inputs it will be given, in one report.

Inputs are validated before any traffic. Then: DNS/SRV discovery from each given DNS server (UDP
and TCP); the DCs found go through the port checks while, at the same time, the directory and
service-account checks run against the first DC that answers LDAP, so one filtered DC costs one
timeout, not a sum of them.

Without a service account (no ``--user``) everything that needs no credentials still runs (DNS/SRV,
ports, CLDAP, the functional levels and clocks from the anonymous rootDSE), and every check that
needs the account's bind is ``skip`` with the reason; no password is asked for.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from adprep import requirements as req
from adprep.ad.names import check_password, validate_domain_fqdn, validate_service_account_name
from adprep.catalogue import check_id
from adprep.checks.account import check_without_account
from adprep.checks.dns import DiscoveredDc, check_dns, discovered_dcs
from adprep.checks.ports import check_client_sites, check_port_scope
from adprep.checks.sites import check_subnet_sites, subnet_check_id
from adprep.collect.dns import collect_dns
from adprep.collect.ports import RpcMapper
from adprep.errors import InputError
from adprep.facts.directory import LdapMode
from adprep.jobs.ports import PortsSettings, check_port_facts, collect_port_facts
from adprep.jobs.radius import radius_results
from adprep.jobs.target_domain import (
    computers_in_target,
    finish_target_checks,
    foreign_ou_gpo_skip,
    foreign_ou_skips,
    resolve_target_domain,
    start_target_checks,
)
from adprep.jobs.vantages import VantageRun, vantage_run
from adprep.model import CheckResult, FactValue, Report, Status
from adprep.report import build_report, could_not_run, make_vantage, now, run_area, run_area_async
from adprep.secret import Secret
from adprep.transport.ldap_settings import DirectorySettings
from adprep.transport.tcp import first_open
from adprep.transport.vantages import RelayOptions
from adprep.validate import check_concurrency, check_timeout, parse_address, parse_subnets
from adprep.vantage import VantageSpec


@dataclass(frozen=True)
class PreflightSettings:
    domain: str
    dns_ips: tuple[str, ...]
    username: str | None
    """The service account; None runs only the checks that need no credentials."""
    password: Secret | None
    extra_dcs: tuple[str, ...] = ()
    """DC addresses to check besides those the SRV records name."""
    target_ou: str | None = None
    target_domain: str | None = None
    """The WorkSpaces target (resource) domain when it is not ``domain`` (adprep.jobs.target_domain)."""
    profile: str = req.DEFAULT_PORT_PROFILE
    ldap_mode: LdapMode = "ldaps"
    ca_file: str | None = None
    verify: bool = True
    join_probe: bool = False
    timeout: float = 2.0
    concurrency: int = 256
    vantage: str | None = None
    radius: Any = None
    """RADIUS settings (adprep.jobs.radius) when the MFA checks should run too."""
    vantages: tuple[VantageSpec, ...] = ()
    """Where the network probes run from (``--via``); empty: this host only."""
    relay: RelayOptions = field(default_factory=RelayOptions)
    input_results: tuple[CheckResult, ...] = field(default=())
    """Warnings found while validating the inputs (e.g. a password the console would reject)."""
    subnets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    """AD Connector's subnets (``--subnet``), checked against AD Sites and Services with the vantages'."""

    @property
    def adc_subnets(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``subnets`` and the vantages' ``?subnet=``, each once."""
        return tuple(dict.fromkeys([*self.subnets, *(v.subnet for v in self.vantages if v.subnet)]))

    @property
    def directory_timeout(self) -> float:
        """Seconds for the directory reads (LDAP binds over TLS, SMB): ``timeout``, but at least 5."""
        return max(self.timeout, 5.0)

    def account_directory(self, dc: str, dc_name: str | None) -> DirectorySettings | None:
        """The service account's bind to ``dc`` (``dc_name`` for TLS); None when no account was given."""
        if self.username is None or self.password is None:
            return None
        return DirectorySettings(
            dc=dc, domain=self.domain, user=self.username, password=self.password, dc_name=dc_name,
            mode=self.ldap_mode, ca_file=self.ca_file, verify=self.verify, timeout=self.directory_timeout,
        )  # fmt: skip


def validate_dns_ip(text: str) -> str:
    """A DNS server address AD Connector can use: a host address, not a network or broadcast address."""
    address = parse_address(text, what="DNS server address")
    ip = ipaddress.ip_address(address)
    if (
        ip.is_unspecified
        or ip.is_multicast
        or (ip.version == 4 and ip == ipaddress.IPv4Address("255.255.255.255"))
    ):
        raise InputError(
            f"The DNS server address {address} is not a host address",
            hint="Give the DNS servers' IP addresses.",
        )
    if ip.version == 4 and address.split(".")[-1] in ("0", "255"):
        # AWS accepts 10.1.0.0 and then fails: an address ending in .0 or .255 is almost always a
        # network or broadcast address, not a DNS server.
        raise InputError(
            f"The DNS server address {address} looks like a network or broadcast address",
            hint="Give the address of a DNS server (usually a domain controller), e.g. 10.1.0.10.",
        )
    return address


def preflight_settings(
    *,
    domain: str | None,
    dns_ips: Sequence[str],
    username: str | None,
    password: Secret | Callable[[], Secret],
    extra_dcs: Sequence[str] = (),
    target_ou: str | None = None,
    target_domain: str | None = None,
    profile: str | None = None,
    ldap_mode: str = "ldaps",
    ca_file: str | None = None,
    verify: bool = True,
    join_probe: bool = False,
    timeout: float = 2.0,
    concurrency: int = 256,
    vantage: str | None = None,
    radius: Any = None,
    vantages: Sequence[VantageSpec] = (),
    relay: RelayOptions | None = None,
    subnets: Sequence[str] = (),
) -> PreflightSettings:
    """Check every input the way AWS's API does, and stricter where AWS accepts what then fails."""
    if not domain:
        raise InputError(
            "No domain given", hint="Pass --domain with the AD domain's DNS name, e.g. corp.example.com."
        )
    fqdn = validate_domain_fqdn(domain)
    ips = tuple(dict.fromkeys(validate_dns_ip(t) for text in dns_ips for t in text.split(",") if t.strip()))
    if not ips:
        raise InputError(
            "No DNS server address given", hint="Pass --dns-ip once or twice, as you will to AD Connector."
        )
    if len(ips) > req.MAX_DNS_IPS:
        raise InputError(
            f"{len(ips)} DNS server addresses given; AD Connector takes at most {req.MAX_DNS_IPS}",
            hint="Give the one or two DNS servers you will give AD Connector.",
        )
    name = validate_service_account_name(username) if username else None
    if profile is not None and profile not in req.PORT_PROFILES:
        raise InputError(
            f"Unknown port profile {profile!r}", hint=f"Use one of: {', '.join(req.PORT_PROFILES)}."
        )
    if ldap_mode not in ("ldaps", "starttls", "plain"):
        raise InputError(f"--ldap-mode {ldap_mode!r} is not known", hint="Use ldaps, starttls or plain.")
    extra = tuple(parse_address(d, what="domain controller") for d in extra_dcs)
    target = resolve_target_domain(fqdn, target_domain, target_ou)  # --target-domain, or a foreign --ou's
    networks = parse_subnets(subnets)
    checked_timeout, checked_concurrency = check_timeout(timeout), check_concurrency(concurrency)
    notes: list[CheckResult] = []
    secret: Secret | None = None
    if name is not None:
        # Every other input is checked before the password is read (a prompt comes last).
        secret = password() if callable(password) else password
        notes.extend(_password_notes(secret, name))
    return PreflightSettings(
        domain=fqdn,
        dns_ips=ips,
        username=name,
        password=secret,
        extra_dcs=extra,
        target_ou=target_ou,
        target_domain=target,
        profile=profile or req.DEFAULT_PORT_PROFILE,
        ldap_mode=ldap_mode,  # type: ignore[arg-type]
        ca_file=ca_file,
        verify=verify,
        join_probe=join_probe,
        timeout=checked_timeout,
        concurrency=checked_concurrency,
        vantage=vantage,
        radius=radius,
        input_results=tuple(notes),
        vantages=tuple(vantages),
        relay=relay or RelayOptions(concurrency=checked_concurrency),
        subnets=networks,
    )


def _password_notes(secret: Secret, name: str) -> list[CheckResult]:
    """Refuse a password AD Connector's API refuses; warn about one its console would refuse."""
    pw = check_password(secret.reveal(), account_name=name)
    if not pw.api_ok:
        raise InputError(
            f"The service account password has {pw.length} characters; AD Connector accepts 1 to {req.PASSWORD_MAX}",
            hint="Use the password the account really has.",
        )
    notes: list[CheckResult] = []
    if not pw.console_ok:
        notes.append(
            CheckResult(
                "input.password_policy",
                Status.WARN,
                "The AWS console would reject this password (the API accepts it)",
                {"length": pw.length, "classes": sorted(pw.classes)},
                remedy=" ".join(pw.problems),
            )
        )
    return notes


@dataclass(frozen=True)
class _Dc:
    address: str
    host: str | None


def _dc_list(found: Sequence[DiscoveredDc], extra: Sequence[str]) -> list[_Dc]:
    """The DCs that serve both LDAP and Kerberos, by address, then the ones given by hand."""
    out: dict[str, _Dc] = {}
    for dc in found:
        if dc.ldap and dc.kerberos:
            for a in dc.addresses:
                out.setdefault(a, _Dc(a, dc.host))
    for a in extra:
        out.setdefault(a, _Dc(a, None))
    return list(out.values())


def _dcs_result(dcs: Sequence[_Dc], settings: PreflightSettings) -> CheckResult:
    facts: dict[str, FactValue] = {"dcs": [f"{d.host or '?'} ({d.address})" for d in dcs]}
    if dcs:
        return CheckResult(
            check_id("dcs.found"), Status.PASS, f"{len(dcs)} domain controller(s) to check", facts
        )
    return CheckResult(
        check_id("dcs.found"),
        Status.FAIL,
        f"No domain controller for {settings.domain} could be found from the DNS servers given",
        facts,
        remedy="Fix the DNS checks above (SRV records and their A records); or pass --dc to check DCs by address.",
        adc_error=req.ADC_INTERNAL_ERROR,
    )


async def _first_ldap_dc(dcs: Sequence[_Dc], port: int, timeout: float) -> _Dc | None:
    """The first DC, in discovery order (SRV records, then --dc), whose LDAP port completes a handshake
    (all tried at once: a filtered DC ahead in the list costs one timeout at most)."""
    return await first_open(dcs, lambda d: d.address, port, timeout)


def _directory_results(settings: PreflightSettings, dc: _Dc | None) -> list[CheckResult]:
    if dc is None:
        unreachable = [
            could_not_run(
                check_id("directory.reachable"),
                "No domain controller answered LDAP: the directory and service-account checks could not run",
                "Fix the connectivity failures above, then run again.",
            )
        ]
        return unreachable if settings.username else [*unreachable, *check_without_account(None)]
    if settings.username is None or settings.password is None:
        from adprep.jobs.directory_checks import run_anonymous_directory_checks

        anonymous = run_anonymous_directory_checks(dc_address=dc.address, timeout=settings.directory_timeout)
        return [*anonymous, *check_without_account(dc.address)]
    from adprep.jobs.directory_checks import run_directory_checks

    results = run_directory_checks(
        dc_address=dc.address,
        dc_name=dc.host,
        domain=settings.domain,
        username=settings.username,
        password=settings.password,
        mode=settings.ldap_mode,
        ca_file=settings.ca_file,
        verify=settings.verify,
        # With a target domain, computers go there: the OU is judged on its DC (jobs.target_domain).
        target_ou=None if computers_in_target(settings) else settings.target_ou,
        join_probe=settings.join_probe,
        timeout=settings.directory_timeout,
    )
    results = foreign_ou_skips(settings, results)
    # The GPOs reaching the WorkSpaces' computers (the target OU, else the computers container), read
    # as the account once its bind has worked, so a wrong password costs no second bad-password count.
    if any(r.id == "account.bind" and r.status is Status.PASS for r in results):
        results.extend(
            run_area(check_id("gpo.scan"), "GPO scan", lambda: _gpo_results(settings, dc), target=dc.address)
        )
        results.extend(_site_results(settings, dc))
    else:
        results.extend(
            CheckResult(
                subnet_check_id(n), Status.SKIP, f"AD Connector subnet {n} in AD Sites and Services: not read, "
                "the service account could not bind", {"subnet": str(n)}, remedy="Fix account.bind, then run "
                "again.", target=str(n),
            )
            for n in settings.adc_subnets
        )  # fmt: skip
        results.append(
            CheckResult(
                check_id("gpo.scan"), Status.SKIP, "GPOs that reach the WorkSpaces' computers: not scanned, the service "
                "account could not bind", remedy="Fix account.bind, then run again.", target=dc.address,
            )
        )  # fmt: skip
    return results


def _gpo_results(settings: PreflightSettings, dc: _Dc) -> list[CheckResult]:
    """The GPOs that reach the target OU (else the computers container), scanned for settings that break
    WorkSpaces (as the account)."""
    from adprep.jobs.directory_checks import target_container_dn
    from adprep.jobs.gpo import scan_gpos_with

    ds = settings.account_directory(dc.address, dc.host)
    if ds is None:
        return []  # without an account, gpo.scan is one of the checks reported as skipped
    if computers_in_target(settings):
        return [foreign_ou_gpo_skip(settings, dc.address)]
    return scan_gpos_with(ds, target_container_dn(settings.target_ou, ds.base_dn))


def _site_results(settings: PreflightSettings, dc: _Dc) -> list[CheckResult]:
    """``sites.subnet.<cidr>``: is each AD Connector subnet in an AD site (read as the account)?"""
    from adprep.collect.sites import collect_subnets, configuration_nc
    from adprep.errors import TransportError, reason_of
    from adprep.jobs.directory_session import open_session

    networks = settings.adc_subnets
    ds = settings.account_directory(dc.address, dc.host)
    if not networks or ds is None:
        return []
    try:
        with open_session(ds) as session:
            subnets = collect_subnets(session, configuration_nc(session, ds.base_dn))
    except TransportError as e:
        why, reason = e.sentence(), reason_of(e)
        title = "AD Connector subnet {} in AD Sites and Services: not read"
        return [
            could_not_run(subnet_check_id(n), title.format(n), why, reason=reason, target=str(n))
            for n in networks
        ]
    return check_subnet_sites(networks, subnets)


async def _preflight(
    settings: PreflightSettings, on_stage: Callable[[str], None]
) -> tuple[list[CheckResult], VantageRun]:
    async with vantage_run(settings.vantages, settings.relay, label=settings.vantage) as run:
        results = await _preflight_from(run, settings, on_stage)
    results.extend(run.vantage_results(results))
    return results, run


async def _preflight_from(
    run: VantageRun, settings: PreflightSettings, on_stage: Callable[[str], None]
) -> list[CheckResult]:
    results: list[CheckResult] = list(settings.input_results)
    # Each area (DNS, ports, directory, RADIUS…) runs guarded: one that stops on an error or a bug becomes
    # an error result for that area (``<area>.run``), and the others' results are kept.
    radius_task = (
        asyncio.create_task(
            run_area_async(
                check_id("<area>.run", area="radius"),
                "RADIUS MFA checks",
                radius_results(run, settings.radius),
            )
        )
        if settings.radius
        else None
    )
    on_stage("DNS")
    found: list[DiscoveredDc] = []

    async def dns_area() -> list[CheckResult]:
        out: list[CheckResult] = []
        for label, dns_facts in await run.each(
            lambda net: collect_dns(net, settings.domain, settings.dns_ips, timeout=settings.timeout)
        ):
            out.extend(run.tag(label, check_dns(dns_facts)))
            found.extend(discovered_dcs(dns_facts))
        return out

    results.extend(await run_area_async(check_id("<area>.run", area="dns"), "DNS/SRV checks", dns_area()))
    dcs = _dc_list(found, settings.extra_dcs)
    results.append(_dcs_result(dcs, settings))
    target_task = start_target_checks(run, settings, [d.address for d in dcs])  # --target-domain
    if run.named:
        results.append(_directory_vantage_note())
    if not dcs:
        results.extend(await finish_target_checks(target_task, settings, None, results))
        if radius_task is not None:
            results.extend(await radius_task)
        return results

    on_stage("ports and directory")
    profile = req.PORT_PROFILES[settings.profile]
    ports = PortsSettings(
        targets=tuple(d.address for d in dcs),
        tcp=profile.tcp,
        udp=profile.udp,
        advisory_tcp=profile.advisory_tcp,
        advisory_udp=profile.advisory_udp,
        domain=settings.domain,
        timeout=settings.timeout,
        concurrency=settings.concurrency,
        profile=profile.name,
        icmp=profile.icmp,
    )
    # Without an account the rootDSE is read anonymously over plain LDAP (389), whatever --ldap-mode says.
    ldap_port = 636 if settings.ldap_mode == "ldaps" and settings.username else 389
    mapper = RpcMapper(settings.timeout)
    port_task = asyncio.create_task(run.each(lambda net: collect_port_facts(net, ports, mapper=mapper)))
    # The directory and service-account checks run from this host, whatever the vantages.
    first = await _first_ldap_dc(dcs, ldap_port, settings.timeout)
    directory_task = asyncio.create_task(
        asyncio.to_thread(
            run_area,
            check_id("<area>.run", area="directory"),
            "Directory and service-account checks",
            lambda: _directory_results(settings, first),
        )
    )
    ldap_open: set[str] = set()

    async def ports_area() -> list[CheckResult]:
        out: list[CheckResult] = []
        local_ran = False
        for label, port_facts in await port_task:
            port_results = check_port_facts(ports, port_facts)
            run.add_sources(label, port_facts.sources or {})
            out.extend(run.tag(label, port_results))
            out.extend(run.tag(label, check_client_sites(port_facts.udp, who=_who(run, label))))
            opened = {
                r.target
                for r in port_results
                if r.id.endswith(".389") and ".tcp." in r.id and r.status is Status.PASS
            }
            if not run.vantage(label).remote:
                ldap_open.update(t for t in opened if t)
                local_ran = True
            elif not local_ran:
                ldap_open.update(t for t in opened if t)
        return out

    results.extend(await run_area_async(check_id("<area>.run", area="ports"), "Port checks", ports_area()))
    results.append(check_port_scope(profile, rpc=ports.rpc))
    # Every other DC's clock too (the first DC's comes with the directory checks), read from the
    # DCs whose LDAP port answered, while the directory checks are still running.
    others = [d for d in dcs if first is None or d.address != first.address]
    skews = await asyncio.gather(
        *(
            asyncio.to_thread(
                run_area,
                check_id("directory.time_skew.<address>", address=d.address),
                f"Clock of {d.address}",
                lambda d=d: [_time_skew(d, settings.directory_timeout)],  # type: ignore[misc]
                target=d.address,
            )
            for d in others
            if d.address in ldap_open
        )
    )
    results.extend(await directory_task)
    account_dc = (first.address, first.host) if first else None
    results.extend(await finish_target_checks(target_task, settings, account_dc, results))  # --target-domain
    results.extend(r for skew in skews for r in skew)
    results.extend(
        CheckResult(
            check_id("directory.time_skew.<address>", address=d.address),
            Status.SKIP,
            f"Clock of {d.address}: not read (LDAP unreachable)",
            {},
            remedy=f"See ports.tcp.{d.address}.389.",
            target=d.address,
        )
        for d in others
        if d.address not in ldap_open
    )
    if radius_task is not None:
        results.extend(await radius_task)
    return results


def _who(run: VantageRun, label: str) -> str:
    """How a site check names the vantage: this host, or the vantage's label."""
    return f"{label}'s address" if run.named and run.vantage(label).remote else "This host's address"


def _directory_vantage_note() -> CheckResult:
    return CheckResult(
        check_id("vantage.directory_checks"),
        Status.SKIP,
        "Directory and service-account checks ran from this host only, not from the other vantages",
        {"host": socket.gethostname()},
        remedy="LDAP binds and the Kerberos login need the service account's password, which never leaves "
        "this host; the relays prove the network path (DNS, ports, CLDAP, Kerberos, RADIUS).",
    )


def _time_skew(dc: _Dc, timeout: float) -> CheckResult:
    """The DC's clock from its rootDSE, read anonymously (no TLS needed for the rootDSE)."""
    from adprep.checks.directory import check_time_skew
    from adprep.collect.directory import collect_root_dse
    from adprep.transport.ldap import LdapTarget

    return check_time_skew(
        dc.address, collect_root_dse(LdapTarget(dc.address, mode="plain", timeout=timeout))
    )


def run_preflight(settings: PreflightSettings, *, on_stage: Callable[[str], None] | None = None) -> Report:
    """Run every preflight area at once (DNS, ports, directory, account, RADIUS, vantages) into one report."""
    started = now()
    results, run = asyncio.run(_preflight(settings, on_stage or (lambda _: None)))
    return build_report(
        "preflight",
        started_at=started,
        targets=(settings.domain, *settings.dns_ips),
        results=results,
        vantage=make_vantage(settings.vantage, run.local_sources()),
        vantages=run.vantages(),
    )
