"""The users import's passwords file under faults: what a killed run left is read right, a chunk's
passwords are one save change written in one append, a password withdrawn is not reused, two runs
take turns; and an add that finds its object created by another run adopts it."""

from __future__ import annotations

import csv
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from adprep.ad.users_csv import CsvUser
from adprep.errors import LdapError
from adprep.jobs.users import PasswordsFile
from adprep.prep.ldap_apply import apply_add
from adprep.prep.ldap_writes import USER_CLASSES, AddEntry
from adprep.secret import Secret
from adprep.transport.ldap import Entry


def _user(sam: str, password: str | None = None) -> CsvUser:
    return CsvUser(
        line=2, sam=sam, given_name="", sn="", mail="", ou_dn="CN=Users,DC=x", groups=(),
        password=Secret(password, "csv") if password else None,
    )  # fmt: skip


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _save(f: PasswordsFile) -> None:
    """Apply the chunk's save change, as apply_users_import does."""
    save = f.save_change()
    assert save is not None
    f.save(save)


def test_a_chunk_is_one_save_change_written_in_one_append(tmp_path: Path) -> None:
    out = tmp_path / "pw.csv"
    f = PasswordsFile(out, lock=True)
    f.start_chunk()
    generated = [f.password_for(u) for u in (_user("a"), _user("b"))]
    assert f.password_for(_user("c", "Given-Pass1")).reveal() == "Given-Pass1"  # given: not saved
    save = f.save_change()
    assert save is not None and save.accounts == ("a", "b") and save.passwords == tuple(generated)
    assert out.read_bytes() == b""  # nothing yet: the lock created the file, empty and 0600
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    f.save(save)  # the chunk's save change writes the whole chunk
    rows = _rows(out)
    assert rows[0] == ["sAMAccountName", "password"] and [r[0] for r in rows[1:]] == ["a", "b"]
    assert f.save_change() is None  # nothing left to save
    f.close()
    # A later run reuses them for users still missing (no new row)
    g = PasswordsFile(out, lock=True)
    assert g.password_for(_user("a")).reveal() == rows[1][1]
    assert g.save_change() is None
    g.close()


def test_a_dry_run_chunk_leaves_nothing_pending(tmp_path: Path) -> None:
    f = PasswordsFile(tmp_path / "pw.csv")
    f.start_chunk()
    f.password_for(_user("a"))
    f.start_chunk()
    assert f.save_change() is None
    assert not (tmp_path / "pw.csv").exists()


def test_a_torn_last_line_is_ignored_and_ended_before_appending(tmp_path: Path) -> None:
    out = tmp_path / "pw.csv"
    # Given a run killed in the middle of writing b's row
    out.write_bytes(b"sAMAccountName,password\r\na,Full-Passw0rd-a\r\nb,Trunc")
    f = PasswordsFile(out, lock=True)
    assert f.known == {"a": "Full-Passw0rd-a"}
    f.start_chunk()
    new = f.password_for(_user("b")).reveal()
    _save(f)
    f.close()
    assert _rows(out)[-2:] == [["b", "Trunc"], ["b", new]]
    assert PasswordsFile(out).known["b"] == new


def test_a_withdrawn_password_is_not_reused(tmp_path: Path) -> None:
    out = tmp_path / "pw.csv"
    f = PasswordsFile(out, lock=True)
    f.start_chunk()
    user = _user("a")
    f.password_for(user)
    _save(f)
    withdraw = f.on_exists(user)
    assert withdraw is not None and f.on_exists(_user("c", "Given-Pass1")) is None
    withdraw()  # another run created "a" first
    f.close()
    assert _rows(out)[-1] == ["a", ""]
    assert "a" not in PasswordsFile(out).known


def test_two_runs_writing_one_file_take_turns(tmp_path: Path) -> None:
    out = tmp_path / "pw.csv"
    first = PasswordsFile(out, lock=True)
    waited = threading.Event()
    got: list[PasswordsFile] = []
    t = threading.Thread(target=lambda: got.append(PasswordsFile(out, lock=True, on_wait=waited.set)))
    t.start()
    assert waited.wait(5)
    time.sleep(0.05)
    assert not got  # still waiting for the first run
    first.start_chunk()
    pw = first.password_for(_user("a")).reveal()
    _save(first)
    first.close()
    t.join(5)
    assert got and got[0].known == {"a": pw}  # it read the file after the first run
    got[0].close()


class _Session:
    """An LDAP session whose add answers entryAlreadyExists, and the object found there."""

    def __init__(self, found: Entry | None) -> None:
        self.found = found

    def add(self, dn: str, object_class: Any, attributes: Any) -> None:
        raise LdapError(f"Creating {dn} failed", code=68, result="entryAlreadyExists")

    def get(self, dn: str, attributes: Any = ("*",), **_: Any) -> Entry | None:
        return self.found


def _add(session: _Session, on_exists: Any = None) -> None:
    dn = "CN=a,CN=Users,DC=x"
    payload = AddEntry(dn, USER_CLASSES, {"sAMAccountName": "a"}, on_exists=on_exists)
    apply_add(session, payload)  # type: ignore[arg-type]


def test_an_add_that_finds_the_same_user_adopts_it() -> None:
    seen: list[str] = []
    same = Entry("CN=a,CN=Users,DC=x", {"objectClass": list(USER_CLASSES), "sAMAccountName": ["A"]})
    _add(_Session(same), on_exists=lambda: seen.append("withdrawn"))
    assert seen == ["withdrawn"]


@pytest.mark.parametrize(
    "found",
    [
        None,  # the sAMAccountName is taken elsewhere
        Entry("CN=a,CN=Users,DC=x", {"objectClass": ["top", "group"], "sAMAccountName": ["a"]}),
        Entry("CN=a,CN=Users,DC=x", {"objectClass": list(USER_CLASSES), "sAMAccountName": ["b"]}),
    ],
)
def test_an_add_that_finds_something_else_fails(found: Entry | None) -> None:
    with pytest.raises(LdapError) as e:
        _add(_Session(found), on_exists=lambda: pytest.fail("not ours: nothing to withdraw"))
    assert e.value.code == 68
