"""Verdicts on the GPOs that reach the WorkSpaces OU: settings known to break WorkSpaces.

Pure: facts in (:class:`ScopeFacts`, gathered by ``adprep.jobs.gpo.scan_gpos``), check results out.

Which GPOs reach an OU follows MS-GPOL 3.2.5.1.3 (and GPMC's "Group Policy Inheritance"): the links
of the domain and of every OU down to the target, skipping disabled links; an OU with "block
inheritance" (``gPOptions`` = 1) stops the links above it, except enforced ones. A GPO whose computer
half is disabled (``flags`` bit 2) applies no computer settings.

Findings (seed 001, REQUIREMENTS §5):

* ``logon_banner``: an interactive logon banner (``LegalNoticeCaption``/``LegalNoticeText`` under
  ``HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System``) stops WorkSpaces from
  working, since the WorkSpace cannot log the user on while the banner waits for a click. It is
  found in the GPO's Machine/Registry.pol (Administrative Templates or a registry preference
  written as policy) and in its security template (``Machine\\Microsoft\\Windows NT\\SecEdit\\GptTmpl.inf``,
  ``[Registry Values]``), which is where "Interactive logon: Message title/text for users attempting
  to log on" (Security Options) stores it. An empty banner shows nothing and is not a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from adprep import requirements as req
from adprep.ad.dn import dn_equal
from adprep.ad.gplink import parse_gplink
from adprep.collect.gpo import LinkContainer
from adprep.errors import WireFormatError
from adprep.gpo.registry_pol import PolEntry
from adprep.model import CheckResult, FactValue, Status

#: MS-GPOL 2.2.2 flags: the computer half of the GPO is disabled.
GPO_MACHINE_DISABLED = 0x2
SECURITY_TEMPLATE = "Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf"


@dataclass(frozen=True)
class AppliedLink:
    """A GPO that reaches the OU, through which link."""

    gpo_dn: str
    container_dn: str
    enforced: bool


@dataclass(frozen=True)
class ScannedGpo:
    """What was read of one GPO that reaches the OU."""

    dn: str
    guid: str
    display_name: str | None
    flags: int = 0
    registry_pol: tuple[PolEntry, ...] | None = None
    """Machine/Registry.pol entries; None when the GPO has no such file."""
    security_template: str | None = None
    """GptTmpl.inf text; None when the GPO has none."""
    exists: bool = True
    """False: a link points at a GPO that is not in LDAP."""
    error: str | None = None
    """Why the GPO could not be read (SYSVOL unreachable, a malformed file)."""


@dataclass(frozen=True)
class ScopeFacts:
    ou_dn: str
    links: tuple[AppliedLink, ...]
    gpos: tuple[ScannedGpo, ...] = field(default_factory=tuple)


def applied_links(chain: Sequence[LinkContainer]) -> tuple[AppliedLink, ...]:
    """The enabled links that reach the last container of ``chain`` (domain first, target OU last)."""
    result: list[AppliedLink] = []
    for depth, container in enumerate(chain):
        blocked_below = any(c.block_inheritance for c in chain[depth + 1 :])
        for link in parse_gplink(container.gplink):
            if not link.enabled:
                continue
            if blocked_below and not link.enforced:
                continue
            result.append(AppliedLink(link.dn, container.dn, link.enforced))
    return tuple(result)


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


def _label(gpo: ScannedGpo) -> str:
    return f"{gpo.display_name!r} {gpo.guid}" if gpo.display_name else gpo.guid


def check_gpo_scan(facts: ScopeFacts) -> list[CheckResult]:
    """One result per finding, an error per GPO that could not be read, or one pass when clean."""
    results: list[CheckResult] = []
    by_dn = {g.dn.casefold(): g for g in facts.gpos}
    scanned: list[FactValue] = []
    seen: set[str] = set()
    for link in facts.links:
        gpo = by_dn.get(link.gpo_dn.casefold())
        if gpo is None:
            gpo = next((g for g in facts.gpos if dn_equal(g.dn, link.gpo_dn)), None)
        if gpo is None or gpo.dn.casefold() in seen:
            continue
        seen.add(gpo.dn.casefold())
        links = [lk.container_dn for lk in facts.links if dn_equal(lk.gpo_dn, gpo.dn)]
        where = ", ".join(links)
        scanned.append(gpo.display_name or gpo.guid)
        base_facts: dict[str, FactValue] = {
            "gpo": gpo.display_name, "guid": gpo.guid, "gpo_dn": gpo.dn, "linked_at": list(links),
        }  # fmt: skip
        if not gpo.exists:
            results.append(
                CheckResult(
                    id=f"gpo.scan.{gpo.guid}.missing", status=Status.WARN,
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
                    id=f"gpo.scan.{gpo.guid}.unreadable", status=Status.ERROR,
                    title=f"GPO {_label(gpo)} could not be read: {gpo.error}", facts=base_facts,
                    target=facts.ou_dn, remedy="Check SYSVOL access for the account adprep uses, then run again.",
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
                    id=f"gpo.scan.{gpo.guid}.logon_banner", status=Status.FAIL,
                    title=f"GPO {_label(gpo)}, linked at {where}, sets an interactive logon banner",
                    facts={**base_facts, "values": list(values), "sources": list(sources),
                           "text": [b.text[:200] for b in banners]},
                    target=facts.ou_dn,
                    remedy=(
                        f"WorkSpaces cannot log users on while a logon banner waits for a click. In GPO "
                        f"{_label(gpo)} set 'Interactive logon: Message title/text for users attempting to log on' "
                        "(Computer Configuration > Policies > Windows Settings > Security Settings > Local Policies > "
                        f"Security Options) to not defined, or keep the GPO from the WorkSpaces OU: unlink it from "
                        f"{where} or block inheritance on the WorkSpaces OU if the link is not enforced."
                    ),
                )
            )  # fmt: skip
    if not any(r.status in (Status.FAIL, Status.WARN, Status.ERROR) for r in results):
        results.append(
            CheckResult(
                id="gpo.scan.clean", status=Status.PASS,
                title=f"No setting known to break WorkSpaces in the {len(scanned)} GPO(s) that reach {facts.ou_dn}",
                facts={"ou": facts.ou_dn, "gpos": scanned}, target=facts.ou_dn,
            )
        )  # fmt: skip
    return results
