"""GPO jobs: observe a GPO over LDAP and SMB, plan, apply; show one; scan the GPOs that reach the
WorkSpaces' computers (an OU, or the domain's computers container, and the sites).

The short I/O loop around the pure parts: :mod:`adprep.collect.gpo` reads, :mod:`adprep.prep.gpo`
plans, :func:`adprep.prep.plan.apply_plan` runs the changes through the appliers defined here, and
:mod:`adprep.checks.gpo` judges what :func:`scan_gpos` read.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from adprep.ad.dn import is_descendant, ou_path_to_dn, parse_dn
from adprep.catalogue import check_id
from adprep.checks.gpo import ScopeFacts, applied_links, check_gpo_scan, site_scopes
from adprep.collect.gpo import (
    collect_computers_container,
    collect_gpo,
    collect_gpo_links,
    collect_link_container,
    collect_scanned_gpo,
    collect_scope,
    collect_sites,
    collect_sysvol,
    find_gpo,
)
from adprep.errors import AdprepError, InputError, WireFormatError, reason_of
from adprep.facts.gpo import GpoObject, ScannedGpo, SysvolState
from adprep.gpo.adm import AdmPolicy, AdmTemplate, parse_adm
from adprep.gpo.gpt_ini import parse_gpt_ini, split_version
from adprep.gpo.paths import gpo_dn
from adprep.gpo.pcoip import describe
from adprep.gpo.registry_pol import PolEntry, parse_registry_pol
from adprep.jobs.directory_session import open_session
from adprep.model import CheckResult, Report
from adprep.prep.gpo import (
    AdmFile,
    GpoWanted,
    parse_extension_names,
    plan_gpo,
    plan_link,
    validate_gpo_name,
)
from adprep.prep.gpo_apply import gpo_appliers
from adprep.prep.plan import ApplyResult, Outcome, Plan, apply_plan, merge_plans
from adprep.report import build_report, could_not_run, make_vantage, now
from adprep.transport.ldap import LdapSession
from adprep.transport.ldap_settings import DirectorySettings
from adprep.transport.smb import SmbSession, SmbTarget, connect_smb

_GUID = re.compile(r"\{?([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})\}?\Z", re.IGNORECASE)


def new_gpo_guid() -> str:
    """A fresh GPO GUID, upper case in braces, as GPMC names GPOs."""
    return "{" + str(uuid.uuid4()).upper() + "}"


def open_smb(settings: DirectorySettings) -> SmbSession:
    """Log on to the DC's SMB server as the account that binds over LDAP."""
    return connect_smb(
        SmbTarget(settings.dc, server_name=settings.dc_name, timeout=max(settings.timeout, 10.0)),
        user=settings.user,
        domain=settings.domain,
        password=settings.password,
    )


@dataclass
class GpoConnection:
    """An LDAP session and an SMB session to the same DC."""

    settings: DirectorySettings
    ldap: LdapSession
    smb: SmbSession


@contextmanager
def gpo_connection(settings: DirectorySettings) -> Iterator[GpoConnection]:
    """An LDAP and an SMB session to the same DC, for as long as the ``with`` block."""
    with open_session(settings) as ldap, open_smb(settings) as smb:
        yield GpoConnection(settings, ldap, smb)


# -- resolving names ----------------------------------------------------------------------------


def link_target_dn(target: str, base_dn: str) -> str:
    """``domain`` → the domain's DN; a DN is kept (it must be in the domain); else an OU path."""
    text = target.strip()
    if text.casefold() == "domain":
        return base_dn
    if "=" in text:
        parse_dn(text)
        if not is_descendant(text, base_dn):
            raise InputError(f"{text} is not in the domain {base_dn}", hint="Give an OU of this domain.")
        return text
    return ou_path_to_dn(text, base_dn)


def resolve_gpo(conn: GpoConnection, name: str) -> GpoObject | None:
    """The GPO named ``name`` (display name), or with that GUID."""
    base = conn.settings.base_dn
    m = _GUID.match(name.strip())
    if m:
        return collect_gpo(conn.ldap, gpo_dn("{" + m.group(1).upper() + "}", base))
    return find_gpo(conn.ldap, base, validate_gpo_name(name))


# -- planning -------------------------------------------------------------------------------------


