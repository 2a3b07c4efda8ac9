"""Verdicts on the GPOs that reach the WorkSpaces' computers: settings known to break WorkSpaces.

Pure: facts in (:class:`ScopeFacts`, gathered by ``adprep.jobs.gpo.scan_gpos``), check results out.

Which GPOs reach a container follows MS-GPOL 3.2.5.1.3 (and GPMC's "Group Policy Inheritance"): the
links of the computer's site, of its domain and of every OU down to the target, skipping disabled
links; a container with "block inheritance" (``gPOptions`` = 1) stops the links above it, the site's
included, except enforced ones. A GPO whose computer half is disabled (``flags`` bit 2) applies no
computer settings. They apply lowest precedence first, so that the last one applied wins (LSDOU):
local, site, domain, OUs top down, each container's links in gPLink order; then the enforced links,
deepest container first, so that an enforced link on the domain beats one on an OU. The local GPO
of each WorkSpace cannot be read from the directory and is not scanned.

Sites: the site of a WorkSpace is the one its subnet maps to in Active Directory Sites and Services,
which adprep cannot know (the CLDAP reply names the site of the host running adprep, not of the
WorkSpaces). So every site that links GPOs is scanned as its own scope (that site, then the domain
and OUs: :class:`SiteScope`), and a finding names the site it comes from.

Findings (Amazon WorkSpaces Administration Guide (2016), "Using Group Policy to Manage WorkSpaces
and Users"; MS-GPREG for Registry.pol):

* ``logon_banner`` (fail): an interactive logon banner (``LegalNoticeCaption``/``LegalNoticeText`` under
  ``HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System``) stops WorkSpaces from
  working, since the WorkSpace cannot log the user on while the banner waits for a click. It is
  found in the GPO's Machine/Registry.pol (Administrative Templates or a registry preference
  written as policy) and in its security template (``Machine\\Microsoft\\Windows NT\\SecEdit\\GptTmpl.inf``,
  ``[Registry Values]``), which is where "Interactive logon: Message title/text for users attempting
  to log on" (Security Options) stores it. An empty banner shows nothing and is not a finding.
* ``disconnect_logoff`` (warn): the guide warns that some settings force users to log off when they
  disconnect, closing every application they had open (and, in its client troubleshooting, "logged
  off ... even though I closed the session"). That is Microsoft's Remote Desktop Services "Session
  Time Limits" policy "Set time limit for disconnected sessions" (``MaxDisconnectionTime`` > 0
  milliseconds under ``Software\\Policies\\Microsoft\\Windows NT\\Terminal Services``). The WorkSpace
  still works, so it warns rather than fails.
* ``end_session_at_limit`` (warn): "End session when time limits are reached" (``fResetBroken`` = 1)
  together with an active or idle session limit (``MaxConnectionTime``/``MaxIdleTime`` > 0): a
  session that reaches the limit is logged off instead of disconnected.

The session limits are judged on the value that wins: the GPOs' Registry.pol entries applied in the
order above, a later value (or its ``**del.``) replacing an earlier one, as the registry client-side
extension does. Only the computer side is read; the same policies in User Configuration follow the
users' OU and lose to the computer's (Microsoft's policy help: "the Computer Configuration setting
takes precedence").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from adprep import requirements as req
from adprep.ad.dn import dn_equal, parse_dn
from adprep.ad.gplink import parse_gplink
from adprep.catalogue import check_id
from adprep.errors import InputError, WireFormatError
from adprep.facts.gpo import LinkContainer, ScannedGpo
from adprep.gpo.paths import SECURITY_TEMPLATE
from adprep.gpo.registry_pol import DELETE_PREFIX, DELETE_VALUES, PolEntry
from adprep.model import CheckResult, ErrorReason, FactValue, Status

#: MS-GPOL 2.2.2 flags: the computer half of the GPO is disabled.
GPO_MACHINE_DISABLED = 0x2
#: Where Microsoft's "Session Time Limits" policies are in the Group Policy editor.
SESSION_LIMITS_PATH = (
    "Computer Configuration > Policies > Administrative Templates > Windows Components > "
    "Remote Desktop Services > Remote Desktop Session Host > Session Time Limits"
)
_GUIDE = "Amazon WorkSpaces Administration Guide (2016), 'Using Group Policy to Manage WorkSpaces and Users'"
_LOGOFF_WARNING = (
    "The Amazon WorkSpaces Administration Guide (2016) warns, in 'Using Group Policy to Manage WorkSpaces and "
    "Users', that settings which log users off when they disconnect close every application they had open."
)


@dataclass(frozen=True)
class AppliedLink:
    """A GPO that reaches the target, through which link."""

    gpo_dn: str
    container_dn: str
    enforced: bool


@dataclass(frozen=True)
class SiteScope:
    """The links that reach the target from a computer in one site that links GPOs."""

    site: str
    """The site's name (its CN)."""
    links: tuple[AppliedLink, ...]
    """In the order they apply (see the module docstring), the site's own included."""


