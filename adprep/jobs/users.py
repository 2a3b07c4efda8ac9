"""``adprep users import``: validate the CSV (no network), check its OUs and groups exist, then
plan and apply it in chunks of :data:`CHUNK` rows: observe the chunk's users in a few batched
searches, plan the chunk (pure), apply it, hand it to the caller to show, and drop it. Memory stays
flat as the file grows; every row is still validated before the first write.

With ``--update`` the same chunks also fill existing users' mail, givenName and sn and move them to
their row's OU (rules in :mod:`adprep.prep.users`); a row that leaves a user without mail is a
warning in the plan.

Generated passwords go only to ``--passwords-out`` (a CSV, mode 0600, appended to): a chunk's are
written and fsynced before its first add, and a later run reuses a password the file already holds
for a user still missing, so a run killed half-way loses no password. A user another run created
first (an add answered entryAlreadyExists) is adopted, and the password saved for it withdrawn
(:class:`PasswordsFile`).
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from adprep.ad.dn import is_descendant, ou_path_to_dn, parse_dn
from adprep.ad.names import casefolded, generate_password
from adprep.ad.users_csv import (
    CsvIndex,
    CsvUser,
    RowProblem,
    UsersCsvError,
    index_users_csv,
    iter_valid_users,
)
from adprep.collect.ldap_objects import existing_dns, find_by_sam
from adprep.errors import InputError
from adprep.prep.ldap_apply import ldap_appliers
from adprep.prep.ldap_writes import ACTION_ADD_MEMBERS
from adprep.prep.passwords import SavePasswords, save_passwords_first
from adprep.prep.plan import Appliers, ApplyResult, Outcome, Plan, apply_plan
from adprep.prep.users import UPDATED_ATTRIBUTES, ObservedUser, plan_users
from adprep.secret import Secret
from adprep.transport.ldap import Entry, LdapSession
from adprep.transport.ldap_settings import DirectorySettings


@dataclass(frozen=True)
class UsersImportSettings:
    directory: DirectorySettings
    csv_path: Path
    default_dn: str
    """Where rows with an empty ``ou`` go."""
    passwords_out: Path | None = None
    update: bool = False
    """``--update``: existing users get the row's mail, givenName, sn and OU (:mod:`adprep.prep.users`)."""
    default_given: bool = False
    """``--default-ou`` was given: with ``update``, rows with an empty ``ou`` move users there too."""


def users_import_settings(
    directory: DirectorySettings,
    *,
    csv_path: Path,
    default_ou: str | None,
    passwords_out: Path | None,
    update: bool = False,
) -> UsersImportSettings:
    """Check ``users import``'s inputs (the default OU, where generated passwords go) before any traffic."""
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
    return UsersImportSettings(
        directory, csv_path, default_dn, passwords_out, update=update, default_given=default_ou is not None
    )


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


def check_directory(session: LdapSession, settings: UsersImportSettings, index: CsvIndex) -> dict[str, str]:
    """Group DNs by casefolded name. Rows naming an OU or group that does not exist raise
    :class:`UsersCsvError` (every such row, found by reading the file again), before any write."""
    missing_ous = index.ous - existing_dns(session, index.ous)
    found = find_by_sam(
        session, settings.directory.base_dn, index.group_names.values(), (), object_class="group"
    )
    groups = {k: e.dn for k, e in found.items()}
    missing_groups = index.group_names.keys() - groups.keys()
    if not missing_ous and not missing_groups:
        return groups
    problems: list[RowProblem] = []
    base = settings.directory.base_dn
    for user in iter_valid_users(settings.csv_path, base_dn=base, default_dn=settings.default_dn):
        if user.ou_dn in missing_ous:
            problems.append(
                RowProblem(user.line, f"the OU {user.ou_dn} does not exist (create it with adprep ou create)")
            )
        for g in user.groups:
            if g.casefold() in missing_groups:
                name = index.group_names[g.casefold()]
                problems.append(RowProblem(user.line, f"the group {name!r} does not exist"))
    raise UsersCsvError(settings.csv_path, tuple(problems))


