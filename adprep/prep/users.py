"""Bulk users as a plan: the users CSV (desired) and what the directory holds (observed) → changes.

Rules (README "Directory prep"):

- A user is identified by its sAMAccountName, unique in the domain. Its DN is ``CN=<sAMAccountName>,<ou>``:
  the logon name is unique where a full name is not (two "John Smith" would collide on CN).
- A missing user is created in one add with its password and ``userAccountControl`` NORMAL_ACCOUNT
  (enabled): the add is atomic, so a run killed half-way leaves each user either absent (the next
  run creates it) or complete; nothing needs mending afterwards.
- An existing user is never changed (attributes, password, enabled state): the import creates.
  It only gains the groups its row names and it is not in yet.
- Group memberships are added per group in chunks, each depending on the creates of its members.
  The import plans users a chunk of rows at a time (so memory does not grow with the file); each
  plan adds that chunk's members, numbering its membership changes on from the chunks before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from adprep.ad.account_flags import UserAccountControl
from adprep.ad.dn import rdn
from adprep.prep.csv_users import CsvUser
from adprep.prep.ldap_writes import ACTION_ADD, ACTION_ADD_MEMBERS, USER_CLASSES, AddEntry, AddMembers
from adprep.prep.plan import Change, Plan
from adprep.secrets import Secret

#: Members per group-membership change: one modify each, and a failed create holds back only its chunk.
MEMBER_CHUNK = 100


@dataclass(frozen=True)
class ObservedUser:
    """A user object found in the directory."""

    dn: str
    sam: str
    member_of: frozenset[str]
    """Casefolded DNs of the groups it is directly in."""


def user_dn(user: CsvUser) -> str:
    return f"{rdn('CN', user.sam)},{user.ou_dn}"


def user_attributes(user: CsvUser, domain: str) -> dict[str, str | int | list[str]]:
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


def plan_users(
    users: Iterable[CsvUser],
    observed: Mapping[str, ObservedUser],
    groups: Mapping[str, str],
    *,
    domain: str,
    password_for: Callable[[CsvUser], Secret],
    before_create: Callable[[CsvUser, Secret], Callable[[], None] | None] | None = None,
    command: str = "users import",
    numbering_from: Mapping[str, int] | None = None,
) -> Plan:
    """The changes that make the directory hold ``users``.

    ``observed``: casefolded sAMAccountName -> the user found (only names of ``users`` are needed).
    ``groups``: casefolded group name -> its DN (every group the rows name; validation checked).
    ``password_for`` gives a new user's password (the row's, or a generated one); it is called only
    for users to create. ``before_create`` may return a callable run just before the add (to save a
    generated password first). ``numbering_from``: group DN -> membership changes already planned
    for it (by earlier chunks), so change ids stay unique across chunks.
    """
    numbered = numbering_from or {}
    changes: list[Change] = []
    in_place: list[str] = []
    # group DN -> [(member DN, id of the create it needs or None)]
    joins: dict[str, list[tuple[str, str | None]]] = {}
    for user in users:
        found = observed.get(user.key)
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
                        before=before_create(user, secret) if before_create else None,
                    ),
                )
            )
            for g in user.groups:
                joins.setdefault(groups[g.casefold()], []).append((dn, change_id))
        else:
            missing = [g for g in user.groups if groups[g.casefold()].casefold() not in found.member_of]
            if not missing:
                in_place.append(f"user {user.sam} exists at {found.dn}")
            for g in missing:
                joins.setdefault(groups[g.casefold()], []).append((found.dn, None))
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
    return Plan(command, tuple(changes), tuple(in_place))