@dataclass(frozen=True)
class ScopeFacts:
    ou_dn: str
    """The container the WorkSpaces' computer accounts are in (the target OU, or the computers container)."""
    links: tuple[AppliedLink, ...]
    """The links that reach it from a computer in a site that links no GPO, in the order they apply."""
    gpos: tuple[ScannedGpo, ...] = field(default_factory=tuple)
    sites: tuple[SiteScope, ...] = ()
    """One scope per site that links GPOs."""
    container_source: str = "given"
    """How ``ou_dn`` was chosen: ``given`` (``--ou``), ``wellKnownObjects`` (the domain's computers
    container, which redircmp moves) or ``default`` (``CN=Computers``)."""


def applied_links(chain: Sequence[LinkContainer]) -> tuple[AppliedLink, ...]:
    """The enabled links that reach the last container of ``chain`` (site or domain first, target last),
    in the order they apply: non-enforced links top down, then enforced links bottom up."""
    normal: list[AppliedLink] = []
    enforced: list[list[AppliedLink]] = []
    for depth, container in enumerate(chain):
        blocked_below = any(c.block_inheritance for c in chain[depth + 1 :])
        here: list[AppliedLink] = []
        for link in parse_gplink(container.gplink):
            if not link.enabled:
                continue
            if link.enforced:
                here.append(AppliedLink(link.dn, container.dn, True))
            elif not blocked_below:
                normal.append(AppliedLink(link.dn, container.dn, False))
        enforced.append(here)
    return tuple(normal) + tuple(link for level in reversed(enforced) for link in level)


def site_name(dn: str) -> str | None:
    """The site's name when ``dn`` is ``CN=<site>,CN=Sites,CN=Configuration,...``, else None."""
    try:
        rdns = parse_dn(dn)
    except InputError:
        return None
    if len(rdns) > 3 and rdns[1].key() == (("cn", "sites"),) and rdns[2].key() == (("cn", "configuration"),):
        return rdns[0].value
    return None


def site_scopes(chain: Sequence[LinkContainer], sites: Sequence[LinkContainer]) -> tuple[SiteScope, ...]:
    """For each site whose enabled links reach the end of ``chain``, the links that apply from it."""
    base = applied_links(chain)
    scopes: list[SiteScope] = []
    for site in sites:
        links = applied_links((site, *chain))
        if links != base:
            scopes.append(SiteScope(site_name(site.dn) or site.dn, links))
    return tuple(scopes)


@dataclass(frozen=True)
class Banner:
    """Where a logon banner value was found."""

    value: str
    text: str
    source: str


def _banner_from_pol(entries: Sequence[PolEntry]) -> list[Banner]:
    found: dict[str, Banner] = {}
    for entry in entries:  # file order: a later entry (or **del.) overrides an earlier one
        if entry.key.casefold() != req.LOGON_BANNER_KEY.casefold():
            continue
        for value in req.LOGON_BANNER_VALUES:
            if entry.value.casefold() == f"**del.{value}".casefold():
                found.pop(value, None)
            elif entry.value.casefold() == value.casefold():
                try:
                    decoded = entry.decoded
                except WireFormatError:
                    decoded = ""
                text = "\n".join(decoded) if isinstance(decoded, tuple) else str(decoded)
                if text.strip():
                    found[value] = Banner(value, text, "Machine/Registry.pol")
                else:
                    found.pop(value, None)
    return list(found.values())


def _banner_from_template(text: str) -> list[Banner]:
    # GptTmpl.inf [Registry Values]: MACHINE\<key>\<value>=<type>,<data> (type 1 REG_SZ, 7 MULTI_SZ
    # with the strings comma-separated); strings may be quoted.
    found: list[Banner] = []
    section = ""
    prefix = f"machine\\{req.LOGON_BANNER_KEY}\\".casefold()
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().casefold()
            continue
        if section != "registry values" or "=" not in line:
            continue
        name, _, data = line.partition("=")
        name = name.strip()
        if not name.casefold().startswith(prefix):
            continue
        value = name[len(prefix) :]
        for wanted in req.LOGON_BANNER_VALUES:
            if value.casefold() == wanted.casefold():
                _, _, body = data.partition(",")
                body = body.strip().strip('"').strip()
                if body.strip(", "):
                    found.append(Banner(wanted, body, SECURITY_TEMPLATE))
    return found


