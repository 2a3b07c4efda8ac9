"""``adprep group create``: a security group (Global by default) with members, as plan → apply.

Inputs are checked before any password is asked for (the name, the OU); then the group is looked
up by its sAMAccountName anywhere in the domain, the members are resolved (each must exist), and
:func:`adprep.prep.groups.plan_group` says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adprep.ad.names import casefolded, validate_group_name
from adprep.collect.ldap_objects import find_by_sam, resolve_member_dns
from adprep.errors import InputError
from adprep.jobs.delegate import container_dn
from adprep.prep.groups import ExistingGroup, GroupScope, GroupSpec, plan_group
from adprep.prep.ldap_apply import ldap_appliers
from adprep.prep.plan import ApplyResult, Outcome, Plan, apply_plan
from adprep.transport.ldap import LdapSession
from adprep.transport.ldap_settings import DirectorySettings


@dataclass(frozen=True)
class GroupCreateRequest:
    """What was asked, validated without the network."""

    name: str
    container_dn: str
    scope: GroupScope
    members: tuple[str, ...]
    """Names (sAMAccountName) or DNs, as given."""
    description: str | None = None


def group_create_request(
    base_dn: str,
    *,
    name: str,
    ou: str | None,
    scope: GroupScope,
    members: Sequence[str],
    description: str | None = None,
) -> GroupCreateRequest:
    """Check ``group create``'s inputs (name, OU, scope, members) before any traffic."""
    return GroupCreateRequest(
        name=validate_group_name(name.strip()),
        container_dn=container_dn(ou, base_dn, default=f"CN=Users,{base_dn}", what="--ou"),
        scope=scope,
        members=tuple(m.strip() for m in members if m.strip()),
        description=description or None,
    )


def plan_group_create(
    session: LdapSession, directory: DirectorySettings, request: GroupCreateRequest
) -> Plan:
    """Look the group and its members up, then plan: create it, or add the members it lacks."""
    base = directory.base_dn
    hits = find_by_sam(session, base, [request.name], ("member", "groupType", "objectClass"))
    entry = hits.get(request.name.casefold())
    existing: ExistingGroup | None = None
    if entry is not None:
        if "group" not in {str(c).casefold() for c in entry.all("objectClass")}:
            raise InputError(
                f"{request.name} exists at {entry.dn} but is not a group",
                hint="Choose another group name: a sAMAccountName is unique in the domain.",
            )
        kind = entry.first("groupType")
        existing = ExistingGroup(
            entry.dn, casefolded(entry.all("member")), int(str(kind)) if kind is not None else None
        )
    elif not session.exists(request.container_dn):
        raise InputError(
            f"The OU {request.container_dn} does not exist",
            hint="Create it first (adprep ou create), or give another --ou.",
        )
    members = resolve_member_dns(session, base, request.members)
    spec = GroupSpec(request.name, request.container_dn, request.scope, members, request.description)
    return plan_group(spec, existing)


def apply_group_create(
    session: LdapSession, plan: Plan, *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """Apply a ``group create`` plan through ``session``."""
    return apply_plan(plan, ldap_appliers(session), on_done=on_done)
