"""The users CSV that ``adprep users import`` reads: columns, streaming parse, row validation.

The file is read as a stream (one row in memory at a time) so that validating or importing a large
file does not grow with it. What validation keeps is compact: an 8-byte digest per name (about 10
bytes a row, for duplicates; a second pass names the lines only when a digest repeats), the
distinct OUs and groups, and the bad rows. Columns (header names are matched without regard to
case; only ``sAMAccountName`` is required):

``sAMAccountName``  the logon name (1-20 characters, MS-ADTS 3.1.1.5.2.2); also the object's CN
``givenName``, ``sn``, ``mail``  optional attributes
``ou``  an OU path written top-down (``WorkSpaces/Users``) or a DN; empty: the default container
``groups``  group names (sAMAccountName) separated by ``;``
``password``  the initial password; empty: generate one (needs ``--passwords-out``)

UTF-8 with or without a byte-order mark (Excel writes one), RFC 4180 / Excel quoting, comma or
semicolon separators (Excel in many locales saves with ``;``), blank lines ignored.
"""

from __future__ import annotations

import csv
import hashlib
import io
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from adprep.ad.dn import dn_equal, is_descendant, ou_path_to_dn, parse_dn
from adprep.ad.names import check_password, validate_sam_account_name
from adprep.errors import InputError
from adprep.requirements import PASSWORD_MAX
from adprep.secret import Secret

if TYPE_CHECKING:
    from _csv import Reader as _CsvReader

COLUMNS = ("sAMAccountName", "givenName", "sn", "mail", "ou", "groups", "password")
_BY_KEY = {c.casefold(): c for c in COLUMNS}
#: MS-ADA3 rangeUpper: givenName and sn 64, mail 256; a group's sAMAccountName 256.
_MAX_LEN = {"givenName": 64, "sn": 64, "mail": 256}
_GROUP_NAME_MAX = 256
GROUP_SEPARATOR = ";"


@dataclass(frozen=True)
class CsvUser:
    """One valid row."""

    line: int
    """The line the row starts on (1 is the header)."""
    sam: str
    given_name: str
    sn: str
    mail: str
    ou_dn: str
    """The DN of the container the user goes in."""
    groups: tuple[str, ...]
    password: Secret | None = field(default=None, repr=False)
    """``None``: generate one."""
    ou_from_row: bool = True
    """Whether the row's ``ou`` cell named the container (else it is the default)."""

    @property
    def key(self) -> str:
        return self.sam.casefold()


@dataclass(frozen=True)
class RowProblem:
    """One bad row: its line number and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class UsersCsvError(InputError):
    """The users file has bad rows; ``problems`` lists every one."""

    def __init__(self, path: Path, problems: tuple[RowProblem, ...]) -> None:
        n = len(problems)
        super().__init__(
            f"{path} has {n} bad row{'s' if n != 1 else ''} (first: {problems[0]}); nothing was written",
            hint="Fix every row listed and run the import again.",
        )
        self.path = path
        self.problems = problems


def name_digest(key: str) -> int:
    """A 64-bit blake2b digest of a casefolded name: what the duplicate check keeps per row."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


class NameDigests:
    """A set of :func:`name_digest` values in sorted arrays, one per 12-bit prefix.

    About 8-10 bytes a name, where a ``set`` of ints or of 8-byte ``bytes`` costs 60-70: a file of
    100,000 rows keeps about 1 MB. Bisecting a bucket keeps each add O(log n) plus a small move.
    """

    _SHIFT = 64 - 12

    def __init__(self) -> None:
        self._buckets: dict[int, array[int]] = {}
        self._count = 0

    def add(self, digest: int) -> bool:
        """Add ``digest``; ``True`` when it was already there."""
        bucket = self._buckets.get(digest >> self._SHIFT)
        if bucket is None:
            bucket = self._buckets[digest >> self._SHIFT] = array("Q")
        i = bisect_left(bucket, digest)
        if i < len(bucket) and bucket[i] == digest:
            return True
        bucket.insert(i, digest)
        self._count += 1
        return False

    def __len__(self) -> int:
        return self._count


@dataclass
class CsvIndex:
    """What the validation pass keeps: a digest per row, the distinct OUs and groups, the bad rows."""

    rows: int = 0
    generated: int = 0
    """Rows without a password (one is generated for each new user)."""
    names: NameDigests = field(default_factory=NameDigests)
    """:func:`name_digest` of every casefolded sAMAccountName."""
    ous: set[str] = field(default_factory=set)
    """OU DNs (as built) that rows put a user in."""
    group_names: dict[str, str] = field(default_factory=dict)
    """casefolded group name -> the name as first written."""
    problems: list[RowProblem] = field(default_factory=list)