# -- session time limits ----------------------------------------------------------------------

_LIMIT_VALUES = (req.RDS_MAX_DISCONNECTION, req.RDS_MAX_IDLE, req.RDS_MAX_CONNECTION, req.RDS_END_AT_LIMIT)


@dataclass(frozen=True)
class _Set:
    """A session-limit value as it stands after the GPOs applied so far, and the GPO that set it."""

    number: int
    gpo: ScannedGpo


def _number(entry: PolEntry) -> int | None:
    try:
        decoded = entry.decoded
    except WireFormatError:
        return None
    if isinstance(decoded, int):
        return decoded
    if isinstance(decoded, str) and decoded.strip().isdigit():
        return int(decoded.strip())
    return None


def _applies(gpo: ScannedGpo | None) -> bool:
    return (
        gpo is not None and gpo.exists and gpo.error is None and not (gpo.flags or 0) & GPO_MACHINE_DISABLED
    )


def effective_session_limits(
    links: Iterable[AppliedLink], gpos: Sequence[ScannedGpo]
) -> dict[str, tuple[int, ScannedGpo]]:
    """The session-limit values (``MaxDisconnectionTime``…, by their :mod:`requirements` spelling) that
    win once the linked GPOs apply in ``links`` order, with the GPO each comes from."""
    by_dn = {g.dn.casefold(): g for g in gpos}
    names = {name.casefold(): name for name in _LIMIT_VALUES}
    state: dict[str, _Set] = {}
    key = req.RDS_POLICY_KEY.casefold()
    for link in links:
        gpo = by_dn.get(link.gpo_dn.casefold()) or next(
            (g for g in gpos if dn_equal(g.dn, link.gpo_dn)), None
        )
        if gpo is None or not _applies(gpo):
            continue
        for entry in gpo.registry_pol or ():
            if entry.key.casefold() != key:
                continue
            value = entry.value.casefold()
            if value == DELETE_VALUES:
                state.clear()
            elif value.startswith(DELETE_PREFIX):
                name = names.get(value[len(DELETE_PREFIX) :])
                if name is not None:
                    state.pop(name, None)
            elif value in names:
                number = _number(entry)
                if number is None:
                    state.pop(names[value], None)  # not a number: the service ignores it
                else:
                    state[names[value]] = _Set(number, gpo)
    return {name: (s.number, s.gpo) for name, s in state.items()}


def _duration(ms: int) -> str:
    minutes, rest = divmod(ms, 60_000)
    if rest or not minutes:
        return f"{ms / 1000:g} second(s)"
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes % size == 0:
            n = minutes // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class _Finding:
    id: str
    gpo: ScannedGpo
    title: str
    facts: dict[str, FactValue]
    remedy: str


# -- wording ----------------------------------------------------------------------------------


def _label(gpo: ScannedGpo) -> str:
    return f"{gpo.display_name!r} {gpo.guid}" if gpo.display_name else gpo.guid


def _container_label(dn: str) -> str:
    name = site_name(dn)
    return f"site {name}" if name is not None else dn


def _keep_away(where: str, target: str) -> str:
    """How to keep a GPO linked at ``where`` from the WorkSpaces' computers in ``target``."""
    try:
        is_ou = parse_dn(target)[0].attr.casefold() == "ou"
    except InputError:
        is_ou = False
    if is_ou:
        return f"unlink it from {where}, or block inheritance on {target} if the link is not enforced"
    return (
        f"unlink it from {where}, or put the WorkSpaces' computer accounts in an OU of their own that blocks "
        "inheritance (the OU you give AD Connector) if the link is not enforced"
    )


