"""The appliers of directory writes: each takes one payload of :mod:`adprep.prep.ldap_writes` and sends
it through one :class:`~adprep.transport.ldap.LdapSession` (:func:`ldap_appliers` registers them by
payload type). What an applier reads is what it must see at the moment it writes: whether an object
that appeared since the plan is the one it would have made, a group's SID, the DACL to merge into."""

from __future__ import annotations

from typing import Any

from adprep.ad.names import casefolded
from adprep.ad.security_descriptor import decode_sid, encode_with_added_aces
from adprep.errors import InputError, LdapError
from adprep.prep.ldap_writes import AddAces, AddEntry, AddMembers, ModifyEntry, MoveEntry
from adprep.prep.plan import Appliers
from adprep.transport.ldap import DACL_SECURITY_INFORMATION, Entry, LdapSession

#: RFC 4511 4.1.9: attributeOrValueExists.
_VALUE_EXISTS = 20

#: RFC 4511 4.1.9: entryAlreadyExists.
_ENTRY_EXISTS = 68


def entry_sid(entry: Entry) -> str:
    """The entry's ``objectSid`` in its string form (``S-1-5-21-...``)."""
    raw = entry.raw.get("objectSid") or entry.attributes.get("objectSid")
    if not raw:
        raise LdapError(f"{entry.dn} has no objectSid", hint="Is it a security principal?")
    value = raw[0]
    if isinstance(value, str):
        return value
    return decode_sid(bytes(value))[0]


def read_security_descriptor(session: LdapSession, dn: str) -> bytes:
    """The DACL part of ``dn``'s nTSecurityDescriptor (SD flags control = 4, MS-ADTS 3.1.1.3.4.1.11)."""
    entry = session.get(dn, ("nTSecurityDescriptor",), sd_flags=DACL_SECURITY_INFORMATION)
    if entry is None:
        raise InputError(
            f"{dn} does not exist", hint="Check the DN (or create the OU first with adprep ou create)."
        )
    raw = entry.raw.get("nTSecurityDescriptor")
    if not raw:
        raise LdapError(
            f"Reading the security descriptor of {dn} returned nothing",
            hint="The account needs Read Permissions (READ_CONTROL) on the object.",
        )
    return bytes(raw[0])


def _wire(value: str | int | list[str]) -> str | list[str]:
    if isinstance(value, list):
        return value
    return str(value)


def _unicode_pwd(secret: Any) -> bytes:
    # MS-ADTS 3.1.1.3.1.5.2: the password in double quotes, UTF-16LE.
    return f'"{secret.reveal()}"'.encode("utf-16-le")


def apply_add(session: LdapSession, p: AddEntry) -> None:
    """Create the object, its password in the same add; an identical object someone else created since
    the plan was made is adopted (``on_exists``)."""
    attrs: dict[str, Any] = {k: _wire(v) for k, v in p.attributes.items()}
    if p.password is not None:
        attrs["unicodePwd"] = _unicode_pwd(p.password)
    try:
        session.add(p.dn, p.object_class, attrs)
    except LdapError as e:
        # Another run (a second import of an overlapping file, an admin) created it since the plan
        # was made: LDAP adds are atomic per object, so it is whole. Adopt it, as a re-run would.
        if e.code != _ENTRY_EXISTS or not _same_object(session, p):
            raise
        if p.on_exists is not None:
            p.on_exists()


def _same_object(session: LdapSession, p: AddEntry) -> bool:
    """Whether the object at ``p.dn`` is the one ``p`` would have made: its most specific class, and
    its sAMAccountName when ``p`` sets one."""
    found = session.get(p.dn, ("objectClass", "sAMAccountName"))
    if found is None:  # the name is taken elsewhere (a sAMAccountName in another container)
        return False
    classes = casefolded(found.all("objectClass"))
    if p.object_class and p.object_class[-1].casefold() not in classes:
        return False
    sam = p.attributes.get("sAMAccountName")
    return sam is None or str(found.first("sAMAccountName", "")).casefold() == str(sam).casefold()


def apply_modify(session: LdapSession, p: ModifyEntry) -> None:
    """Set the password first (its own modify), then the other attribute changes in one modify."""
    if p.password is not None:
        session.set_password(p.dn, p.password)
    if p.changes:
        session.modify(
            p.dn, {a: [(op, [str(v) for v in vals]) for op, vals in ops] for a, ops in p.changes.items()}
        )


def apply_move(session: LdapSession, p: MoveEntry) -> None:
    """Move the object under its new parent, keeping its RDN (ModifyDN)."""
    session.move(p.dn, p.rdn, p.new_parent)


def apply_add_members(session: LdapSession, p: AddMembers) -> None:
    """Add the members to the group; those someone added since the plan was made are skipped."""
    try:
        session.modify(p.group_dn, {"member": [("add", list(p.members))]})
    except LdapError as e:
        # Samba answers a member value that is there already with entryAlreadyExists, not
        # attributeOrValueExists (RFC 4511 4.6) as Windows does.
        if e.code not in (_VALUE_EXISTS, _ENTRY_EXISTS):
            raise
        # Someone added one of them since the plan was made (another import): add only the rest.
        entry = session.get(p.group_dn, ("member",))
        have = casefolded(entry.all("member")) if entry else frozenset()
        rest = [m for m in p.members if m.casefold() not in have]
        if rest:
            session.modify(p.group_dn, {"member": [("add", rest)]})


def apply_add_aces(session: LdapSession, p: AddAces) -> None:
    """Add the preset's ACEs for the group to the object's DACL as it is now (read again, merged)."""
    group = session.get(p.group_dn, ("objectSid",))
    if group is None:
        raise LdapError(f"The group {p.group_dn} does not exist", hint="Run adprep delegate again.")
    sid = entry_sid(group)
    blob = read_security_descriptor(session, p.target_dn)
    new = encode_with_added_aces(blob, p.preset.aces(sid))
    if new != blob:
        session.write_security_descriptor(p.target_dn, new)


def ldap_appliers(session: LdapSession) -> Appliers:
    """The appliers of every :mod:`adprep.prep.ldap_writes` payload, through ``session``."""
    return (
        Appliers()
        .on(AddEntry, lambda p: apply_add(session, p))
        .on(ModifyEntry, lambda p: apply_modify(session, p))
        .on(AddMembers, lambda p: apply_add_members(session, p))
        .on(AddAces, lambda p: apply_add_aces(session, p))
        .on(MoveEntry, lambda p: apply_move(session, p))
    )
