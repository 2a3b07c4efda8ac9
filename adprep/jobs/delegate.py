"""``adprep delegate``: the delegation group, its members and a preset's ACEs (REQUIREMENTS.md §4)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adprep.ad.delegation import DelegationPreset, preset
from adprep.ad.dn import dn_equal, is_descendant, ou_path_to_dn, parse_dn
from adprep.ad.names import SAM_FORBIDDEN
from adprep.errors import InputError
from adprep.jobs.directory_session import DirectorySettings
from adprep.jobs.ldap_apply import casefolded, entry_sid, find_by_sam, ldap_appliers, read_security_descriptor
from adprep.prep.delegation import DelegationSpec, ObservedDelegation, ObservedGroup, plan_delegation
from adprep.prep.plan import ApplyResult, Outcome, Plan, apply_plan
from adprep.requirements import DELEGATION_GROUP
from adprep.transport.ldap import LdapSession


@dataclass(frozen=True)
class DelegateSettings:
    directory: DirectorySettings
    group_name: str
    group_container_dn: str
    preset: DelegationPreset
    target_dn: str
    members: tuple[str, ...]
    """Names (sAMAccountName) or DNs, as given."""


def container_dn(text: str | None, base_dn: str, *, default: str, what: str) -> str:
    """An OU path (top-down, ``A/B``), a DN inside the domain, or ``default`` when not given."""
    if not text:
        return default
    if "=" in text:
        parse_dn(text)
        if not is_descendant(text, base_dn):
            raise InputError(f"{what} {text!r} is not inside the domain {base_dn}")
        return text
    return ou_path_to_dn(text, base_dn)


def delegate_settings(
    directory: DirectorySettings,
    *,
    preset_name: str,
    group: str | None,
    group_container: str | None,
    ou: str | None,
    write: bool,
    members: Sequence[str],
) -> DelegateSettings:
    base = directory.base_dn
    chosen = preset(preset_name, write=write)
    if chosen.scope == "ou" and not ou:
        raise InputError(
            f"The preset {chosen.name} delegates on an OU, and no --ou was given",
            hint="Pass --ou with the OU path (such as WorkSpaces) or its DN.",
        )
    target = container_dn(ou, base, default=base, what="--ou")
    if chosen.scope == "ou" and dn_equal(target, base):
        raise InputError(f"The preset {chosen.name} is for an OU, not the domain root")
    name = group or DELEGATION_GROUP
    # A group's sAMAccountName may be longer than a user's 20 characters, with the same forbidden set.
    if not name.strip() or len(name) > 256 or any(c in SAM_FORBIDDEN or ord(c) < 0x20 for c in name):
        raise InputError(
            f"The group name {name!r} is not one Active Directory accepts",
            hint='Use 1-256 characters, none of " / \\ [ ] : ; | = , + * ? < > @.',
        )
    return DelegateSettings(
        directory=directory,
        group_name=name,
        group_container_dn=container_dn(
            group_container, base, default=f"CN=Users,{base}", what="--group-container"
        ),
        preset=chosen,
        target_dn=target,
        members=tuple(m.strip() for m in members if m.strip()),
    )


def resolve_members(session: LdapSession, settings: DelegateSettings) -> tuple[str, ...]:
    """Member DNs; every name must exist (an :class:`InputError` names those that do not)."""
    base = settings.directory.base_dn
    dns = [m for m in settings.members if "=" in m]
    names = [m for m in settings.members if "=" not in m]
    found = find_by_sam(session, base, names, ())
    missing = [n for n in names if n.casefold() not in found] + [d for d in dns if not session.exists(d)]
    if missing:
        raise InputError(
            f"No such member in {base}: {', '.join(missing)}",
            hint="Create the account first (adprep account create), or check the name.",
        )
    by_name = {n: found[n.casefold()].dn for n in names}
    return tuple(dict.fromkeys(by_name.get(m, m) for m in settings.members))


def plan_delegate(session: LdapSession, settings: DelegateSettings) -> Plan:
    base = settings.directory.base_dn
    members = resolve_members(session, settings)
    hits = find_by_sam(session, base, [settings.group_name], ("objectSid", "member", "objectClass"))
    entry = hits.get(settings.group_name.casefold())
    group: ObservedGroup | None = None
    if entry is not None:
        if "group" not in {str(c).casefold() for c in entry.all("objectClass")}:
            raise InputError(
                f"{settings.group_name} exists at {entry.dn} but is not a group",
                hint="Choose another --group name.",
            )
        group = ObservedGroup(entry.dn, entry_sid(entry), casefolded(entry.all("member")))
    spec = DelegationSpec(
        group_name=settings.group_name,
        group_container_dn=settings.group_container_dn,
        preset=settings.preset,
        target_dn=settings.target_dn,
        members=members,
    )
    return plan_delegation(
        spec, ObservedDelegation(group, read_security_descriptor(session, settings.target_dn))
    )


def apply_delegate(
    session: LdapSession, plan: Plan, *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    return apply_plan(plan, ldap_appliers(session), on_done=on_done)
