"""``adprep fix``: a preflight (run now, or read from its JSON report) → remedies through plan → apply,
the checks they address run again, and commands for what adprep cannot write.

The preflight's findings say *which* remedies are called for; what the directory holds, read as the
administrator who writes, says *what* each must change (so a re-run plans nothing, and a run cut off
half-way is finished by the next). Writes go to one DC, and the checks run again on that same DC,
so replication delay between DCs cannot hide a change that was made.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from adprep.ad.delegation import preset as delegation_preset
from adprep.ad.sites import DEFAULT_SITE, Network
from adprep.checks.directory import check_preauth_users
from adprep.checks.sites import check_subnet_sites
from adprep.collect.dc_locator import find_dc
from adprep.collect.directory import read_preauth_users
from adprep.collect.ldap_objects import find_by_sam
from adprep.collect.sites import collect_site_names, collect_subnets, configuration_nc
from adprep.errors import InputError, TransportError, reason_of
from adprep.facts.directory import LdapMode, Observed
from adprep.jobs.delegate import delegate_settings, plan_delegate
from adprep.jobs.directory_session import check_dc_host_name, open_session
from adprep.jobs.preflight import PreflightSettings
from adprep.model import CheckResult, Report, Status
from adprep.prep import fix as fx
from adprep.prep.ldap_apply import ldap_appliers
from adprep.prep.manual import (
    ADC_SECURITY_GROUP,
    DC_SECURITY_GROUP,
    DEFAULT_NTP_SERVER,
    Leftover,
    ManualOptions,
    dc_hosts,
    manual_steps,
    vantage_subnets,
)
from adprep.prep.plan import ApplyResult, Outcome, Plan, apply_plan
from adprep.prep.sites import plan_subnets
from adprep.report_json import read_report
from adprep.requirements import DELEGATION_GROUP
from adprep.secret import Secret
from adprep.transport.ldap import LdapSession
from adprep.transport.ldap_settings import DirectorySettings
from adprep.transport.network import LocalNetwork
from adprep.validate import is_address, parse_address, parse_subnets

SERVICE_PASSWORD_ENV = "ADPREP_SERVICE_PASSWORD"
_NO_WRITER = (
    "adprep fixes this over LDAP with an account that may write: pass --user (its password in "
    "ADPREP_PASSWORD or --password-file), and --dc unless the preflight's DC is the one to write to."
)
_NO_DC = (
    "adprep fixes this over LDAP, and the preflight's directory checks reached no domain controller to "
    "write to: fix the failures that kept them from running, or pass --dc with a writable DC."
)


@dataclass(frozen=True)
class AdminOptions:
    """The account that writes (``--dc/--user/...``, validated; without ``--dc``, the preflight's DC)."""

    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    dc: str | None = None
    """An address or a host name (resolved through ``dns_ips``, as every LDAP command does)."""
    dc_name: str | None = None
    dns_ips: tuple[str, ...] = ()
    mode: LdapMode = "ldaps"
    ca_file: str | None = None
    verify: bool = True
    timeout: float = 5.0


@dataclass(frozen=True)
class FixSettings:
    domain: str | None
    """Given, or (with ``report``) the report's."""
    admin: AdminOptions
    report: Path | None = None
    """``--from``: read the preflight from this JSON report instead of running it."""
    preflight: PreflightSettings | None = None
    """The preflight to run (without ``report``)."""
    service_account: str | None = None
    service_password: Secret | None = field(default=None, repr=False)
    """For the checks run again as the service account (with ``report``: optional)."""
    target_ou: str | None = None
    subnets: tuple[Network, ...] = ()
    site: str = DEFAULT_SITE
    preauth_users: tuple[str, ...] = ()
    preset: str = "workspaces-2016"
    group: str = DELEGATION_GROUP
    group_container: str | None = None
    write: bool = True
    join_probe: bool = False
    security_group: str = ADC_SECURITY_GROUP
    dc_security_group: str = DC_SECURITY_GROUP
    ntp_server: str = DEFAULT_NTP_SERVER


def _check_dc(text: str) -> None:
    if is_address(text):
        parse_address(text, what="domain controller")
        return
    check_dc_host_name(text)


def _check_sg(value: str, option: str) -> str:
    if not re.fullmatch(r"sg-[0-9a-f]{8}(?:[0-9a-f]{9})?", value):
        raise InputError(
            f"{option} {value!r} is not a security group id", hint="Give it as sg-0123456789abcdef0."
        )
    return value


def fix_settings(
    *,
    domain: str | None,
    admin: AdminOptions,
    report: Path | None,
    preflight: Callable[[], PreflightSettings] | None,
    admin_password: Callable[[], Secret] | None,
    service_account: str | None,
    service_password: Callable[[], Secret | None] | None,
    target_ou: str | None,
    subnets: Sequence[str],
    site: str,
    preauth_users: Sequence[str],
    preset: str,
    group: str | None,
    group_container: str | None,
    write: bool,
    join_probe: bool,
    security_group: str | None,
    dc_security_group: str | None,
    ntp_server: str | None,
) -> FixSettings:
    """Check every input before any traffic; ``preflight`` (which checks its own inputs, then reads the
    service account's password) and ``admin_password`` are called last, so a prompt comes after them."""
    if report is None and preflight is None:
        raise InputError(
            "Nothing to fix from",
            hint="Give the preflight's inputs (--domain, --dns-ip, --service-account …, or --config), or "
            "--from REPORT.json, a preflight report in JSON.",
        )
    if report is not None and not report.is_file():
        raise InputError(f"The report {report} does not exist", hint="Check the --from path.")
    chosen = delegation_preset(preset, write=write)
    if chosen.scope == "ou" and not target_ou:
        raise InputError(
            f"The preset {chosen.name} delegates on an OU, and no --ou was given",
            hint="Pass --ou with the OU where AD Connector creates computers.",
        )
    if not site.strip():
        raise InputError("--site is empty", hint=f"Name an AD site, e.g. {DEFAULT_SITE}.")
    users = tuple(dict.fromkeys(u.strip() for u in preauth_users if u.strip()))
    for u in users:
        if any(c in u for c in "\\@,=") or len(u) > 256:
            raise InputError(
                f"--preauth-user {u!r} is not a user logon name", hint="Give the sAMAccountName alone."
            )
    if admin.dc is not None:
        _check_dc(admin.dc)
    if admin.ca_file is not None and not Path(admin.ca_file).is_file():
        raise InputError(
            f"The CA file {admin.ca_file} does not exist",
            hint="Give the PEM file of the CA that signed the DC's certificate.",
        )
    checked = (
        parse_subnets(subnets),
        _check_sg(security_group, "--security-group") if security_group else ADC_SECURITY_GROUP,
        _check_sg(dc_security_group, "--dc-security-group") if dc_security_group else DC_SECURITY_GROUP,
    )
    run = preflight() if preflight is not None else None
    service_secret = service_password() if service_password is not None else None
    if admin.user is not None and admin_password is not None:
        admin = replace(admin, password=admin_password())
    return FixSettings(
        domain=domain or (run.domain if run is not None else None),
        admin=admin,
        report=report,
        preflight=run,
        service_account=service_account,
        service_password=service_secret,
        target_ou=target_ou,
        subnets=checked[0],
        site=site.strip(),
        preauth_users=users,
        preset=chosen.name,
        group=group or DELEGATION_GROUP,
        group_container=group_container,
        write=write,
        join_probe=join_probe,
        security_group=checked[1],
        dc_security_group=checked[2],
        ntp_server=ntp_server or DEFAULT_NTP_SERVER,
    )


# --- the preflight -----------------------------------------------------------------------------------


def read_findings(
    settings: FixSettings, *, on_stage: Callable[[str], None] | None = None
) -> tuple[Report, fx.FixSource]:
    """The preflight: run now with the settings' inputs, or read from the report file."""
    if settings.report is not None:
        report = read_report(settings.report)
        if report.redacted:
            raise InputError(
                f"{settings.report} was written with --redact: its names and addresses are tokens that no "
                "directory holds",
                hint="Give the same report written without --redact (keep the redacted one for sharing).",
            )
        if report.command != "preflight":
            raise InputError(
                f"{settings.report} is a report of 'adprep {report.command}', not of 'adprep preflight'",
                hint="Give a report written by adprep preflight --format json.",
            )
        domain = settings.domain or (report.targets[0] if report.targets else None)
        return report, fx.FixSource("report", report.started_at, domain, str(settings.report))
    assert settings.preflight is not None
    from adprep.jobs.preflight import run_preflight

    report = run_preflight(settings.preflight, on_stage=on_stage)
    return report, fx.FixSource("live", report.started_at, settings.preflight.domain)


def admin_directory(settings: FixSettings, report: Report, domain: str | None) -> DirectorySettings | None:
    """Where and as whom to write: ``--dc`` (an address, or a host name resolved as every LDAP command
    resolves it), else the DC the preflight's directory checks used; with its host name for TLS."""
    a = settings.admin
    if a.user is None or a.password is None or domain is None:
        return None
    hosts = dc_hosts(report)
    if a.dc is not None:
        found = asyncio.run(
            find_dc(LocalNetwork(), dc=a.dc, domain=domain, servers=a.dns_ips, timeout=min(a.timeout, 2.0),
                    ldap_port=636 if a.mode == "ldaps" else 389)
        )  # fmt: skip
        dc, host = found.address, found.host or hosts.get(found.address)
    else:
        dc = fx.directory_dc(report) or ""
        host = hosts.get(dc)
    if not dc:
        return None
    return DirectorySettings(
        dc=dc, domain=domain, user=a.user, password=a.password, dc_name=a.dc_name or host, mode=a.mode,
        ca_file=a.ca_file, verify=a.verify, timeout=a.timeout,
    )  # fmt: skip


# --- planning --------------------------------------------------------------------------------------


def _site_exists(session: LdapSession, config_nc: str, site: str) -> None:
    names = collect_site_names(session, config_nc)
    if site.casefold() not in {n.casefold() for n in names}:
        raise InputError(
            f"There is no AD site {site!r} in the forest",
            hint=f"Name one of its sites with --site: {', '.join(names) or 'none found'}.",
        )


def plan_fix(
    session: LdapSession | None,
    directory: DirectorySettings | None,
    settings: FixSettings,
    report: Report,
    source: fx.FixSource,
) -> fx.FixPlan:
    """The remedies the preflight calls for, planned against what the directory holds now."""
    remedies: list[fx.Remedy] = []
    before: dict[str, CheckResult] = {}
    extra: list[Leftover] = []
    by_id = {r.id: r for r in report.results}
    svc = settings.service_account or fx.service_account(report)
    rights = fx.rights_failures(report)
    locked = fx.locked_out(report)
    preauth_result, preauth_names = fx.preauth_users(report)
    subnets = tuple(
        dict.fromkeys([*settings.subnets, *vantage_subnets(report).values(), *fx.report_subnets(report)])
    )
    wanted = {
        "delegation": bool(rights),
        "unlock": locked is not None,
        "preauth": bool(settings.preauth_users),
        "subnets": bool(subnets),
    }
    if session is None or directory is None:
        why = _NO_WRITER if settings.admin.user is None or settings.admin.password is None else _NO_DC
        chosen_preauth = [preauth_result] if preauth_result and settings.preauth_users else []
        for r in [*rights, *([locked] if locked else []), *chosen_preauth]:
            extra.append(Leftover(r.id, r.status, r.title, why))
        if subnets:
            extra.append(
                Leftover(
                    "sites.subnets",
                    Status.WARN,
                    f"AD Connector subnets {', '.join(map(str, subnets))}",
                    "Not compared with the forest's subnet objects: " + why,
                )
            )
        wanted = dict.fromkeys(wanted, False)
    base = directory.base_dn if directory else ""

    def from_report(remedy: fx.Remedy) -> None:
        remedies.append(remedy)
        for cid in remedy.addresses:
            if cid in by_id:
                before.setdefault(cid, by_id[cid])

    if wanted["delegation"] and session is not None and directory is not None:
        ids = tuple(r.id for r in rights)
        found = find_by_sam(session, base, [svc], ()) if svc else {}
        members = (found[svc.casefold()].dn,) if svc and svc.casefold() in found else ()
        ds = delegate_settings(
            directory, preset_name=settings.preset, group=settings.group, group_container=settings.group_container,
            ou=settings.target_ou if delegation_preset(settings.preset).scope == "ou" else None,
            write=settings.write, members=members,
        )  # fmt: skip
        delegation, membership = fx.split_membership(plan_delegate(session, ds))
        from_report(fx.Remedy("delegation", f"{ds.group_name} delegation ({ds.preset.name}) on {ds.target_dn}",
                              ids, delegation))  # fmt: skip
        if members:
            from_report(fx.Remedy("account.membership", f"{svc} in {ds.group_name}", ids, membership))
        else:
            extra.append(Leftover(ids[0], Status.FAIL, f"{svc or 'The service account'} not found",
                                  "The delegation's group is planned, but the service account was not found in "
                                  f"{base} to be put in it: pass --service-account NAME."))  # fmt: skip
    if wanted["unlock"] and session is not None and locked is not None:
        remedy = _plan_unlock(session, base, svc, locked)
        if remedy is None:
            extra.append(Leftover(locked.id, locked.status, locked.title,
                                  f"The service account {svc or '(unknown)'} was not found in {base}."))  # fmt: skip
        else:
            from_report(remedy)
    if preauth_result is not None:
        chosen = {u.casefold() for u in settings.preauth_users}
        others = [n for n in preauth_names if n.casefold() not in chosen]
        total = preauth_result.facts.get("total")
        more = total - len(preauth_names) if isinstance(total, int) and total > len(preauth_names) else 0
        if others or more:
            extra.append(
                Leftover(
                    preauth_result.id,
                    preauth_result.status,
                    f"Kerberos pre-authentication stays off for {', '.join(others)}"
                    + (f" and {more} more" if more else ""),
                    "adprep turns it on only for the users named with --preauth-user NAME: choose them (an "
                    "account may need it off on purpose, e.g. for an old Kerberos client).",
                )
            )
    if wanted["preauth"] and session is not None:
        addresses = (preauth_result.id,) if preauth_result is not None else ()
        from_report(fx.Remedy("preauth", "Kerberos pre-authentication for " + ", ".join(settings.preauth_users),
                              addresses, _plan_preauth(session, base, settings.preauth_users)))  # fmt: skip
    if wanted["subnets"] and session is not None and directory is not None:
        remedy, checks = _plan_subnets_with(session, directory, settings, report, subnets)
        remedies.append(remedy)
        for c in checks:
            before.setdefault(c.id, c)
    options = ManualOptions(
        domain=source.domain, subnets=subnets, security_group=settings.security_group,
        dc_security_group=settings.dc_security_group, ntp_server=settings.ntp_server,
        admin_user=settings.admin.user or "Administrator", dc_hosts=dc_hosts(report),
    )  # fmt: skip
    steps, manual_left = manual_steps(report, options)
    extra.extend(manual_left)
    # A failed check whose remedies all have nothing to write is not fixed by them: say so.
    planned = {cid for r in remedies if r.plan.changes for cid in r.addresses}
    idle = {cid: r.id for r in remedies if not r.plan.changes for cid in r.addresses}
    for cid, remedy_id in idle.items():
        seen = before.get(cid)
        if cid not in planned and seen is not None and seen.status is Status.FAIL:
            extra.append(Leftover(cid, seen.status, seen.title,
                                  f"What {remedy_id} writes is in place already: the report is older than the "
                                  "change, or the check fails for another reason (see its remedy); run "
                                  "adprep preflight again."))  # fmt: skip
    return fx.FixPlan(
        source=source,
        remedies=tuple(remedies),
        before=before,
        steps=tuple(steps),
        leftovers=fx.leftovers(report, remedies, steps, extra),
    )


def _plan_subnets_with(
    session: LdapSession,
    directory: DirectorySettings,
    settings: FixSettings,
    report: Report,
    networks: Sequence[Network],
) -> tuple[fx.Remedy, list[CheckResult]]:
    config_nc = configuration_nc(session, directory.base_dn)
    _site_exists(session, config_nc, settings.site)
    observed = collect_subnets(session, config_nc)
    checks = check_subnet_sites(networks, observed)
    labels = [label for label, net in vantage_subnets(report).items() if net in networks]
    cldap = fx.site_warnings(report, labels)
    plan = plan_subnets(networks, settings.site, config_nc, observed)
    remedy = fx.Remedy(
        "sites.subnets",
        f"AD Connector subnets in AD site {settings.site}",
        tuple(c.id for c in checks) + tuple(r.id for r in cldap),
        plan,
    )
    return remedy, [*checks, *cldap]


def _plan_unlock(session: LdapSession, base: str, svc: str | None, locked: CheckResult) -> fx.Remedy | None:
    if not svc:
        return None
    found = find_by_sam(session, base, [svc], ())
    hit = found.get(svc.casefold())
    if hit is None:
        return None
    # msDS-User-Account-Control-Computed is constructed: read it with a base search.
    entry = session.get(hit.dn, ("sAMAccountName", "lockoutTime", "msDS-User-Account-Control-Computed"))
    if entry is None:
        return None
    computed = entry.first("msDS-User-Account-Control-Computed")
    observed = fx.ObservedLockout(
        dn=entry.dn,
        name=str(entry.first("sAMAccountName") or svc),
        lockout_time=int(entry.first("lockoutTime") or 0),
        computed_uac=int(computed) if computed is not None else None,
    )
    return fx.Remedy("account.unlock", f"unlock {observed.name}", (locked.id,), fx.plan_unlock(observed))


def _plan_preauth(session: LdapSession, base: str, names: Sequence[str]) -> Plan:
    found = find_by_sam(session, base, names, ("userAccountControl",), object_class="user")
    missing = [n for n in names if n.casefold() not in found]
    if missing:
        raise InputError(
            f"No such user in {base}: {', '.join(missing)}", hint="Check the --preauth-user names."
        )
    users = [
        fx.ObservedUser(found[n.casefold()].dn, n, int(found[n.casefold()].first("userAccountControl") or 0))
        for n in names
    ]
    return fx.plan_preauth(users)


# --- applying and checking again ---------------------------------------------------------------------


def apply_fix(
    session: LdapSession, fix: fx.FixPlan, *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """Apply the LDAP part of an ``adprep fix`` plan through ``session``."""
    return apply_plan(fix.plan, ldap_appliers(session), on_done=on_done)


def _not_rerun(cid: str, why: str) -> CheckResult:
    return CheckResult(cid, Status.SKIP, f"Not run again: {why}", {})


def recheck(
    session: LdapSession,
    directory: DirectorySettings,
    settings: FixSettings,
    fix: fx.FixPlan,
    report: Report,
) -> dict[str, CheckResult]:
    """The checks the remedies address, run again on the DC that was written to."""
    ids = {cid for r in fix.remedies for cid in r.addresses}
    after: dict[str, CheckResult] = {}
    account_ids = {i for i in ids if i.startswith("account.")}
    if account_ids:
        after.update(_recheck_account(directory, settings, report, account_ids))
    if fx.PREAUTH_CHECK in ids:
        found = Observed.attempt("The accounts without Kerberos pre-authentication",
                                 lambda: read_preauth_users(session, directory.base_dn))  # fmt: skip
        after[fx.PREAUTH_CHECK] = check_preauth_users(directory.dc, found)
    networks = [ipaddress.ip_network(i.removeprefix("sites.subnet."), strict=False) for i in ids
                if i.startswith("sites.subnet.")]  # fmt: skip
    if networks:
        observed = collect_subnets(session, configuration_nc(session, directory.base_dn))
        after.update((c.id, c) for c in check_subnet_sites(networks, observed))
    for cid in ids:
        if cid.startswith("dcs.site."):
            after[cid] = _not_rerun(
                cid, "the CLDAP site mapping is probed from the vantage; run adprep preflight"
            )
    return after


def _recheck_account(
    directory: DirectorySettings, settings: FixSettings, report: Report, ids: set[str]
) -> dict[str, CheckResult]:
    from adprep.jobs.directory_checks import run_directory_checks

    svc = settings.service_account or fx.service_account(report)
    password = settings.service_password
    if settings.preflight is not None:
        svc = settings.preflight.username or svc
        password = settings.preflight.password or password
    if not svc or password is None:
        why = f"the service account's password is needed (--service-password-file, or {SERVICE_PASSWORD_ENV})"
        return {cid: _not_rerun(cid, why) for cid in ids}
    container = None
    for r in report.results:
        if r.base_id == "account.rights.create_computer" and r.facts.get("container_source") == "given":
            container = str(r.facts.get("container"))
    results = run_directory_checks(
        dc_address=directory.dc, dc_name=directory.dc_name, domain=directory.domain, username=svc,
        password=password, mode=directory.mode, ca_file=directory.ca_file, verify=directory.verify,
        target_ou=settings.target_ou or container, join_probe="account.join_probe" in ids,
        timeout=directory.timeout,
    )  # fmt: skip
    return {r.id: r for r in results if r.id in ids}


def run_fix(
    settings: FixSettings,
    *,
    dry_run: bool,
    on_stage: Callable[[str], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> fx.FixResult:
    """Read or run the preflight, plan, and (unless ``dry_run``) apply and check again."""
    stage = on_stage or (lambda _: None)
    stage("preflight")
    report, source = read_findings(settings, on_stage=on_stage)
    directory = admin_directory(settings, report, source.domain)
    if directory is None:
        return fx.FixResult(plan_fix(None, None, settings, report, source), dry_run)
    stage("plan")
    with open_session(directory) as session:
        fix = plan_fix(session, directory, settings, report, source)
        if dry_run or fix.plan.empty:
            return fx.FixResult(fix, dry_run)
        stage("apply")
        applied = apply_fix(session, fix, on_done=on_done)
        stage("check again")
        try:
            after = recheck(session, directory, settings, fix, report)
        except TransportError as e:
            ids = {cid for r in fix.remedies for cid in r.addresses}
            after = {cid: CheckResult(cid, Status.ERROR, "Could not run again", {"reason": e.sentence()},
                                      remedy=e.sentence(), reason=reason_of(e)) for cid in ids}  # fmt: skip
    return fx.FixResult(fix, dry_run, applied, after)
