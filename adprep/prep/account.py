"""The AD Connector service account as a plan: the wanted account (desired) and what the directory
holds (observed) → changes.

Rules (AWS Directory Service API Reference, ConnectDirectory; Amazon WorkSpaces Administration Guide
(2016), Delegating Connect Privileges):

- A missing account is created in one add: ``sAMAccountName`` (ds API pattern ``[a-zA-Z0-9._-]+``,
  at most 20 characters), its password (``unicodePwd``, so the DC must be reached over TLS) and
  ``userAccountControl`` NORMAL_ACCOUNT, plus DONT_EXPIRE_PASSWORD only when asked. One atomic add
  means a run killed half-way never leaves an account without a password or disabled.
- An existing account keeps its password unless a reset is asked; it is enabled if disabled, gets
  DONT_EXPIRE_PASSWORD if asked, and joins the delegation group if not in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from adprep.ad.account_flags import UserAccountControl
from adprep.ad.dn import rdn
from adprep.prep.ldap_writes import (
    ACTION_ADD,
    ACTION_ADD_MEMBERS,
    ACTION_MODIFY,
    USER_CLASSES,
    AddEntry,
    AddMembers,
    ModifyEntry,
)
from adprep.prep.plan import Change, Plan
from adprep.secret import Secret


@dataclass(frozen=True)
class AccountSpec:
    """The account wanted."""

    name: str
    container_dn: str
    domain: str
    group_dn: str | None
    """The delegation group it must be in (``None``: no group)."""
    password: Secret | None = field(default=None, repr=False)
    """The password to set when the account is created (or reset)."""
    password_never_expires: bool = False
    reset_password: bool = False
    description: str = "AWS AD Connector service account (adprep)"

    @property
    def dn(self) -> str:
        return f"{rdn('CN', self.name)},{self.container_dn}"


@dataclass(frozen=True)
class ObservedAccount:
    dn: str
    uac: int
    member_of: frozenset[str]
    """Casefolded group DNs."""


def plan_account(
    spec: AccountSpec,
    observed: ObservedAccount | None,
    *,
    on_exists: Callable[[], None] | None = None,
) -> Plan:
    """``on_exists`` runs when the add finds the account created by someone else meanwhile
    (:class:`adprep.prep.ldap_writes.AddEntry`). Saving a generated password is the caller's change
    (:func:`adprep.prep.passwords.save_passwords_first`)."""
    changes: list[Change] = []
    in_place: list[str] = []
    create_id: str | None = None
    if observed is None:
        assert spec.password is not None, "a new account needs a password"
        uac = UserAccountControl.NORMAL_ACCOUNT
        if spec.password_never_expires:
            uac |= UserAccountControl.DONT_EXPIRE_PASSWORD
        create_id = f"account.create:{spec.dn}"
        changes.append(
            Change(
                id=create_id,
                action=ACTION_ADD,
                target=spec.dn,
                summary=f"create service account {spec.name} (enabled"
                + (", password never expires)" if spec.password_never_expires else ")"),
                details={
                    "sAMAccountName": spec.name,
                    "userAccountControl": int(uac),
                    "password": spec.password.source,
                },
                payload=AddEntry(
                    spec.dn,
                    USER_CLASSES,
                    {
                        "sAMAccountName": spec.name,
                        "userPrincipalName": f"{spec.name}@{spec.domain}",
                        "description": spec.description,
                        "userAccountControl": int(uac),
                    },
                    password=spec.password,
                    on_exists=on_exists,
                ),
            )
        )
        dn = spec.dn
        member_of: frozenset[str] = frozenset()
    else:
        dn = observed.dn
        member_of = observed.member_of
        flags = UserAccountControl(observed.uac)
        wanted = flags & ~UserAccountControl.ACCOUNTDISABLE
        if spec.password_never_expires:
            wanted |= UserAccountControl.DONT_EXPIRE_PASSWORD
        password = spec.password if spec.reset_password else None
        if wanted != flags or password is not None:
            what = []
            if password is not None:
                what.append("reset its password")
            if UserAccountControl.ACCOUNTDISABLE in flags:
                what.append("enable it")
            if (
                wanted & UserAccountControl.DONT_EXPIRE_PASSWORD
                and not flags & UserAccountControl.DONT_EXPIRE_PASSWORD
            ):
                what.append("set 'password never expires'")
            mods: dict[str, list[tuple[str, list[str | int]]]] = {}
            if wanted != flags:
                mods["userAccountControl"] = [("replace", [int(wanted)])]
            changes.append(
                Change(
                    id=f"account.update:{dn}",
                    action=ACTION_MODIFY,
                    target=dn,
                    summary=f"service account {spec.name}: {', '.join(what)}",
                    details={
                        "userAccountControl": int(wanted),
                        "password": "reset" if password else "unchanged",
                    },
                    payload=ModifyEntry(dn, mods, password=password),
                )
            )
        else:
            in_place.append(f"service account {spec.name} exists at {dn}, enabled")
    if spec.group_dn is not None:
        if spec.group_dn.casefold() in member_of:
            in_place.append(f"{spec.name} is a member of {spec.group_dn}")
        else:
            changes.append(
                Change(
                    id=f"group.add-members:{spec.group_dn}",
                    action=ACTION_ADD_MEMBERS,
                    target=spec.group_dn,
                    summary=f"add {spec.name} to {spec.group_dn}",
                    details={"members": [dn]},
                    depends_on=(create_id,) if create_id else (),
                    payload=AddMembers(spec.group_dn, (dn,)),
                )
            )
    return Plan("account create", tuple(changes), tuple(in_place))
