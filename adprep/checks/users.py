"""WorkSpaces-ready users: which users cannot get or use a WorkSpace, and why. Pure.

A user is ready when it has an e-mail address, can sign in (enabled, not locked out, not expired,
password not expired, no "must change password at next logon") and has a name WorkSpaces and
AD Connector take. Sources:

- ``mail``: Amazon WorkSpaces Administration Guide (2016), "Launching WorkSpaces in a Connected
  Directory": a user without an e-mail address cannot get a WorkSpace.
- "must change password": the same guide, "Restrictions" / "User Accounts": such a user cannot
  connect to the WorkSpace.
- disabled, locked out, expired, password expired: the account cannot sign in at all (MS-ADTS
  2.2.16 and 3.1.1.4.5.17, :func:`adprep.ad.account_flags.account_state`).
- the name: :func:`adprep.ad.names.workspaces_user_name_problem`.

Scale (a directory may hold 50,000 users or more): :func:`classify_user` judges one user at a time
as users stream from a paged search; :class:`UsersTally` keeps a count and, per problem, only the
names of the users that have it. :func:`check_users` then makes **one result per problem kind**
(ids below, always all of them, so a pipeline can follow one id across runs), each with the count
and the complete, sorted list of names in its facts; the title names the first
:data:`TITLE_NAMES_MAX`. A result per user would make a report of 50,000 results that no table
or JUnit viewer can read, and ids that come and go with the users.

Ids: ``users.scope`` (what was checked), ``users.mail``, ``users.must_change_password``,
``users.disabled``, ``users.locked``, ``users.expired``, ``users.password_expired``, ``users.name``,
``users.found`` (with ``--csv``: every name in the file exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from adprep.ad.account_flags import AccountState, account_state
from adprep.ad.names import workspaces_user_name_problem
from adprep.catalogue import check_id
from adprep.facts.users import PROBLEMS, PasswordPolicy, Problem, UserFacts, UsersFacts
from adprep.model import CheckResult, FactValue, Status

#: Names shown in a result's title; the facts list every one.
TITLE_NAMES_MAX = 10


def _state(user: UserFacts, now: datetime, policy: PasswordPolicy) -> AccountState:
    uac, pwd_last_set, computed = user.user_account_control, user.pwd_last_set, user.computed_uac
    try:
        return account_state(uac, pwd_last_set, user.lockout_time, user.account_expires, now,
                             policy.max_pwd_age, policy.lockout_duration, computed_uac=computed)  # fmt: skip
    except (ValueError, OverflowError):
        # A time attribute out of range (negative, or past year 9999): judge on the flags alone.
        return account_state(uac, pwd_last_set, 0, 0, now, computed_uac=computed)


def classify_user(user: UserFacts, now: datetime, policy: PasswordPolicy) -> dict[Problem, str | None]:
    """The problems ``user`` has, each with a detail sentence where there is one (the name's reason)."""
    found: dict[Problem, str | None] = {}
    if not (user.mail or "").strip():
        found["mail"] = None
    state = _state(user, now, policy)
    flags: tuple[tuple[Problem, bool], ...] = (
        ("must_change_password", state.must_change_password),
        ("disabled", state.disabled),
        ("locked", state.locked),
        ("expired", state.expired),
        ("password_expired", state.password_expired),
    )
    found.update((problem, None) for problem, present in flags if present)
    reason = workspaces_user_name_problem(user.sam)
    if reason is not None:
        found["name"] = reason
    return found


@dataclass
class UsersTally:
    """What a check keeps while users stream by: a count, and per problem the names that have it."""

    scanned: int = 0
    names: dict[Problem, list[str]] = field(default_factory=lambda: {p: [] for p in PROBLEMS})
    name_reasons: dict[str, str] = field(default_factory=dict)
    """sAMAccountName -> why the name is refused."""

    def add(self, user: UserFacts, now: datetime, policy: PasswordPolicy) -> None:
        """Count ``user`` and note the problems it has (then it is dropped)."""
        self.scanned += 1
        for problem, detail in classify_user(user, now, policy).items():
            self.names[problem].append(user.sam)
            if detail is not None:
                self.name_reasons[user.sam] = detail

    def sorted_names(self) -> dict[Problem, tuple[str, ...]]:
        return {p: tuple(sorted(n, key=str.casefold)) for p, n in self.names.items()}


def _listed(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:TITLE_NAMES_MAX])
    more = len(names) - TITLE_NAMES_MAX
    return f"{shown} … and {more} more" if more > 0 else shown


_GUIDE = "Amazon WorkSpaces Administration Guide (2016)"

