"""The payloads of directory write changes: what an applier sends, as pure data.

Plans (:mod:`adprep.prep.ou`, :mod:`~adprep.prep.users`, :mod:`~adprep.prep.account`,
:mod:`~adprep.prep.delegation`) put these in :attr:`adprep.prep.plan.Change.payload`; the appliers in
:mod:`adprep.prep.ldap_apply` send them, chosen by payload type. A password stays a
:class:`~adprep.secret.Secret` until the applier encodes it, so a plan can be shown, logged or rendered
as JSON without leaking it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from adprep.ad.delegation import DelegationPreset
from adprep.secret import Secret

#: Change.action names, one applier each.
ACTION_ADD = "ldap.add"
ACTION_MODIFY = "ldap.modify"
ACTION_ADD_MEMBERS = "ldap.add_members"
ACTION_ADD_ACES = "acl.add_aces"
ACTION_MOVE = "ldap.move"

#: MS-ADTS 2.2.12 (groupType): GLOBAL_GROUP (0x2) | SECURITY_ENABLED (0x80000000), as the signed
#: 32-bit integer AD stores.
GROUP_TYPE_GLOBAL_SECURITY = -2147483646
USER_CLASSES = ("top", "person", "organizationalPerson", "user")
GROUP_CLASSES = ("top", "group")
OU_CLASSES = ("top", "organizationalUnit")


@dataclass(frozen=True)
class AddEntry:
    """Create one object. With ``password``, ``unicodePwd`` goes in the same add (AD accepts it over
    TLS, MS-ADTS 3.1.1.3.1.5.2), so the object never exists without its password: a run killed
    half-way leaves either nothing or a complete, enabled account."""

    dn: str
    object_class: tuple[str, ...]
    attributes: Mapping[str, str | int | list[str]]
    password: Secret | None = field(default=None, repr=False)
    on_exists: Callable[[], None] | None = field(default=None, compare=False, repr=False)
    """Runs when the add finds the object already there, created by someone else since the plan was
    made (entryAlreadyExists on the same DN, same class and sAMAccountName): the change counts as
    applied, as a re-run would plan nothing for it. Used to withdraw a generated password that was
    saved for the add (:mod:`adprep.prep.passwords`) but never set; it may raise to make the change fail
    instead."""


@dataclass(frozen=True)
class ModifyEntry:
    """Replace or add attribute values on one object."""

    dn: str
    changes: Mapping[str, list[tuple[str, list[str | int]]]]
    """attribute -> [("add" | "replace" | "delete", values), ...], applied in one modify (so a
    delete-old/add-new pair fails as a whole when the old value changed meanwhile)."""
    password: Secret | None = field(default=None, repr=False)
    """A new ``unicodePwd``, sent in its own modify before the other changes."""


@dataclass(frozen=True)
class MoveEntry:
    """Move one object under ``new_parent``, keeping its RDN (``rdn``, as :func:`adprep.ad.dn.rdn`
    writes it). A ModifyDN: the object keeps its GUID, SID, password and group memberships."""

    dn: str
    rdn: str
    new_parent: str

    @property
    def new_dn(self) -> str:
        return f"{self.rdn},{self.new_parent}"


@dataclass(frozen=True)
class AddMembers:
    """Add ``members`` (DNs) to the group ``group_dn``; members already in it are not an error."""

    group_dn: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class AddAces:
    """Add a preset's ACEs for a group to one object's DACL.

    The group's SID is looked up when the change is applied (the group may be created by an
    earlier change of the same plan); the DACL is read again then too, so the write merges with
    what is there at that moment and never drops an ACE someone added since the plan was made.
    """

    target_dn: str
    group_dn: str
    preset: DelegationPreset
