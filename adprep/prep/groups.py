"""Groups as a plan: the group wanted (name, where, scope, members) and what the directory holds →
changes. ``adprep group create`` and ``adprep delegate`` plan their group here.

- A group is identified by its sAMAccountName, unique in the domain; a new one is
  ``CN=<name>,<container>``, created in one add with its ``groupType``.
- ``groupType`` (MS-ADTS 2.2.12): the scope flag (GLOBAL 0x2, DOMAIN_LOCAL 0x4, UNIVERSAL 0x8) with
  SECURITY_ENABLED (0x80000000), stored as a signed 32-bit integer. Global Security is the default,
  as the Amazon WorkSpaces Administration Guide (2016), "Delegating Connect Privileges", asks.
- An existing group is never moved or converted: a group found elsewhere is used where it is (the
  plan says where), and one of another scope is a warning, since converting a scope has
  conditions Active Directory checks (MS-ADTS 3.1.1.5.2.4.1) that a plan should not guess.
- Missing members are added in one modify that depends on the create, if there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from adprep.ad.dn import rdn
from adprep.prep.ldap_writes import ACTION_ADD, ACTION_ADD_MEMBERS, GROUP_CLASSES, AddEntry, AddMembers
from adprep.prep.plan import Change, Plan

GroupScope = Literal["global", "domainlocal", "universal"]
GROUP_SCOPES: tuple[GroupScope, ...] = ("global", "domainlocal", "universal")
#: MS-ADTS 2.2.12: GROUP_TYPE_ACCOUNT_GROUP, GROUP_TYPE_RESOURCE_GROUP, GROUP_TYPE_UNIVERSAL_GROUP.
SCOPE_FLAGS: dict[GroupScope, int] = {"global": 0x2, "domainlocal": 0x4, "universal": 0x8}
SECURITY_ENABLED = 0x80000000
_SCOPE_NAMES: dict[GroupScope, str] = {
    "global": "Global",
    "domainlocal": "Domain Local",
    "universal": "Universal",
}


def group_type(scope: GroupScope) -> int:
    """The ``groupType`` of a security group of ``scope``, as the signed 32-bit integer AD stores."""
    value = SCOPE_FLAGS[scope] | SECURITY_ENABLED
    return value - (1 << 32) if value & 0x80000000 else value


def describe_group_type(value: int) -> str:
    """``-2147483646`` -> ``Global Security``; unknown combinations as the number."""
    unsigned = value & 0xFFFFFFFF
    kind = "Security" if unsigned & SECURITY_ENABLED else "Distribution"
    scopes = [_SCOPE_NAMES[s] for s, flag in SCOPE_FLAGS.items() if unsigned & flag]
    return f"{scopes[0]} {kind}" if len(scopes) == 1 else f"groupType {value}"


@dataclass(frozen=True)
class GroupSpec:
    name: str
    container_dn: str
    scope: GroupScope = "global"
    members: tuple[str, ...] = ()
    """Member DNs (resolved from names before planning)."""
    description: str | None = None

    @property
    def dn(self) -> str:
        return f"{rdn('CN', self.name)},{self.container_dn}"


@dataclass(frozen=True)
class ExistingGroup:
    dn: str
    members: frozenset[str] = field(default_factory=frozenset)
    """Casefolded member DNs."""
    group_type: int | None = None


def plan_group(spec: GroupSpec, existing: ExistingGroup | None, *, command: str = "group create") -> Plan:
    """Create the group if it is missing, and add the members it lacks."""
    changes: list[Change] = []
    in_place: list[str] = []
    warnings: list[str] = []
    wanted = group_type(spec.scope)
    create: tuple[str, ...] = ()
    if existing is None:
        dn = spec.dn
        attributes: dict[str, str | int | list[str]] = {"sAMAccountName": spec.name, "groupType": wanted}
        if spec.description:
            attributes["description"] = spec.description
        create = (f"group.create:{dn}",)
        changes.append(
            Change(
                id=create[0],
                action=ACTION_ADD,
                target=dn,
                summary=f"create {describe_group_type(wanted)} group {spec.name} in {spec.container_dn}",
                details={"sAMAccountName": spec.name, "groupType": wanted},
                payload=AddEntry(dn, GROUP_CLASSES, attributes),
            )
        )
        members_now: frozenset[str] = frozenset()
    else:
        dn = existing.dn
        members_now = existing.members
        in_place.append(f"group {spec.name} exists at {dn}")
        if existing.group_type is not None and existing.group_type != wanted:
            warnings.append(
                f"group {spec.name} is a {describe_group_type(existing.group_type)} group, not "
                f"{describe_group_type(wanted)}; its type is left as it is"
            )
    missing = tuple(m for m in spec.members if m.casefold() not in members_now)
    in_place.extend(f"{m} is a member of {dn}" for m in spec.members if m not in missing)
    if missing:
        changes.append(
            Change(
                id=f"group.add-members:{dn}",
                action=ACTION_ADD_MEMBERS,
                target=dn,
                summary=f"add {len(missing)} member(s) to {dn}",
                details={"members": list(missing)},
                depends_on=create,
                payload=AddMembers(dn, missing),
            )
        )
    return Plan(command, tuple(changes), tuple(in_place), tuple(warnings))