class PasswordsFile:
    """The ``--passwords-out`` CSV: ``sAMAccountName,password`` rows, mode 0600, appended to.

    Nothing a crash can lose: the generated passwords of a chunk are appended in one write and
    fsynced by the chunk's first change (:mod:`adprep.prep.passwords`), which every add that sets one
    of them depends on, so a run killed at any point (or a machine losing power)
    never leaves a created user whose password is not in the file, and a later run reuses the
    password the file holds for a user still missing. The last row of a user wins; a row with an
    empty password withdraws the ones before it (the run that wrote them found the user created by
    someone else meanwhile, so that password was never set). A last line without its line end (a
    write cut off) is ignored, and ended before anything more is appended. With ``lock`` (a run
    that writes), the file is locked from reading to :meth:`close`, so two imports that write the
    same file take turns: the second waits (``on_wait`` is told first) and plans after the first.
    """

    def __init__(self, path: Path, *, lock: bool = False, on_wait: Callable[[], None] | None = None) -> None:
        self.path = path
        self.known: dict[str, str] = {}
        self._fd: int | None = None
        self._torn = False
        self._pending: dict[str, tuple[str, Secret]] = {}
        """Generated passwords of the chunk being planned (see :meth:`save_change`)."""
        if lock:
            self._fd = self._open()
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        if self._fd is not None or path.exists():
            self._read()

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
            os.fchmod(fd, 0o600)
        except OSError as e:
            raise InputError(
                f"Cannot write {self.path}: {e.strerror or e}", hint="Check the path and its permissions."
            ) from None
        return fd

    def _read(self) -> None:
        try:
            if self._fd is not None:
                size = os.fstat(self._fd).st_size
                data = os.pread(self._fd, size, 0) if size else b""
            else:
                data = self.path.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"Cannot read the passwords file {self.path}: {e}") from None
        if text and not text.endswith("\n"):
            self._torn = True
            text = text[: text.rfind("\n") + 1]
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) != 2 or row[0] == "sAMAccountName":
                continue
            if row[1]:
                self.known[row[0].casefold()] = row[1]
            else:
                self.known.pop(row[0].casefold(), None)

    def password_for(self, user: CsvUser) -> Secret:
        """``user``'s password: the row's, else the one the file holds, else a new one (to be saved)."""
        if user.password is not None:
            return user.password
        reused = self.known.get(user.key)
        if reused is not None:
            return Secret(reused, f"file:{self.path}")
        secret = Secret(generate_password(), "generated")
        self._pending[user.key] = (user.sam, secret)
        return secret

    def start_chunk(self) -> None:
        """A new chunk is being planned: generated passwords planned before and never applied (a
        dry run) are dropped, so memory does not grow with the file."""
        self._pending.clear()

    def save_change(self) -> SavePasswords | None:
        """The chunk's generated passwords, to save before its adds (None: it generated none)."""
        if not self._pending:
            return None
        sams, secrets = zip(*self._pending.values(), strict=True)
        return SavePasswords(str(self.path), tuple(sams), tuple(secrets))

    def on_exists(self, user: CsvUser) -> Callable[[], None] | None:
        """What to do when the user turns out created by someone else: withdraw our password."""
        if user.password is not None:
            return None
        return lambda: self.withdraw(user.sam)

    def save(self, p: SavePasswords) -> None:
        """Append ``p``'s rows in one write, fsynced (the applier of the chunk's save change)."""
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        for sam, secret in zip(p.accounts, p.passwords, strict=True):
            writer.writerow([sam, secret.reveal()])
        self._append(buf.getvalue())
        # Not kept in ``known``: each row is planned once, and memory must not grow with the file.
        self._pending.clear()

    def appliers(self) -> Appliers:
        """The applier of this file's save changes."""
        return Appliers().on(SavePasswords, self.save)

    def withdraw(self, sam: str) -> None:
        """Append a row with an empty password for ``sam``: the one saved before was never set."""
        self.known.pop(sam.casefold(), None)
        buf = io.StringIO(newline="")
        csv.writer(buf).writerow([sam, ""])
        self._append(buf.getvalue())

    def _append(self, text: str) -> None:
        if self._fd is None:
            self._fd = self._open()
        fd = self._fd
        if os.fstat(fd).st_size == 0:
            text = "sAMAccountName,password\r\n" + text
        elif self._torn:
            text = "\r\n" + text
        self._torn = False
        data = memoryview(text.encode("utf-8"))
        try:
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        except OSError as e:
            raise InputError(f"Cannot write {self.path}: {e.strerror or e}", hint="Check the disk.") from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None