def _open(path: Path) -> io.TextIOWrapper:
    try:
        # utf-8-sig drops a leading BOM if there is one; newline="" is what the csv module needs
        # to keep line breaks inside quoted fields (RFC 4180 2.6).
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror or e}", hint="Check the path.") from None


def _header(path: Path, first_line: str) -> tuple[str, list[str]]:
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    names = next(csv.reader([first_line], delimiter=delimiter), [])
    columns: list[str] = []
    for raw in names:
        key = raw.strip().casefold()
        if key not in _BY_KEY:
            raise InputError(
                f"{path}: the header has an unknown column {raw.strip()!r}",
                hint=f"Use these column names: {', '.join(COLUMNS)}.",
            )
        if _BY_KEY[key] in columns:
            raise InputError(f"{path}: the column {raw.strip()!r} appears twice in the header")
        columns.append(_BY_KEY[key])
    if "sAMAccountName" not in columns:
        raise InputError(
            f"{path}: the header has no sAMAccountName column",
            hint=f"The first line must name the columns: {', '.join(COLUMNS)} (only sAMAccountName is required).",
        )
    return delimiter, columns


def _data_rows(reader: _CsvReader) -> Iterator[tuple[int, list[str]] | RowProblem]:
    """The rows after the header line, blank ones skipped, each with its 1-based line number; a row
    that is not valid CSV ends them as a :class:`RowProblem`."""
    while True:
        start = reader.line_num + 2  # +1 for the header line read before, +1 for 1-based
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield RowProblem(start, f"the row is not valid CSV ({e})")
            return
        if values and any(v.strip() for v in values):
            yield start, values


def read_users_csv(path: Path, *, base_dn: str, default_dn: str) -> Iterator[CsvUser | RowProblem]:
    """Stream the rows of ``path``: each is a :class:`CsvUser` or a :class:`RowProblem`.

    Header problems and undecodable bytes raise :class:`InputError`. Duplicates across rows are
    not seen here (see :func:`index_users_csv`).
    """
    with _open(path) as f:
        try:
            first = f.readline()
            if not first.strip():
                raise InputError(
                    f"{path} is empty", hint=f"The first line must name the columns: {', '.join(COLUMNS)}."
                )
            delimiter, columns = _header(path, first)
            for row in _data_rows(csv.reader(f, delimiter=delimiter, strict=True)):
                if isinstance(row, RowProblem):
                    yield row
                else:
                    yield _row(row[0], columns, row[1], base_dn=base_dn, default_dn=default_dn)
        except UnicodeDecodeError as e:
            raise InputError(
                f"{path} is not UTF-8 text (byte {e.start} of a block cannot be decoded)",
                hint="Save the file as 'CSV UTF-8' (Excel) or convert it with iconv.",
            ) from None


def _row(
    line: int, columns: list[str], values: list[str], *, base_dn: str, default_dn: str
) -> CsvUser | RowProblem:
    if len(values) > len(columns):
        return RowProblem(
            line, f"the row has {len(values)} fields but the header names {len(columns)} columns"
        )
    cell = {c: (values[i] if i < len(values) else "") for i, c in enumerate(columns)}
    reasons: list[str] = []
    for name, value in cell.items():
        if name != "password" and any(ord(ch) < 0x20 for ch in value):
            reasons.append(f"{name} contains a control character or line break")
    sam = cell["sAMAccountName"].strip()
    try:
        validate_sam_account_name(sam)
    except InputError as e:
        reasons.append(e.sentence())
    attrs = {k: cell.get(k, "").strip() for k in ("givenName", "sn", "mail")}
    for name, value in attrs.items():
        if len(value) > _MAX_LEN[name]:
            reasons.append(
                f"{name} is {len(value)} characters long; Active Directory allows {_MAX_LEN[name]}"
            )
    mail = attrs["mail"]
    if mail and (mail.count("@") != 1 or mail.startswith("@") or mail.endswith("@") or " " in mail):
        reasons.append(f"mail {mail!r} is not an e-mail address")
    ou_dn = default_dn
    ou_text = cell.get("ou", "").strip()
    if ou_text:
        try:
            if "=" in ou_text:
                parse_dn(ou_text)
                if not is_descendant(ou_text, base_dn) or dn_equal(ou_text, base_dn):
                    raise InputError(f"the OU {ou_text!r} is not inside the domain {base_dn}")
                ou_dn = ou_text
            else:
                ou_dn = ou_path_to_dn(ou_text, base_dn)
        except InputError as e:
            reasons.append(e.sentence())
    groups = tuple(g.strip() for g in cell.get("groups", "").split(GROUP_SEPARATOR) if g.strip())
    for g in groups:
        if len(g) > _GROUP_NAME_MAX:
            reasons.append(f"the group name {g[:20]!r}… is longer than {_GROUP_NAME_MAX} characters")
    password_text = cell.get("password", "")
    password = None
    if password_text:
        check = check_password(password_text, account_name=sam)
        if len(password_text) > PASSWORD_MAX or not check.console_ok:
            # The reasons describe the password's shape (length, classes), never its characters.
            reasons.append("password: " + " ".join(check.problems))
        password = Secret(password_text, f"csv line {line}")
    if reasons:
        return RowProblem(line, "; ".join(reasons))
    return CsvUser(
        line=line, sam=sam, given_name=attrs["givenName"], sn=attrs["sn"], mail=mail, ou_dn=ou_dn,
        groups=groups, password=password, ou_from_row=bool(ou_text),
    )  # fmt: skip