def plan_gpo_change(
    conn: GpoConnection,
    name: str,
    *,
    machine_settings: tuple[PolEntry, ...] = (),
    may_create: bool = True,
    link: str | None = None,
    templates: tuple[AdmFile, ...] = (),
) -> Plan:
    """Observe the GPO named ``name`` and plan what makes it complete (and linked at ``link``), with
    ``machine_settings`` in its Registry.pol and ``templates`` installed in its ``Adm`` folder."""
    s = conn.settings
    name = validate_gpo_name(name)
    link_dn = link_target_dn(link, s.base_dn) if link else None
    gpo = find_gpo(conn.ldap, s.base_dn, name)
    sysvol = collect_sysvol(conn.smb, s.domain, gpo.guid) if gpo is not None else None
    wanted = GpoWanted(
        name=name,
        domain=s.domain,
        base_dn=s.base_dn,
        machine_settings=machine_settings,
        may_create=may_create,
        templates=templates,
    )
    plan = plan_gpo(gpo, sysvol, wanted, new_guid=new_gpo_guid())
    if link_dn is None:
        return plan
    created = next((c for c in plan.changes if c.id.startswith("gpo.create:")), None)
    target_gpo_dn = created.target if created is not None else gpo.dn if gpo is not None else ""
    container = collect_link_container(conn.ldap, link_dn)
    if container is None:
        raise InputError(f"{link_dn} does not exist", hint="Check the OU's distinguished name.")
    link_plan = plan_link(
        container, target_gpo_dn, label=f"GPO {name!r}", link=True,
        depends_on=(created.id,) if created is not None else (),
    )  # fmt: skip
    return merge_plans("gpo", (plan, link_plan))


def plan_link_change(conn: GpoConnection, name: str, target: str, *, link: bool) -> Plan:
    """Plan linking (or unlinking) the GPO ``name`` (display name or GUID) at ``target``."""
    s = conn.settings
    container_dn = link_target_dn(target, s.base_dn)
    gpo = resolve_gpo(conn, name)
    if gpo is None:
        m = _GUID.match(name.strip())
        if link or not m:
            raise InputError(
                f"There is no GPO named {name!r}", hint="Check the name with: adprep gpo show NAME."
            )
        # Unlinking a GPO that no longer exists: remove the stale link by its DN.
        dn = gpo_dn("{" + m.group(1).upper() + "}", s.base_dn)
        label = f"GPO {m.group(1).upper()}"
    else:
        dn, label = gpo.dn, f"GPO {gpo.display_name!r} {gpo.guid}"
    container = collect_link_container(conn.ldap, container_dn)
    if container is None:
        raise InputError(f"{container_dn} does not exist", hint="Check the OU's distinguished name.")
    return plan_link(container, dn, label=label, link=link)


# -- applying -------------------------------------------------------------------------------------


