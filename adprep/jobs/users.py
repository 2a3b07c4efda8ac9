"""``adprep users import``: validate the CSV (no network), observe the directory in a few batched
searches, plan, and apply.

Generated passwords go only to ``--passwords-out`` (a CSV, mode 0600, appended to): each is written
and flushed before the add that sets it, and a later run reuses a password the file already holds
for a user still missing, so a run killed half-way loses no password and writes no stale one.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from adprep.ad.dn import is_descendant, ou_path_to_dn, parse_dn
from adprep.ad.names import generate_password
from adprep.errors import InputError
from adprep.jobs.directory_session import DirectorySettings
from adprep.jobs.ldap_apply import casefolded, existing_dns, find_by_sam, ldap_appliers, open_private
from adprep.prep.csv_users import (
    CsvIndex,
    CsvUser,
    RowProblem,
    UsersCsvError,
    index_users_csv,
    iter_valid_users,
)
from adprep.prep.plan import ApplyResult, Outcome, Plan, apply_plan
from adprep.prep.users import ObservedUser, plan_users
from adprep.secrets import Secret
from adprep.transport.ldap import LdapSession


@dataclass(frozen=True)
class UsersImportSettings:
    directory: DirectorySettings
    csv_path: Path
    default_dn: str
    """Where rows with an empty ``ou`` go."""
    passwords_out: Path | None = None


def users_import_settings(
    directory: DirectorySettings, *, csv_path: Path, default_ou: str | None, passwords_out: Path | None
) -> UsersImportSettings:
    base = directory.base_dn
    if default_ou is None:
        default_dn = f"CN=Users,{base}"
    elif "=" in default_ou:
        parse_dn(default_ou)
        if not is_descendant(default_ou, base):
            raise InputError(f"--default-ou {default_ou!r} is not inside the domain {base}")
        default_dn = default_ou
    else:
        default_dn = ou_path_to_dn(default_ou, base)
    return UsersImportSettings(directory, csv_path, default_dn, passwords_out)


def validate_users_file(settings: UsersImportSettings) -> CsvIndex:
    """The whole file checked before anything touches the network; raises :class:`UsersCsvError`."""
    index = index_users_csv(
        settings.csv_path, base_dn=settings.directory.base_dn, default_dn=settings.default_dn
    )
    if index.problems:
        raise UsersCsvError(settings.csv_path, tuple(sorted(index.problems, key=lambda p: p.line)))
    if index.rows == 0:
        raise InputError(
            f"{settings.csv_path} has no user rows", hint="Add one row per user below the header."
        )
    if index.generated and settings.passwords_out is None:
        raise InputError(
            f"{index.generated} row(s) of {settings.csv_path} have no password, and no --passwords-out file was given",
            hint="Pass --passwords-out FILE for the generated passwords, or fill the password column.",
        )
    return index


def _directory_problems(
    session: LdapSession, settings: UsersImportSettings, index: CsvIndex
) -> tuple[dict[str, str], list[RowProblem]]:
    """Group DNs by casefolded name, and the rows naming an OU or group that does not exist."""
    problems: list[RowProblem] = []
    present = existing_dns(session, index.ou_lines)
    for ou, lines in index.ou_lines.items():
        if ou not in present:
            problems.extend(
                RowProblem(n, f"the OU {ou} does not exist (create it with adprep ou create)") for n in lines
            )
    found = find_by_sam(
        session, settings.directory.base_dn, index.group_names.values(), (), object_class="group"
    )
    groups = {k: e.dn for k, e in found.items()}
    for key, lines in index.group_lines.items():
        if key not in groups:
            name = index.group_names[key]
            problems.extend(RowProblem(n, f"the group {name!r} does not exist") for n in lines)
    return groups, problems


class PasswordsFile:
    """The ``--passwords-out`` CSV: ``sAMAccountName,password`` lines, 0600, appended to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[str, str] = {}
        if path.exists():
            try:
                with path.open(encoding="utf-8", newline="") as f:
                    for row in csv.reader(f):
                        if len(row) == 2 and row[0] != "sAMAccountName":
                            self.known[row[0].casefold()] = row[1]
            except (OSError, UnicodeDecodeError) as e:
                raise InputError(f"Cannot read the passwords file {path}: {e}") from None
        self._out: TextIO | None = None

    def password_for(self, user: CsvUser) -> Secret:
        if user.password is not None:
            return user.password
        reused = self.known.get(user.key)
        if reused is not None:
            return Secret(reused, f"file:{self.path}")
        return Secret(generate_password(), "generated")

    def before_create(self, user: CsvUser, secret: Secret) -> Callable[[], None] | None:
        if user.password is not None or user.key in self.known:
            return None
        return lambda: self.save(user.sam, secret)

    def save(self, sam: str, secret: Secret) -> None:
        if self._out is None:
            self._out = open_private(self.path, append=True)
            # Not tell(): a file opened for appending reports position 0 until its first write.
            if os.fstat(self._out.fileno()).st_size == 0:
                self._out.write("sAMAccountName,password\r\n")
        csv.writer(self._out).writerow([sam, secret.reveal()])
        self._out.flush()  # on disk before the add that sets it
        self.known[sam.casefold()] = secret.reveal()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def plan_users_import(
    session: LdapSession, settings: UsersImportSettings, index: CsvIndex, passwords: PasswordsFile | None
) -> Plan:
    """Observe (a few batched searches) and plan. Missing OUs or groups raise :class:`UsersCsvError`."""
    groups, problems = _directory_problems(session, settings, index)
    if problems:
        raise UsersCsvError(settings.csv_path, tuple(sorted(problems, key=lambda p: p.line)))
    base = settings.directory.base_dn
    found = find_by_sam(session, base, index.lines.keys(), ("memberOf",))
    observed = {
        k: ObservedUser(e.dn, str(e.first("sAMAccountName")), casefolded(e.all("memberOf")))
        for k, e in found.items()
    }

    def password_for(user: CsvUser) -> Secret:
        if passwords is not None:
            return passwords.password_for(user)
        if user.password is None:  # pragma: no cover - validate_users_file refuses this
            raise InputError("A generated password needs --passwords-out")
        return user.password

    return plan_users(
        iter_valid_users(settings.csv_path, base_dn=base, default_dn=settings.default_dn),
        observed,
        groups,
        domain=settings.directory.domain,
        password_for=password_for,
        before_create=passwords.before_create if passwords is not None else None,
    )


def apply_users_import(
    session: LdapSession, plan: Plan, *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    return apply_plan(plan, ldap_appliers(session), on_done=on_done)