#: Rows planned and applied at a time: enough for batched lookups (``BATCH`` names per search),
#: small enough that a chunk's plan (payloads, outcomes) is a bounded amount of memory.
CHUNK = 500


@dataclass(frozen=True)
class UsersChunk:
    """One chunk of the import: its plan and, unless a dry run, what applying it did."""

    plan: Plan
    result: ApplyResult | None
    rows: int
    """CSV rows it covers."""


def _chunks(users: Iterator[CsvUser], size: int) -> Iterator[list[CsvUser]]:
    chunk: list[CsvUser] = []
    for user in users:
        chunk.append(user)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _observed(entry: Entry) -> ObservedUser:
    def text(name: str) -> str | None:
        value = entry.first(name)
        return str(value) if value is not None else None

    return ObservedUser(
        entry.dn,
        str(entry.first("sAMAccountName")),
        casefolded(entry.all("memberOf")),
        mail=text("mail"),
        given_name=text("givenName"),
        sn=text("sn"),
    )


def plan_users_chunks(
    session: LdapSession,
    settings: UsersImportSettings,
    groups: dict[str, str],
    passwords: PasswordsFile | None,
    *,
    chunk_size: int | None = None,
) -> Iterator[tuple[Plan, int]]:
    """Observe and plan ``chunk_size`` rows at a time, yielding each plan and the rows it covers
    (lazily: a chunk is observed once the caller asks for it, i.e. after the one before was
    applied). ``groups`` is :func:`check_directory`'s."""
    base = settings.directory.base_dn

    def password_for(user: CsvUser) -> Secret:
        if passwords is not None:
            return passwords.password_for(user)
        if user.password is None:  # pragma: no cover - validate_users_file refuses this
            raise InputError("A generated password needs --passwords-out")
        return user.password

    numbered: dict[str, int] = {}
    rows = iter_valid_users(settings.csv_path, base_dn=base, default_dn=settings.default_dn)
    for chunk, users in enumerate(_chunks(rows, chunk_size or CHUNK), start=1):
        if passwords is not None:
            passwords.start_chunk()
        found = find_by_sam(session, base, (u.key for u in users), ("memberOf", *UPDATED_ATTRIBUTES))
        observed = {k: _observed(e) for k, e in found.items()}
        plan = plan_users(
            users,
            observed,
            groups,
            domain=settings.directory.domain,
            password_for=password_for,
            on_exists=passwords.on_exists if passwords is not None else None,
            numbering_from=numbered,
            update=settings.update,
            move_to_default=settings.default_given,
        )
        save = passwords.save_change() if passwords is not None else None
        if save is not None:  # on disk before the chunk's first add (ids unique across chunks)
            plan = save_passwords_first(plan, save, id_suffix=f"#{chunk}")
        for change in plan.changes:
            if change.action == ACTION_ADD_MEMBERS:
                numbered[change.target] = numbered.get(change.target, 0) + 1
        yield plan, len(users)


def apply_users_import(
    session: LdapSession,
    plan: Plan,
    passwords: PasswordsFile | None = None,
    *,
    on_done: Callable[[Outcome], None] | None = None,
) -> ApplyResult:
    """Apply one chunk's plan: its LDAP writes, and its save to ``passwords`` when it generated some."""
    appliers = ldap_appliers(session)
    if passwords is not None:
        appliers = appliers.merged(passwords.appliers())
    return apply_plan(plan, appliers, on_done=on_done)


def run_users_import(
    session: LdapSession,
    settings: UsersImportSettings,
    index: CsvIndex,
    passwords: PasswordsFile | None,
    *,
    dry_run: bool,
    chunk_size: int | None = None,
) -> Iterator[UsersChunk]:
    """Check the OUs and groups (raises :class:`UsersCsvError` before anything is written), then
    plan and (unless ``dry_run``) apply chunk by chunk. A failed change does not stop the others."""
    groups = check_directory(session, settings, index)
    for plan, rows in plan_users_chunks(session, settings, groups, passwords, chunk_size=chunk_size):
        result = None if dry_run or plan.empty else apply_users_import(session, plan, passwords)
        yield UsersChunk(plan, result, rows)
