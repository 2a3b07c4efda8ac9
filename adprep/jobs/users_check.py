"""``adprep users check``: are the users WorkSpaces-ready? A report, like preflight; it never writes.

The scope is checked first, before any password is asked for or any packet sent: ``--ou`` (a path
or a DN inside the domain), ``--csv`` (every row read; bad rows are listed as ``file:line: reason``,
exit 2), or the whole domain. Then one bind, one paged search (or batched lookups for a file), and
the verdicts of :mod:`adprep.checks.users`. A DC that cannot be reached or read makes one ``error``
result (exit 3), as for ``gpo scan``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adprep.ad.users_csv import RowProblem, UsersCsvError, read_user_names
from adprep.catalogue import check_id
from adprep.checks.users import UsersTally, check_users
from adprep.collect.users import UsersScope, collect_users
from adprep.errors import AdprepError, InputError, reason_of
from adprep.jobs.delegate import container_dn
from adprep.jobs.directory_session import open_session
from adprep.model import Report
from adprep.report import build_report, could_not_run, make_vantage, now
from adprep.transport.ldap_settings import DirectorySettings


def validate_names_file(path: Path) -> int:
    """Read the whole file; every bad row raises together (:class:`UsersCsvError`). Returns the rows."""
    if not path.is_file():
        raise InputError(f"Cannot read the CSV file {path}", hint="Check the path.")
    problems: list[RowProblem] = []
    rows = 0
    for item in read_user_names(path):
        if isinstance(item, RowProblem):
            problems.append(item)
        else:
            rows += 1
    if problems:
        raise UsersCsvError(path, tuple(problems))
    if rows == 0:
        raise InputError(f"{path} has no user rows", hint="Add one row per user below the header.")
    return rows


def users_check_scope(base_dn: str, *, ou: str | None, csv_path: Path | None) -> UsersScope:
    """The users to check, validated without the network."""
    if ou and csv_path is not None:
        raise InputError(
            "--ou and --csv both choose the users to check",
            hint="Give one: --ou for an OU and everything below it, --csv for the users a file names.",
        )
    if csv_path is not None:
        validate_names_file(csv_path)
        return UsersScope("csv", base_dn, csv_path)
    if ou:
        return UsersScope("ou", container_dn(ou, base_dn, default=base_dn, what="--ou"))
    return UsersScope("domain", base_dn)


def _where(scope: UsersScope) -> str:
    if scope.kind == "csv":
        return f"the users named in {scope.csv_path}"
    return f"the users in {scope.base_dn}"


def run_users_check(
    directory: DirectorySettings,
    scope: UsersScope,
    *,
    vantage: str | None = None,
    on_user: Callable[[], None] | None = None,
) -> Report:
    """Bind, stream the scope's users through the verdicts, and make the report."""
    started = now()
    try:
        with open_session(directory) as session:
            if scope.kind == "ou" and not session.exists(scope.base_dn):
                raise InputError(
                    f"The OU {scope.base_dn} does not exist",
                    hint="Check --ou (an OU path such as WorkSpaces/Users, or a DN).",
                )
            facts = collect_users(
                session,
                scope,
                domain_dn=directory.base_dn,
                now=started,
                tally=UsersTally(),
                target=directory.dc,
                on_user=on_user,
            )
        results = check_users(facts)
    except AdprepError as e:
        if isinstance(e, InputError):
            raise
        results = [could_not_run(check_id("users.scope"), f"{_where(scope)} could not be checked".capitalize(),
                                 e.sentence(), reason=reason_of(e), target=directory.dc)]  # fmt: skip
    return build_report(
        "users check", started_at=started, targets=(directory.dc,), results=results,
        vantage=make_vantage(vantage, {}),
    )  # fmt: skip
