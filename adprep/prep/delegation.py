"""Delegation as a plan: the group, its members and a preset's ACEs (desired) and what the
directory holds (observed) → changes.

Amazon WorkSpaces Administration Guide (2016), "Delegating Connect Privileges", and the AWS Directory
Service Administration Guide's delegation on an OU:
a Global Security group (default ``WorkSpaces_Connectors`` in ``CN=Users``), members added, and the
preset's ACEs added to the target's DACL, only the missing ones, in canonical order, never dropping
or reordering an existing ACE (:func:`adprep.ad.security_descriptor.encode_with_added_aces`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adprep.ad.delegation import DelegationPreset, diff_aces
from adprep.ad.dn import rdn
from adprep.ad.security_descriptor import parse_security_descriptor
from adprep.prep.groups import ExistingGroup, GroupSpec, plan_group
from adprep.prep.ldap_writes import ACTION_ADD_ACES, AddAces
from adprep.prep.plan import Change, Plan

#: Shown in a plan in place of the SID of a group that does not exist yet.
NEW_GROUP_SID = "S-1-5-21-0-0-0-0"


@dataclass(frozen=True)
class DelegationSpec:
    group_name: str
    group_container_dn: str
    preset: DelegationPreset
    target_dn: str
    """Where the ACEs go: the domain root, or an OU."""
    members: tuple[str, ...] = ()
    """Member DNs (resolved from names before planning)."""
    description: str = "AWS AD Connector / WorkSpaces delegation (adprep)"

    @property
    def group_dn(self) -> str:
        return f"{rdn('CN', self.group_name)},{self.group_container_dn}"


@dataclass(frozen=True)
class ObservedGroup:
    dn: str
    sid: str
    members: frozenset[str] = field(default_factory=frozenset)
    """Casefolded member DNs."""


@dataclass(frozen=True)
class ObservedDelegation:
    group: ObservedGroup | None
    target_sd: bytes
    """The target's nTSecurityDescriptor as read with the SD flags control set to DACL (4)."""


def plan_delegation(spec: DelegationSpec, observed: ObservedDelegation) -> Plan:
    """The changes that make the group (with its members) and its ACEs on each target as ``spec`` wants."""
    found = observed.group
    group = plan_group(
        GroupSpec(spec.group_name, spec.group_container_dn, "global", spec.members, spec.description),
        ExistingGroup(found.dn, found.members) if found is not None else None,
        command="delegate",
    )
    changes = list(group.changes)
    in_place = list(group.in_place)
    group_create = tuple(c.id for c in group.changes if c.id.startswith("group.create:"))
    group_dn = found.dn if found is not None else spec.group_dn
    sid = found.sid if found is not None else NEW_GROUP_SID
    wanted = spec.preset.aces(sid)
    missing = (
        wanted if observed.group is None else diff_aces(parse_security_descriptor(observed.target_sd), wanted)
    )
    if missing:
        changes.append(
            Change(
                id=f"acl.add-aces:{spec.target_dn}",
                action=ACTION_ADD_ACES,
                target=spec.target_dn,
                summary=f"add {len(missing)} ACE(s) of preset {spec.preset.name} for {spec.group_name} on {spec.target_dn}",
                details={
                    "preset": spec.preset.name,
                    "trustee": group_dn,
                    "aces": [a.to_sddl() for a in missing],
                },
                depends_on=group_create,
                payload=AddAces(spec.target_dn, group_dn, spec.preset),
            )
        )
    else:
        in_place.append(f"the {len(wanted)} ACEs of preset {spec.preset.name} are on {spec.target_dn}")
    return Plan("delegate", tuple(changes), tuple(in_place))
