"""The directory side of plan → apply: observing objects in few round trips, and the appliers that
send a plan's changes (:mod:`adprep.prep.ldap_writes` payloads) through one :class:`LdapSession`.

Observation is batched: names are looked up with OR filters, ``BATCH`` at a time, so planning
1,000 users costs a handful of searches rather than 1,000.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from adprep.ad.dn import escape_filter_value
from adprep.ad.security_descriptor import decode_sid, encode_with_added_aces
from adprep.errors import InputError, LdapError
from adprep.prep.ldap_writes import (
    ACTION_ADD,
    ACTION_ADD_ACES,
    ACTION_ADD_MEMBERS,
    ACTION_MODIFY,
    ACTION_MOVE,
    AddAces,
    AddEntry,
    AddMembers,
    ModifyEntry,
    MoveEntry,
)
from adprep.prep.plan import Applier, Change
from adprep.transport.ldap import DACL_SECURITY_INFORMATION, Entry, LdapSession

#: Names per OR filter when looking objects up by sAMAccountName.
BATCH = 200
#: RFC 4511 4.1.9: attributeOrValueExists.
_VALUE_EXISTS = 20
#: RFC 4511 4.1.9: entryAlreadyExists.
_ENTRY_EXISTS = 68


def find_by_sam(
    session: LdapSession,
    base_dn: str,
    names: Iterable[str],
    attributes: Sequence[str],
    *,
    object_class: str | None = None,
) -> dict[str, Entry]:
    """casefolded sAMAccountName -> entry, for every name that exists under ``base_dn``."""
    found: dict[str, Entry] = {}
    attrs = tuple(dict.fromkeys(("sAMAccountName", *attributes)))
    cls = f"(objectClass={escape_filter_value(object_class)})" if object_class else ""
    for batch in _batches(names, BATCH):
        terms = "".join(f"(sAMAccountName={escape_filter_value(n)})" for n in batch)
        for entry in session.iter_search(base_dn, f"(&{cls}(|{terms}))", attributes=attrs, page_size=1000):
            name = entry.first("sAMAccountName")
            if isinstance(name, str):
                found[name.casefold()] = entry
    return found


def resolve_member_dns(session: LdapSession, base_dn: str, members: Sequence[str]) -> tuple[str, ...]:
    """Members given as names (sAMAccountName) or DNs, as DNs in the order given; every one must
    exist (an :class:`InputError` names those that do not)."""
    dns = [m for m in members if "=" in m]
    names = [m for m in members if "=" not in m]
    found = find_by_sam(session, base_dn, names, ())
    missing = [n for n in names if n.casefold() not in found] + [d for d in dns if not session.exists(d)]
    if missing:
        raise InputError(
            f"No such member in {base_dn}: {', '.join(missing)}",
            hint="Create the account first (adprep account create), or check the name.",
        )
    by_name = {n: found[n.casefold()].dn for n in names}
    return tuple(dict.fromkeys(by_name.get(m, m) for m in members))


def existing_dns(session: LdapSession, dns: Iterable[str]) -> set[str]:
    """Which of ``dns`` exist (one base search each: used for OUs, which are few)."""
    return {dn for dn in dns if session.exists(dn)}


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def entry_sid(entry: Entry) -> str:
    raw = entry.raw.get("objectSid") or entry.attributes.get("objectSid")
    if not raw:
        raise LdapError(f"{entry.dn} has no objectSid", hint="Is it a security principal?")
    value = raw[0]
    if isinstance(value, str):
        return value
    return decode_sid(bytes(value))[0]


def casefolded(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(v).casefold() for v in values)


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


def apply_add(session: LdapSession, change: Change) -> None:
    p = change.payload
    assert isinstance(p, AddEntry)
    if p.before is not None:
        p.before()
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


def apply_modify(session: LdapSession, change: Change) -> None:
    p = change.payload
    assert isinstance(p, ModifyEntry)
    if p.before is not None:
        p.before()
    if p.password is not None:
        session.set_password(p.dn, p.password)
    if p.changes:
        session.modify(
            p.dn, {a: [(op, [str(v) for v in vals]) for op, vals in ops] for a, ops in p.changes.items()}
        )


def apply_move(session: LdapSession, change: Change) -> None:
    p = change.payload
    assert isinstance(p, MoveEntry)
    session.move(p.dn, p.rdn, p.new_parent)


def apply_add_members(session: LdapSession, change: Change) -> None:
    p = change.payload
    assert isinstance(p, AddMembers)
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


def apply_add_aces(session: LdapSession, change: Change) -> None:
    p = change.payload
    assert isinstance(p, AddAces)
    group = session.get(p.group_dn, ("objectSid",))
    if group is None:
        raise LdapError(f"The group {p.group_dn} does not exist", hint="Run adprep delegate again.")
    sid = entry_sid(group)
    blob = read_security_descriptor(session, p.target_dn)
    new = encode_with_added_aces(blob, p.preset.aces(sid))
    if new != blob:
        session.write_security_descriptor(p.target_dn, new)


def ldap_appliers(session: LdapSession) -> dict[str, Applier]:
    return {
        ACTION_ADD: lambda c: apply_add(session, c),
        ACTION_MODIFY: lambda c: apply_modify(session, c),
        ACTION_ADD_MEMBERS: lambda c: apply_add_members(session, c),
        ACTION_ADD_ACES: lambda c: apply_add_aces(session, c),
        ACTION_MOVE: lambda c: apply_move(session, c),
    }


# --- secrets written where the user said -----------------------------------------------------------


def open_private(path: Path, *, append: bool) -> TextIO:
    """Open ``path`` for writing with mode 0600 (created so, and tightened if it existed)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.fchmod(fd, 0o600)
    except OSError as e:
        raise InputError(
            f"Cannot write {path}: {e.strerror or e}", hint="Check the path and its permissions."
        ) from None
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