def _limit_findings(
    links: Sequence[AppliedLink], gpos: Sequence[ScannedGpo], linked: dict[str, list[str]], target: str
) -> list[_Finding]:
    limits = effective_session_limits(links, gpos)
    found: list[_Finding] = []

    def base(gpo: ScannedGpo) -> dict[str, FactValue]:
        return {"gpo": gpo.display_name, "guid": gpo.guid, "gpo_dn": gpo.dn,
                "linked_at": list(linked.get(gpo.dn.casefold(), []))}  # fmt: skip

    def where(gpo: ScannedGpo) -> str:
        return ", ".join(_container_label(c) for c in linked.get(gpo.dn.casefold(), []))

    disconnect = limits.get(req.RDS_MAX_DISCONNECTION)
    if disconnect is not None and disconnect[0] > 0:
        ms, gpo = disconnect
        at = where(gpo)
        found.append(
            _Finding(
                id=check_id("gpo.scan.<guid>.disconnect_logoff", guid=gpo.guid), gpo=gpo,
                title=f"GPO {_label(gpo)}, linked at {at}, ends disconnected sessions after {_duration(ms)}: "
                "users who disconnect are logged off and their open applications closed",
                facts={**base(gpo), "policy": "Set time limit for disconnected sessions",
                       "value": f"{req.RDS_POLICY_KEY}\\{req.RDS_MAX_DISCONNECTION}", "milliseconds": ms},
                remedy=(
                    f"{_LOGOFF_WARNING} In GPO {_label(gpo)} set 'Set time limit for disconnected "
                    f"sessions' ({SESSION_LIMITS_PATH}) to Not Configured, or to Enabled with 'Never'; or "
                    f"{_keep_away(at, target)}."
                ),
            )
        )  # fmt: skip
    end = limits.get(req.RDS_END_AT_LIMIT)
    timers = {
        name: limits[name]
        for name in (req.RDS_MAX_IDLE, req.RDS_MAX_CONNECTION)
        if name in limits and limits[name][0] > 0
    }
    if end is not None and end[0] == 1 and timers:
        _, gpo = end
        at = where(gpo)
        titles = {req.RDS_MAX_IDLE: "Set time limit for active but idle Remote Desktop Services sessions",
                  req.RDS_MAX_CONNECTION: "Set time limit for active Remote Desktop Services sessions"}  # fmt: skip
        which = "; ".join(
            f"'{titles[name]}' {_duration(ms)}, in GPO {_label(source)}"
            for name, (ms, source) in timers.items()
        )
        found.append(
            _Finding(
                id=check_id("gpo.scan.<guid>.end_session_at_limit", guid=gpo.guid), gpo=gpo,
                title=f"GPO {_label(gpo)}, linked at {at}, ends sessions that reach a time limit instead of "
                f"disconnecting them: users are logged off and their open applications closed (limit: {which})",
                facts={**base(gpo), "policy": "End session when time limits are reached",
                       "value": f"{req.RDS_POLICY_KEY}\\{req.RDS_END_AT_LIMIT}",
                       "limits": {name: {"milliseconds": ms, "gpo": source.display_name or source.guid}
                                  for name, (ms, source) in timers.items()}},
                remedy=(
                    f"{_LOGOFF_WARNING} In GPO {_label(gpo)} set 'End session when time limits are reached' "
                    f"({SESSION_LIMITS_PATH}) to Not Configured or Disabled, so that a session reaching a limit is "
                    f"disconnected and can be resumed; or remove the limits ({which}); or {_keep_away(at, target)}."
                ),
            )
        )  # fmt: skip
    return found


# -- the scan ---------------------------------------------------------------------------------


def _all_links(facts: ScopeFacts) -> list[AppliedLink]:
    links = list(facts.links)
    for scope in facts.sites:
        links.extend(link for link in scope.links if link not in links)
    return links


