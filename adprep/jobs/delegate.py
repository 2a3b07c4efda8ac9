"""``adprep delegate``: the delegation group, its members and a preset's ACEs (Amazon WorkSpaces
Administration Guide (2016), Delegating Connect Privileges; the AWS Directory Service Administration
Guide's delegation on an OU)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adprep.ad.delegation import DelegationPreset, preset
from adprep.ad.dn import dn_equal, is_descendant, ou_path_to_dn, parse_dn
from adprep.ad.names import casefolded, validate_group_name
from adprep.collect.ldap_objects import find_by_sam, resolve_member_dns
from adprep.errors import InputError
from adprep.prep.delegation import DelegationSpec, ObservedDelegation, ObservedGroup, plan_delegation
from adprep.prep.ldap_apply import entry_sid, ldap_appliers, read_security_descriptor
from adprep.prep.plan import ApplyResult, Outcome, Plan, apply_plan
from adprep.requirements import DELEGATION_GROUP
from adprep.transport.ldap import LdapSession
from adprep.transport.ldap_settings import DirectorySettings


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
    """Check ``delegate``'s inputs (the preset, the group, the OU) before any traffic."""
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
    validate_group_name(name)
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
    return resolve_member_dns(session, settings.directory.base_dn, settings.members)


def plan_delegate(session: LdapSession, settings: DelegateSettings) -> Plan:
    """Look the group, its members and the target's DACL up, then plan the delegation."""
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
    """Apply a ``delegate`` plan through ``session``."""
    return apply_plan(plan, ldap_appliers(session), on_done=on_done)