#: problem -> (title when none has it, title of the failure with {n} users and {names}, remedy)
_WORDING: dict[Problem, tuple[str, str, str]] = {
    "mail": (
        "Every user has an e-mail address (mail)",
        "{n} user(s) have no e-mail address (mail), so no WorkSpace can be launched for them: {names}",
        f"Fill in each user's mail attribute (adprep users import --update with a mail column, or the E-mail "
        f'field in Active Directory Users and Computers). {_GUIDE}, "Launching WorkSpaces in a Connected '
        'Directory": a user without an e-mail address cannot get a WorkSpace.',
    ),
    "must_change_password": (
        "No user must change the password at next logon",
        "{n} user(s) must change the password at next logon, so they cannot connect to a WorkSpace: {names}",
        "Clear 'User must change password at next logon' (set a secure temporary password without it) and "
        f'let the users change the password from inside the WorkSpace ({_GUIDE}, "Restrictions": User '
        "Accounts).",
    ),
    "disabled": (
        "No user is disabled",
        "{n} user(s) are disabled, so they cannot sign in to a WorkSpace: {names}",
        "Enable the accounts that should have a WorkSpace, or leave them out of the users you launch "
        "WorkSpaces for.",
    ),
    "locked": (
        "No user is locked out",
        "{n} user(s) are locked out, so they cannot sign in to a WorkSpace now: {names}",
        "Unlock the accounts (Active Directory Users and Computers, Account tab), or wait for the domain's "
        "lockout duration to pass.",
    ),
    "expired": (
        "No user account has expired",
        "{n} user account(s) have expired, so they cannot sign in to a WorkSpace: {names}",
        "Extend the accounts' expiry date (Account expires) or set it to Never.",
    ),
    "password_expired": (
        "No user's password has expired",
        "{n} user(s) have an expired password, so they cannot sign in to a WorkSpace: {names}",
        "Set a new password for each (without 'must change password at next logon').",
    ),
    "name": (
        "Every user name is one WorkSpaces and AD Connector take",
        "{n} user name(s) are not ones WorkSpaces and AD Connector take: {names}",
        "Rename the accounts' logon name (pre-Windows 2000) to at most 20 characters without "
        '" / \\ [ ] : ; | = , + * ? < > @, control characters or a trailing period; the facts give each '
        "name's reason.",
    ),
}


def _where(facts: UsersFacts) -> str:
    if facts.scope == "csv":
        return f"the {facts.csv_rows} row(s) of {facts.csv_path}"
    if facts.scope == "ou":
        return f"{facts.base_dn} and below"
    return f"the domain {facts.base_dn}"


def check_scope(facts: UsersFacts) -> CheckResult:
    """What was checked (the domain, an OU or the names of a CSV file); nothing found is a warning."""
    fact_map: dict[str, FactValue] = {
        "scope": facts.scope,
        "base_dn": facts.base_dn,
        "checked": facts.scanned,
        "elapsed_s": round(facts.elapsed_s, 3),
    }
    if facts.scope == "csv":
        fact_map.update({"csv": facts.csv_path, "rows": facts.csv_rows, "duplicate_rows": facts.duplicates})
    else:
        fact_map["excluded"] = "computer accounts and critical system objects (Administrator, Guest, krbtgt)"
    if facts.scanned == 0:
        return CheckResult(
            check_id("users.scope"),
            Status.WARN,
            f"No user found in {_where(facts)}",
            fact_map,
            remedy="Check the OU (--ou) or the names in the file (--csv): nothing was checked.",
            target=facts.target,
        )
    return CheckResult(check_id("users.scope"), Status.PASS, f"Checked {facts.scanned} user(s) in {_where(facts)}",
                       fact_map, target=facts.target)  # fmt: skip


def check_problem(facts: UsersFacts, problem: Problem) -> CheckResult:
    """One result per problem kind: the users who have it (fail), or none (pass)."""
    names = facts.names.get(problem, ())
    ok_title, fail_title, remedy = _WORDING[problem]
    cid = check_id(f"users.{problem}")
    fact_map: dict[str, FactValue] = {"count": len(names), "users": list(names)}
    if problem == "name" and names:
        fact_map["reasons"] = {n: facts.name_reasons.get(n, "") for n in names}
    if not names:
        return CheckResult(cid, Status.PASS, ok_title, fact_map, target=facts.target)
    return CheckResult(
        cid,
        Status.FAIL,
        fail_title.format(n=len(names), names=_listed(names)),
        fact_map,
        remedy=remedy,
        target=facts.target,
    )


def check_found(facts: UsersFacts) -> CheckResult:
    """With ``--csv``: the names of the file that no user has (fail); without: skip."""
    if facts.scope != "csv":
        return CheckResult(check_id("users.found"), Status.SKIP, "Users named in a file: not applicable (no --csv)",
                           target=facts.target)  # fmt: skip
    missing = facts.not_found
    fact_map: dict[str, FactValue] = {"count": len(missing), "users": list(missing)}
    if not missing:
        return CheckResult(check_id("users.found"), Status.PASS, f"Every user named in {facts.csv_path} exists",
                           fact_map, target=facts.target)  # fmt: skip
    return CheckResult(
        check_id("users.found"),
        Status.FAIL,
        f"{len(missing)} user(s) named in {facts.csv_path} do not exist in {facts.base_dn}: "
        f"{_listed(missing)}",
        fact_map,
        remedy="Create them (adprep users import) or correct the names; a WorkSpace needs a user in the "
        "directory with that name.",
        target=facts.target,
    )


def check_users(facts: UsersFacts) -> list[CheckResult]:
    """Every ``users.*`` verdict, always all of them and in the same order."""
    return [check_scope(facts), *(check_problem(facts, p) for p in PROBLEMS), check_found(facts)]
