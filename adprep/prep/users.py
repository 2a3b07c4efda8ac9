"""Bulk users as a plan: the users CSV (desired) and what the directory holds (observed) → changes.

Rules (README "Directory prep"):

- A user is identified by its sAMAccountName, unique in the domain. Its DN is ``CN=<sAMAccountName>,<ou>``:
  the logon name is unique where a full name is not (two "John Smith" would collide on CN).
- A missing user is created in one add with its password and ``userAccountControl`` NORMAL_ACCOUNT
  (enabled): the add is atomic, so a run killed half-way leaves each user either absent (the next
  run creates it) or complete; nothing needs mending afterwards.
- An add that finds the user already there, created by another run since this one looked
  (entryAlreadyExists on the same DN, with the same sAMAccountName), adopts it as a re-run would:
  the change counts as applied and the user's memberships still go in.
- An existing user is never changed (attributes, password, enabled state): the import creates.
  It only gains the groups its row names and it is not in yet.
- With ``update`` (``--update``), an existing user also gets the row's ``mail``, ``givenName`` and
  ``sn`` where they differ (one modify, only the attributes that differ; an empty cell leaves the
  attribute as it is, never clears it) and is moved (ModifyDN, keeping its RDN, GUID, SID, password
  and memberships) to the row's OU when it is elsewhere. An empty ``ou`` cell moves it only when
  the caller says the default container is wanted (``move_to_default``: ``--default-ou`` given),
  so an update never sweeps users into ``CN=Users``. Memberships of a moved user use its new DN and
  wait for the move. ``displayName`` is left as it is, as Active Directory Users and Computers does.
  The password and enabled state are never touched.
- A row without ``mail`` whose user will have none is a warning (Amazon WorkSpaces Administration
  Guide (2016), "Launching WorkSpaces in a Connected Directory": a user without an e-mail address
  cannot get a WorkSpace); the import still goes ahead.
- Group memberships are added per group in chunks, each depending on the creates of its members.
  The import plans users a chunk of rows at a time (so memory does not grow with the file); each
  plan adds that chunk's members, numbering its membership changes on from the chunks before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from adprep.ad.account_flags import UserAccountControl
from adprep.ad.dn import dn_equal, parent, parse_dn, rdn
from adprep.ad.users_csv import CsvUser
from adprep.model import FactValue
from adprep.prep.ldap_writes import (
    ACTION_ADD,
    ACTION_ADD_MEMBERS,
    ACTION_MODIFY,
    ACTION_MOVE,
    USER_CLASSES,
    AddEntry,
    AddMembers,
    ModifyEntry,
    MoveEntry,
)
from adprep.prep.plan import Change, Plan
from adprep.secret import Secret

#: Members per group-membership change: one modify each, and a failed create holds back only its chunk.
MEMBER_CHUNK = 100


@dataclass(frozen=True)
class ObservedUser:
    """A user object found in the directory."""

    dn: str
    sam: str
    member_of: frozenset[str]
    """Casefolded DNs of the groups it is directly in."""
    mail: str | None = None
    given_name: str | None = None
    sn: str | None = None

    def current(self, attribute: str) -> str | None:
        """The user's current value of ``attribute`` (``mail``, ``givenName`` or ``sn``)."""
        return {"mail": self.mail, "givenName": self.given_name, "sn": self.sn}[attribute]


#: What ``--update`` fills in on an existing user, from the row's columns.
UPDATED_ATTRIBUTES = ("mail", "givenName", "sn")


def user_dn(user: CsvUser) -> str:
    """The DN a new user gets: ``CN=<sAMAccountName>`` (escaped) in its row's OU."""
    return f"{rdn('CN', user.sam)},{user.ou_dn}"


def user_attributes(user: CsvUser, domain: str) -> dict[str, str | int | list[str]]:
    """The attributes a new user is added with (enabled, UPN ``<sam>@<domain>``; no password here)."""
    attrs: dict[str, str | int | list[str]] = {
        "sAMAccountName": user.sam,
        "userPrincipalName": f"{user.sam}@{domain}",
        # MS-ADTS 2.2.16: NORMAL_ACCOUNT, enabled; the password is in the same add.
        "userAccountControl": int(UserAccountControl.NORMAL_ACCOUNT),
    }
    if user.given_name:
        attrs["givenName"] = user.given_name
    if user.sn:
        attrs["sn"] = user.sn
    if user.given_name or user.sn:
        attrs["displayName"] = " ".join(p for p in (user.given_name, user.sn) if p)
    if user.mail:
        attrs["mail"] = user.mail
    return attrs


def _wanted(user: CsvUser, attribute: str) -> str:
    return {"mail": user.mail, "givenName": user.given_name, "sn": user.sn}[attribute]


def no_mail_warning(user: CsvUser, found: ObservedUser | None, *, update: bool) -> str | None:
    """The warning for a user the plan leaves without ``mail``; ``None`` when it will have one."""
    if found is None:
        if user.mail:
            return None
        where = " (the mail column is empty)"
    elif found.mail or (update and user.mail):
        return None
    elif user.mail:
        where = " in the directory (--update would set the file's)"
    else:
        where = " (neither in the file nor in the directory)"
    return (
        f"line {user.line}: user {user.sam} has no mail{where}: no WorkSpace can be launched for a user "
        "without an e-mail address"
    )


