"""Facts about users: one user as read, the domain's password policy, and what ``users check`` saw."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

Problem = Literal["mail", "must_change_password", "disabled", "locked", "expired", "password_expired", "name"]

#: Every problem kind, in the order the report lists them.
PROBLEMS: tuple[Problem, ...] = (
    "mail",
    "must_change_password",
    "disabled",
    "locked",
    "expired",
    "password_expired",
    "name",
)

ScopeKind = Literal["domain", "ou", "csv"]


@dataclass(frozen=True)
class UserFacts:
    """One user as read: raw attribute values (absent time values are 0, as AD means them)."""

    dn: str
    sam: str
    mail: str | None
    user_account_control: int
    pwd_last_set: int = 0
    lockout_time: int = 0
    account_expires: int = 0
    computed_uac: int | None = None
    """``msDS-User-Account-Control-Computed``, when the DC returned it (it accounts for
    fine-grained password policies, which the domain-wide arithmetic cannot)."""


@dataclass(frozen=True)
class PasswordPolicy:
    """The domain's ``maxPwdAge`` and ``lockoutDuration`` (``None``: never expires / until unlocked)."""

    max_pwd_age: timedelta | None = None
    lockout_duration: timedelta | None = None


@dataclass(frozen=True)
class UsersFacts:
    """What ``users check`` saw, ready for the verdicts."""

    scope: ScopeKind
    base_dn: str
    """The domain, or the OU searched."""
    scanned: int
    names: Mapping[Problem, tuple[str, ...]]
    """Per problem, the sorted sAMAccountNames of the users that have it."""
    name_reasons: Mapping[str, str] = field(default_factory=dict)
    csv_path: str | None = None
    not_found: tuple[str, ...] = ()
    """With ``--csv``: names in the file that no user has."""
    csv_rows: int = 0
    duplicates: int = 0
    """With ``--csv``: rows naming a user an earlier row named (looked up once)."""
    elapsed_s: float = 0.0
    target: str | None = None
    """The DC asked."""


class UsersSink(Protocol):
    """What keeps the users a collector streams by, so that memory does not grow with the directory
    (:class:`adprep.checks.users.UsersTally`: a count, and the names that have each problem)."""

    scanned: int
    name_reasons: dict[str, str]

    def add(self, user: UserFacts, now: datetime, policy: PasswordPolicy) -> None:
        """Take one user as read."""

    def sorted_names(self) -> dict[Problem, tuple[str, ...]]:
        """Per problem, the names of the users that have it, sorted."""