def check_gpo_scan(facts: ScopeFacts) -> list[CheckResult]:
    """One result per finding, an error per GPO that could not be read, or one pass when clean."""
    results: list[CheckResult] = []
    all_links = _all_links(facts)
    by_dn = {g.dn.casefold(): g for g in facts.gpos}
    scanned: list[FactValue] = []
    seen: set[str] = set()
    linked_at: dict[str, list[str]] = {}
    for link in all_links:
        gpo = by_dn.get(link.gpo_dn.casefold())
        if gpo is None:
            gpo = next((g for g in facts.gpos if dn_equal(g.dn, link.gpo_dn)), None)
        if gpo is None or gpo.dn.casefold() in seen:
            continue
        seen.add(gpo.dn.casefold())
        links = list(dict.fromkeys(lk.container_dn for lk in all_links if dn_equal(lk.gpo_dn, gpo.dn)))
        where = ", ".join(_container_label(c) for c in links)
        linked_at[gpo.dn.casefold()] = links
        scanned.append(gpo.display_name or gpo.guid)
        base_facts: dict[str, FactValue] = {
            "gpo": gpo.display_name, "guid": gpo.guid, "gpo_dn": gpo.dn, "linked_at": list(links),
        }  # fmt: skip
        if not gpo.exists:
            results.append(
                CheckResult(
                    id=check_id("gpo.scan.<guid>.missing", guid=gpo.guid), status=Status.WARN,
                    title=f"A link on {where} points at a GPO that does not exist ({gpo.guid})",
                    facts=base_facts, target=facts.ou_dn,
                    remedy=f"Remove the stale link from {where} in the Group Policy Management Console "
                    f"(or: adprep gpo unlink {gpo.guid} ...).",
                )
            )  # fmt: skip
            continue
        if gpo.error is not None:
            results.append(
                CheckResult(
                    id=check_id("gpo.scan.<guid>.unreadable", guid=gpo.guid), status=Status.ERROR,
                    title=f"GPO {_label(gpo)} could not be read: {gpo.error}", facts=base_facts,
                    target=facts.ou_dn, remedy="Check SYSVOL access for the account adprep uses, then run again.",
                    reason=gpo.error_reason or ErrorReason.UNREACHABLE,
                )
            )  # fmt: skip
            continue
        if (gpo.flags or 0) & GPO_MACHINE_DISABLED:
            continue  # its computer settings, the banner among them, are not applied
        banners = _banner_from_pol(gpo.registry_pol or ()) + _banner_from_template(
            gpo.security_template or ""
        )
        if banners:
            sources = sorted({b.source for b in banners})
            values = sorted({b.value for b in banners})
            results.append(
                CheckResult(
                    id=check_id("gpo.scan.<guid>.logon_banner", guid=gpo.guid), status=Status.FAIL,
                    title=f"GPO {_label(gpo)}, linked at {where}, sets an interactive logon banner",
                    facts={**base_facts, "values": list(values), "sources": list(sources),
                           "text": [b.text[:200] for b in banners]},
                    target=facts.ou_dn,
                    remedy=(
                        f"WorkSpaces cannot log users on while a logon banner waits for a click ({_GUIDE}). In GPO "
                        f"{_label(gpo)} set 'Interactive logon: Message title/text for users attempting to log on' "
                        "(Computer Configuration > Policies > Windows Settings > Security Settings > Local Policies > "
                        f"Security Options) to not defined, or keep the GPO from the WorkSpaces: "
                        f"{_keep_away(where, facts.ou_dn)}."
                    ),
                )
            )  # fmt: skip
    results.extend(_scope_findings(facts, linked_at))
    if not any(r.status in (Status.FAIL, Status.WARN, Status.ERROR) for r in results):
        sites = [scope.site for scope in facts.sites]
        reach = f" (and through site{'s' if len(sites) != 1 else ''} {', '.join(sites)})" if sites else ""
        results.append(
            CheckResult(
                id=check_id("gpo.scan.clean"), status=Status.PASS,
                title=f"No setting known to break WorkSpaces in the {len(scanned)} GPO(s) that reach "
                f"{facts.ou_dn}{reach}",
                facts={"ou": facts.ou_dn, "container_source": facts.container_source, "gpos": scanned,
                       "sites": sites},
                target=facts.ou_dn,
            )
        )  # fmt: skip
    return results


def _scope_findings(facts: ScopeFacts, linked_at: dict[str, list[str]]) -> list[CheckResult]:
    """Findings judged on the winning values, once per site scope; merged, naming the sites they hold for."""
    scopes: list[tuple[str | None, tuple[AppliedLink, ...]]] = [(None, facts.links)]
    scopes.extend((scope.site, scope.links) for scope in facts.sites)
    firsts: dict[str, _Finding] = {}
    holds: dict[str, list[str | None]] = {}
    for site, links in scopes:
        for finding in _limit_findings(links, facts.gpos, linked_at, facts.ou_dn):
            firsts.setdefault(finding.id, finding)
            holds.setdefault(finding.id, []).append(site)
    results: list[CheckResult] = []
    for finding_id, finding in firsts.items():
        title, found_facts = finding.title, dict(finding.facts)
        where = holds[finding_id]
        if None not in where:
            names = [s for s in where if s is not None]
            title += f" (for computers in site{'s' if len(names) != 1 else ''} {', '.join(names)})"
            found_facts["sites"] = names
        else:
            spared = [s for s, _ in scopes if s is not None and s not in where]
            if spared:
                found_facts["not_in_sites"] = spared
        results.append(
            CheckResult(
                id=finding.id, status=Status.WARN, title=title, facts=found_facts, remedy=finding.remedy,
                target=facts.ou_dn,
            )
        )  # fmt: skip
    return results
