"""The delegation presets adprep can apply, as pure ACE builders, and the diff against a DACL.

Owns "which ACEs does granting AD Connector's service account group its rights mean". Writing them
is :mod:`adprep.prep`'s job; this module only says what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from adprep.ad.security_descriptor import (
    GENERIC_READ_DS,
    AccessMask,
    Ace,
    AceFlag,
    SecurityDescriptor,
)
from adprep.errors import InputError
from adprep.requirements import SCHEMA_GUID_COMPUTER, SCHEMA_GUID_USER

Scope = Literal["domain-root", "ou"]

_CI = int(AceFlag.CONTAINER_INHERIT)
_CI_IO = int(AceFlag.CONTAINER_INHERIT | AceFlag.INHERIT_ONLY)


@dataclass(frozen=True)
class DelegationPreset:
    """A named set of ACEs to put on one object for a group's SID."""

    name: str
    description: str
    aces: Callable[[str], tuple[Ace, ...]]
    """The ACEs for a trustee SID."""
    scope: Scope
    """Where the ACEs go: the domain's root object, or an OU."""


def workspaces_2016_aces(sid: str) -> tuple[Ace, ...]:
    """The two Delegation Wizard tasks of the Amazon WorkSpaces Administration Guide (2016), "Delegating
    Connect Privileges", on the domain root.

    "Read all user information" (delegwiz.inf): ReadProperty on all properties of descendant user
    objects. "Join a computer to the domain" (delegwiz.inf): CreateChild of computer objects on this
    container and every container below it. The Wizard's join task grants nothing on the computer
    objects themselves, and needs none: the account that creates a computer becomes its owner, and
    the computer class's defaultSecurityDescriptor grants CREATOR OWNER (CO) what a join needs:
    ``(A;;RPCRLCLORCSDDT;;;CO)`` (read, control access such as Reset Password, delete), validated
    writes (SW) to dNSHostName (72e39547-...) and servicePrincipalName (f3a64788-...), and WP on
    sAMAccountName, displayName, description and account restrictions (read from the lab DC's
    schema, which Samba takes from Windows'). So adprep adds no further ACEs.
    """
    return (
        Ace("allow", sid, AccessMask.READ_PROPERTY, _CI_IO, None, SCHEMA_GUID_USER),
        Ace("allow", sid, AccessMask.CREATE_CHILD, _CI, SCHEMA_GUID_COMPUTER, None),
    )


def ad_connector_ou_aces(sid: str, *, write: bool = True) -> tuple[Ace, ...]:
    """The AWS Directory Service Administration Guide's custom Wizard task on an OU (Delegate privileges to
    your service account), for computer and user objects.

    "Create/Delete selected objects in this folder": CreateChild|DeleteChild with ObjectType
    computer, and the same for user (CONTAINER_INHERIT, so sub-OUs are covered too).
    "Read": GenericRead, stored by AD as 0x20094 (ReadControl|ListChildren|ReadProperty|ListObject),
    on descendant computer and user objects (InheritedObjectType, CI|IO).
    "Write" (``write=True``): WriteProperty on all properties of descendant computer objects, which
    WorkSpaces and Seamless Domain Join need to set dNSHostName, servicePrincipalName and the like
    after creating the computer. adprep grants WriteProperty alone rather than GenericWrite
    (0x20028, which adds ReadControl, already in Read, and Self, the validated writes that
    WriteProperty on all properties already covers), and does not grant Write on users: AD
    Connector never modifies user objects.
    """
    aces = [
        Ace("allow", sid, AccessMask.CREATE_CHILD | AccessMask.DELETE_CHILD, _CI, SCHEMA_GUID_COMPUTER, None),
        Ace("allow", sid, AccessMask.CREATE_CHILD | AccessMask.DELETE_CHILD, _CI, SCHEMA_GUID_USER, None),
        Ace("allow", sid, GENERIC_READ_DS, _CI_IO, None, SCHEMA_GUID_COMPUTER),
        Ace("allow", sid, GENERIC_READ_DS, _CI_IO, None, SCHEMA_GUID_USER),
    ]
    if write:
        aces.append(Ace("allow", sid, AccessMask.WRITE_PROPERTY, _CI_IO, None, SCHEMA_GUID_COMPUTER))
    return tuple(aces)


WORKSPACES_2016 = DelegationPreset(
    name="workspaces-2016",
    description="Amazon WorkSpaces Administration Guide (2016), Delegating Connect Privileges: read all user "
    "information and join computers to the domain, on the domain root.",
    aces=workspaces_2016_aces,
    scope="domain-root",
)


def ad_connector_ou(*, write: bool = True) -> DelegationPreset:
    """The AWS Directory Service Administration Guide's delegation on an OU; ``write=False`` leaves out
    Write on computers."""
    return DelegationPreset(
        name="ad-connector-ou",
        description="AWS Directory Service Administration Guide, Delegate privileges to your service account: "
        "create, delete and read computer and user objects in an OU"
        + (", and write computer objects." if write else "."),
        aces=lambda sid: ad_connector_ou_aces(sid, write=write),
        scope="ou",
    )


PRESET_NAMES = ("workspaces-2016", "ad-connector-ou")


def preset(name: str, *, write: bool = True) -> DelegationPreset:
    """A preset by name (``write`` applies to ``ad-connector-ou`` only)."""
    if name == WORKSPACES_2016.name:
        return WORKSPACES_2016
    if name == "ad-connector-ou":
        return ad_connector_ou(write=write)
    raise InputError(
        f"There is no delegation preset {name!r}", hint=f"Choose one of: {', '.join(PRESET_NAMES)}."
    )


def diff_aces(existing: SecurityDescriptor, wanted: Iterable[Ace]) -> tuple[Ace, ...]:
    """The ACEs of ``wanted`` not in ``existing``'s DACL (exact match; inherited copies do not count)."""
    have = set(existing.dacl)
    missing: list[Ace] = []
    for ace in wanted:
        if ace not in have and ace not in missing:
            missing.append(ace)
    return tuple(missing)