def _update(user: CsvUser, found: ObservedUser) -> Change | None:
    """The modify that gives ``found`` the row's non-empty mail, givenName and sn, if any differ."""
    diffs = {a: (found.current(a), _wanted(user, a)) for a in UPDATED_ATTRIBUTES if _wanted(user, a)}
    diffs = {a: (old, new) for a, (old, new) in diffs.items() if old != new}
    if not diffs:
        return None
    shown: dict[str, FactValue] = {a: {"from": old, "to": new} for a, (old, new) in diffs.items()}
    return Change(
        id=f"user.update:{found.dn}",
        action=ACTION_MODIFY,
        target=found.dn,
        summary=f"update user {user.sam}: set {', '.join(diffs)}",
        details={"sAMAccountName": user.sam, "line": user.line, "attributes": shown},
        payload=ModifyEntry(found.dn, {a: [("replace", [new])] for a, (_, new) in diffs.items()}),
    )


def _move(user: CsvUser, found: ObservedUser, *, move_to_default: bool) -> Change | None:
    """The ModifyDN that puts ``found`` in the row's OU, if it is elsewhere (and the OU was asked for)."""
    here = parent(found.dn)
    if not (user.ou_from_row or move_to_default) or dn_equal(here, user.ou_dn):
        return None
    move = MoveEntry(found.dn, str(parse_dn(found.dn)[0]), user.ou_dn)
    return Change(
        id=f"user.move:{found.dn}",
        action=ACTION_MOVE,
        target=found.dn,
        summary=f"move user {user.sam} from {here} to {user.ou_dn}",
        details={
            "sAMAccountName": user.sam,
            "line": user.line,
            "from": here,
            "to": user.ou_dn,
            "new_dn": move.new_dn,
        },
        payload=move,
    )


def plan_users(
    users: Iterable[CsvUser],
    observed: Mapping[str, ObservedUser],
    groups: Mapping[str, str],
    *,
    domain: str,
    password_for: Callable[[CsvUser], Secret],
    on_exists: Callable[[CsvUser], Callable[[], None] | None] | None = None,
    command: str = "users import",
    numbering_from: Mapping[str, int] | None = None,
    update: bool = False,
    move_to_default: bool = False,
) -> Plan:
    """The changes that make the directory hold ``users``.

    ``observed``: casefolded sAMAccountName -> the user found (only names of ``users`` are needed).
    ``groups``: casefolded group name -> its DN (every group the rows name; validation checked).
    ``password_for`` gives a new user's password (the row's, or a generated one); it is called only
    for users to create (saving the generated ones is the caller's change:
    :func:`adprep.prep.passwords.save_passwords_first`). ``on_exists`` may return a callable run when
    the add finds the user created by someone else meanwhile (:class:`adprep.prep.ldap_writes.AddEntry`).
    ``numbering_from``: group DN -> membership changes already planned for it (by earlier chunks), so
    change ids stay unique across chunks. ``update`` and
    ``move_to_default``: see the module's rules.
    """
    numbered = numbering_from or {}
    changes: list[Change] = []
    in_place: list[str] = []
    warnings: list[str] = []
    # group DN -> [(member DN, id of the create it needs or None)]
    joins: dict[str, list[tuple[str, str | None]]] = {}
    for user in users:
        found = observed.get(user.key)
        warning = no_mail_warning(user, found, update=update)
        if warning is not None:
            warnings.append(warning)
        if found is None:
            dn = user_dn(user)
            secret = password_for(user)
            change_id = f"user.create:{dn}"
            changes.append(
                Change(
                    id=change_id,
                    action=ACTION_ADD,
                    target=dn,
                    summary=f"create user {user.sam} in {user.ou_dn}",
                    details={
                        "sAMAccountName": user.sam,
                        "line": user.line,
                        "password": "generated" if user.password is None else "from the CSV file",
                    },
                    payload=AddEntry(
                        dn,
                        USER_CLASSES,
                        user_attributes(user, domain),
                        password=secret,
                        on_exists=on_exists(user) if on_exists else None,
                    ),
                )
            )
            for g in user.groups:
                joins.setdefault(groups[g.casefold()], []).append((dn, change_id))
        else:
            member: tuple[str, str | None] = (found.dn, None)
            own = (
                [_update(user, found), _move(user, found, move_to_default=move_to_default)] if update else []
            )
            for change in own:
                if change is not None:
                    changes.append(change)
                    if isinstance(change.payload, MoveEntry):
                        # AD keeps memberships across a move; new ones name the new DN, after the move.
                        member = (change.payload.new_dn, change.id)
            missing = [g for g in user.groups if groups[g.casefold()].casefold() not in found.member_of]
            if not missing and not any(own):
                in_place.append(f"user {user.sam} exists at {found.dn}")
            for g in missing:
                joins.setdefault(groups[g.casefold()], []).append(member)
    for group_dn, members in joins.items():
        for start in range(0, len(members), MEMBER_CHUNK):
            chunk = members[start : start + MEMBER_CHUNK]
            n = numbered.get(group_dn, 0) + start // MEMBER_CHUNK + 1
            changes.append(
                Change(
                    id=f"group.add-members:{group_dn}#{n}",
                    action=ACTION_ADD_MEMBERS,
                    target=group_dn,
                    summary=f"add {len(chunk)} member(s) to {group_dn}",
                    details={"members": [m for m, _ in chunk]},
                    depends_on=tuple(dict.fromkeys(c for _, c in chunk if c is not None)),
                    payload=AddMembers(group_dn, tuple(m for m, _ in chunk)),
                )
            )
    return Plan(command, tuple(changes), tuple(in_place), tuple(warnings))