def apply_gpo_plan(
    conn: GpoConnection, plan: Plan, *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """Apply a GPO plan: its LDAP and SYSVOL writes, through ``conn``."""
    return apply_plan(plan, gpo_appliers(conn.ldap, conn.smb), on_done=on_done)


# -- show -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GpoView:
    """A GPO as a person reads it."""

    name: str | None
    guid: str
    dn: str
    ldap_version: int | None
    gpt_version: int | None
    flags: int | None
    machine_extensions: tuple[str, ...]
    links: tuple[str, ...]
    """DNs of containers whose gPLink names the GPO."""
    settings: tuple[tuple[str, str], ...]
    """(policy, value) read from Machine/Registry.pol."""
    sysvol_exists: bool
    templates: tuple[str, ...] = ()
    """ADM templates installed in the GPO (``Adm/<name>``), which read the settings when no ``--adm`` is given."""

    def version_text(self, version: int | None) -> str:
        """A GPO version as a person reads it: the number and its computer and user halves."""
        if version is None:
            return "missing"
        user, machine = split_version(version)
        return f"{version} (computer {machine}, user {user})"


def installed_template(sysvol: SysvolState) -> AdmTemplate:
    """The policies of every ADM template installed in the GPO; one that cannot be read is left out."""
    policies: list[AdmPolicy] = []
    names: list[str] = []
    for rel, data in sysvol.adm_files.items():
        try:
            policies.extend(parse_adm(data, source=rel).policies)
        except WireFormatError:
            continue
        names.append(rel)
    return AdmTemplate(source=", ".join(names) or "(no template)", policies=tuple(policies))


def show_gpo(conn: GpoConnection, name: str, template: AdmTemplate | None) -> GpoView:
    """The GPO named ``name``; its settings read with ``template``, else with the templates installed in it."""
    gpo = resolve_gpo(conn, name)
    if gpo is None:
        raise InputError(f"There is no GPO named {name!r}", hint="Check the display name or give the GUID.")
    sysvol = collect_sysvol(conn.smb, conn.settings.domain, gpo.guid, with_acls=False)
    if template is None:
        template = installed_template(sysvol)
    gpt = parse_gpt_ini(sysvol.gpt_ini).version if sysvol.gpt_ini is not None else None
    entries = parse_registry_pol(sysvol.registry_pol) if sysvol.registry_pol is not None else ()
    links = collect_gpo_links(conn.ldap, conn.settings.base_dn, gpo.guid)
    ext = parse_extension_names(gpo.machine_extensions)
    return GpoView(
        name=gpo.display_name, guid=gpo.guid, dn=gpo.dn, ldap_version=gpo.version, gpt_version=gpt,
        flags=gpo.flags, machine_extensions=tuple(f"{cse} {' '.join(sorted(t))}" for cse, t in sorted(ext.items())),
        links=links, settings=tuple(describe(entries, template)), sysvol_exists=sysvol.exists,
        templates=tuple(sysvol.adm_files),
    )  # fmt: skip


# -- scan -----------------------------------------------------------------------------------------


def scan_gpos(
    session: LdapSession, smb: SmbSession, base_dn: str, target_dn: str | None = None
) -> list[CheckResult]:
    """Check the GPOs that reach ``target_dn`` for settings known to break WorkSpaces.

    ``target_dn`` is where the WorkSpaces' computer accounts go; None: the domain's computers
    container (``wellKnownObjects``, which redircmp moves; else ``CN=Computers``). The GPOs linked to
    the domain, to every OU down to the target and to every site are read (see
    :mod:`adprep.checks.gpo`). Ids ``gpo.scan.<GUID>.<finding>`` (``logon_banner``,
    ``disconnect_logoff``, ``end_session_at_limit``, ``missing``, ``unreadable``), or
    ``gpo.scan.clean`` when nothing is found. A failure to read the links becomes one error result.
    """
    domain = ".".join(r.value for r in parse_dn(base_dn))
    what = target_dn or f"the computers container of {base_dn}"
    source: str = "given"
    try:
        if target_dn is None:
            target_dn, source = collect_computers_container(session, base_dn)
            what = target_dn
        chain = collect_scope(session, base_dn, target_dn)
        sites = collect_sites(session)
        links = applied_links(chain)
        scopes = site_scopes(chain, sites)
    except AdprepError as e:  # a missing OU included: preflight reports it, as it always did
        return [could_not_run(check_id("gpo.scan"), f"The GPO links down to {what} could not be read", e.sentence(),
                              reason=reason_of(e), target=what)]  # fmt: skip
    gpos: dict[str, ScannedGpo] = {}
    for link in (*links, *(link for scope in scopes for link in scope.links)):
        key = link.gpo_dn.casefold()
        if key not in gpos:
            gpos[key] = collect_scanned_gpo(session, smb, link.gpo_dn, domain, base_dn)
    facts = ScopeFacts(ou_dn=target_dn, links=links, gpos=tuple(gpos.values()), sites=scopes,
                       container_source=source)  # fmt: skip
    return check_gpo_scan(facts)


def scan_gpos_with(settings: DirectorySettings, target_dn: str | None = None) -> list[CheckResult]:
    """Connect (LDAP and SMB, as ``settings.user``) and scan; a connection failure is one error result."""
    try:
        with gpo_connection(settings) as conn:
            return scan_gpos(conn.ldap, conn.smb, settings.base_dn, target_dn)
    except AdprepError as e:
        if isinstance(e, InputError):
            raise
        what = target_dn or "the computers container"
        return [could_not_run(check_id("gpo.scan"), f"The GPOs reaching {what} could not be scanned", e.sentence(),
                              reason=reason_of(e), target=settings.dc)]  # fmt: skip


def run_gpo_scan(settings: DirectorySettings, ou: str | None, *, vantage: str | None = None) -> Report:
    """``adprep gpo scan``: the scan as a report (the computers container when no OU is given)."""
    started = now()
    ou_dn = link_target_dn(ou, settings.base_dn) if ou else None
    results = scan_gpos_with(settings, ou_dn)
    return build_report(
        "gpo scan", started_at=started, targets=(settings.dc,), results=results,
        vantage=make_vantage(vantage, {}),
    )  # fmt: skip