def index_users_csv(path: Path, *, base_dn: str, default_dn: str) -> CsvIndex:
    """The validation pass: every row checked, duplicates found, the distinct OUs and groups gathered.

    Duplicates are found by digest; only when one repeats does a second pass read the file again
    to name the lines (and to tell a real duplicate from a digest collision, which is harmless).
    """
    index = CsvIndex()
    repeated: set[int] = set()
    for item in read_users_csv(path, base_dn=base_dn, default_dn=default_dn):
        if isinstance(item, RowProblem):
            index.problems.append(item)
            continue
        index.rows += 1
        digest = name_digest(item.key)
        if index.names.add(digest):
            repeated.add(digest)
            continue
        index.ous.add(item.ou_dn)
        for g in item.groups:
            index.group_names.setdefault(g.casefold(), g)
        if item.password is None:
            index.generated += 1
    if repeated:
        index.problems.extend(_duplicates(path, repeated, base_dn=base_dn, default_dn=default_dn))
    return index


def _duplicates(path: Path, digests: set[int], *, base_dn: str, default_dn: str) -> Iterator[RowProblem]:
    """The second pass: the rows whose name repeats an earlier row's, among names with these digests."""
    first: dict[str, int] = {}
    for item in read_users_csv(path, base_dn=base_dn, default_dn=default_dn):
        if isinstance(item, RowProblem) or name_digest(item.key) not in digests:
            continue
        line = first.setdefault(item.key, item.line)
        if line != item.line:
            yield RowProblem(item.line, f"{item.sam!r} is already on line {line}")


def read_user_names(path: Path) -> Iterator[tuple[int, str] | RowProblem]:
    """Stream the ``sAMAccountName`` column of ``path`` as ``(line, name)`` or a :class:`RowProblem`
    (an empty name, a control character, a row that is not valid CSV).

    For ``adprep users check --csv``: any header that names a ``sAMAccountName`` column will do and
    other columns are ignored, so the users import file works as it is. Encoding, quoting and
    separators as for :func:`read_users_csv`; a header without the column raises :class:`InputError`.
    """
    with _open(path) as f:
        try:
            first = f.readline()
            delimiter = ";" if first.count(";") > first.count(",") else ","
            header = [h.strip().casefold() for h in next(csv.reader([first], delimiter=delimiter), [])]
            if "samaccountname" not in header:
                raise InputError(
                    f"{path}: the header has no sAMAccountName column",
                    hint="The first line must name the columns, one of them sAMAccountName.",
                )
            column = header.index("samaccountname")
            for row in _data_rows(csv.reader(f, delimiter=delimiter, strict=True)):
                if isinstance(row, RowProblem):
                    yield row
                    continue
                start, values = row
                name = values[column].strip() if column < len(values) else ""
                if not name:
                    yield RowProblem(start, "the sAMAccountName cell is empty")
                elif any(ord(ch) < 0x20 for ch in name):
                    yield RowProblem(start, "sAMAccountName contains a control character or line break")
                else:
                    yield start, name
        except UnicodeDecodeError as e:
            raise InputError(
                f"{path} is not UTF-8 text (byte {e.start} of a block cannot be decoded)",
                hint="Save the file as 'CSV UTF-8' (Excel) or convert it with iconv.",
            ) from None


def iter_valid_users(path: Path, *, base_dn: str, default_dn: str) -> Iterator[CsvUser]:
    """The rows again, after :func:`index_users_csv` found no problem (the import's second pass)."""
    for item in read_users_csv(path, base_dn=base_dn, default_dn=default_dn):
        if isinstance(item, RowProblem):  # pragma: no cover - validated before
            raise InputError(f"{path} changed while it was being imported", hint="Run the import again.")
        yield item
