"""The users CSV: Excel's quirks (BOM, quoting, ;), every bad row with its line, streaming."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from adprep.ad.users_csv import (
    CsvUser,
    NameDigests,
    RowProblem,
    index_users_csv,
    name_digest,
    read_users_csv,
)
from adprep.errors import InputError
from tests.conftest import FIXTURES

BASE = "DC=lab,DC=example"
DEFAULT = f"CN=Users,{BASE}"


def read(path: Path) -> list[CsvUser | RowProblem]:
    return list(read_users_csv(path, base_dn=BASE, default_dn=DEFAULT))


def test_excel_file_with_bom_quotes_and_blank_lines() -> None:
    # Given a file saved by Excel: BOM, CRLF, quoted commas and doubled quotes, a blank line
    rows = read(FIXTURES / "prep" / "users-excel-bom.csv")
    # Then every row parses, with the line it starts on
    assert all(isinstance(r, CsvUser) for r in rows)
    users = [r for r in rows if isinstance(r, CsvUser)]
    assert [u.sam for u in users] == ["jdoe", "mmuster", "a.b_c-d", "#lead"]
    assert [u.line for u in users] == [2, 3, 5, 6]
    jdoe, mm, abc, lead = users
    assert jdoe.ou_dn == f"OU=Users,OU=WorkSpaces,{BASE}" and jdoe.groups == ("WS-Users",)
    assert jdoe.password is not None and "Xy12" not in repr(jdoe)
    assert mm.given_name == "Müller, Max" and mm.sn == 'O"Brien' and mm.password is None
    # And OU names are escaped as DN components (comma, plus)
    assert mm.ou_dn == f"OU=Team\\+1,OU=Sales\\, EMEA,{BASE}"
    assert abc.groups == ("WS-Users", "Other Group") and abc.ou_dn == DEFAULT
    assert lead.sam == "#lead"


def test_semicolon_separated_file(tmp_path: Path) -> None:
    rows = read(FIXTURES / "prep" / "users-semicolon.csv")
    assert [(r.sam, r.given_name) for r in rows if isinstance(r, CsvUser)] == [("jdoe", "Jöhn")]


def test_every_bad_row_is_listed_with_its_line_and_reason() -> None:
    # Given a file with one good row and many kinds of bad ones (one spanning two lines)
    index = index_users_csv(FIXTURES / "prep" / "users-bad.csv", base_dn=BASE, default_dn=DEFAULT)
    problems = {p.line: p.reason for p in index.problems}
    # Then each bad row is reported at the line it starts on
    assert sorted(problems) == [3, 4, 5, 6, 7, 9, 10, 11]
    assert "20" in problems[3]
    assert "forbids" in problems[4]
    assert "already on line 2" in problems[5]
    assert "e-mail" in problems[6]
    assert "control character" in problems[7]
    assert "empty component" in problems[9]
    assert problems[10].startswith("password:") and "short" not in problems[10]
    assert "8 fields" in problems[11]


@pytest.mark.parametrize(
    ("header", "message"),
    [("givenName,sn\n", "no sAMAccountName"), ("sAMAccountName,phone\n", "unknown column"), ("", "empty")],
)
def test_header_problems_are_input_errors(tmp_path: Path, header: str, message: str) -> None:
    f = tmp_path / "u.csv"
    f.write_text(header + "x,y\n" if header else "\n")
    with pytest.raises(InputError, match=message):
        read(f)


def test_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_bytes(b"sAMAccountName,sn\njdoe,M\xfcller\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read(f)


def test_a_dn_in_the_ou_column_must_be_inside_the_domain(tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_text('sAMAccountName,ou\na,"OU=X,DC=other,DC=com"\nb,"OU=Y,DC=lab,DC=example"\n')
    rows = read(f)
    assert isinstance(rows[0], RowProblem) and "not inside" in rows[0].reason
    assert isinstance(rows[1], CsvUser) and rows[1].ou_dn == "OU=Y,DC=lab,DC=example"


def _peak_reading(path: Path, n: int) -> int:
    with path.open("w", encoding="utf-8") as f:
        f.write("sAMAccountName,givenName,sn,mail,ou,groups,password\n")
        for i in range(n):
            f.write(f"user{i:07d},Given{i},Sn{i},u{i}@lab.example,WorkSpaces/Users,G1;G2,\n")
    tracemalloc.start()
    count = sum(1 for _ in read_users_csv(path, base_dn=BASE, default_dn=DEFAULT))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    return peak


def test_reading_streams_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    # Given files of 2,000 and 20,000 rows, when each is read row by row
    small = _peak_reading(tmp_path / "s.csv", 2_000)
    large = _peak_reading(tmp_path / "l.csv", 20_000)
    # Then the peak is about the same (one row at a time), not ten times larger
    assert large < small * 1.5 + 64_000


def test_duplicates_are_found_by_digest_and_named_by_a_second_pass(tmp_path: Path) -> None:
    # Given a file where a name repeats (in another case) twice, far from its first row
    f = tmp_path / "u.csv"
    rows = [f"u{i},G,S,,,,Xy12-abcdEFG\n" for i in range(300)] + ["U7,G,S,,,,Xy12-abcdEFG\n"] * 2
    f.write_text("sAMAccountName,givenName,sn,mail,ou,groups,password\n" + "".join(rows))
    index = index_users_csv(f, base_dn=BASE, default_dn=DEFAULT)
    # Then each repeat points at the first line; the state kept is one digest per distinct name
    assert [(p.line, p.reason) for p in index.problems] == [
        (302, "'U7' is already on line 9"),
        (303, "'U7' is already on line 9"),
    ]
    assert len(index.names) == 300 and index.ous == {DEFAULT}


def test_name_digests_answer_membership_exactly() -> None:
    digests = NameDigests()
    values = [name_digest(f"user{i}") for i in range(5_000)]
    assert not any(digests.add(d) for d in values)
    assert all(digests.add(d) for d in values) and len(digests) == 5_000
    assert not digests.add(name_digest("someone-else"))


def test_validation_state_does_not_grow_like_the_file(tmp_path: Path) -> None:
    # Given files of 5,000 and 25,000 valid rows (past the digest buckets' fixed cost), validated
    peaks = []
    for n in (5_000, 25_000):
        path = tmp_path / f"{n}.csv"
        with path.open("w", encoding="utf-8") as f:
            f.write("sAMAccountName,ou,groups,password\n")
            f.writelines(f"user{i:07d},WorkSpaces/Users,G1;G2,Xy12-abcdEFG\n" for i in range(n))
        tracemalloc.start()
        index = index_users_csv(path, base_dn=BASE, default_dn=DEFAULT)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert index.rows == n and not index.problems
    # Then 20,000 more rows cost about 8-10 bytes each (a digest), not an index entry per row
    assert peaks[1] - peaks[0] < 20_000 * 20 + 64_000, peaks
