"""WorkSpaces-ready users: each problem found from raw attribute values, one result per problem kind
with every name in its facts, and memory that holds only the names of users with a problem."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adprep.ad.account_flags import NEVER, UserAccountControl, datetime_to_filetime
from adprep.ad.names import workspaces_user_name_problem
from adprep.ad.users_csv import RowProblem, read_user_names
from adprep.checks.users import TITLE_NAMES_MAX, UsersTally, check_users, classify_user
from adprep.errors import InputError
from adprep.facts.users import PROBLEMS, PasswordPolicy, UserFacts, UsersFacts
from adprep.model import Status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POLICY = PasswordPolicy(max_pwd_age=timedelta(days=42), lockout_duration=timedelta(minutes=30))
NORMAL = int(UserAccountControl.NORMAL_ACCOUNT)
SET = datetime_to_filetime(NOW - timedelta(days=1))


def user(sam: str = "jdoe", **kw: object) -> UserFacts:
    values: dict[str, object] = {
        "dn": f"CN={sam},OU=WS,DC=lab,DC=example",
        "sam": sam,
        "mail": f"{sam}@lab.example",
        "user_account_control": NORMAL,
        "pwd_last_set": SET,
        "account_expires": NEVER,
    }
    values.update(kw)
    return UserFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, set()),
        ({"mail": None}, {"mail"}),
        ({"mail": "  "}, {"mail"}),
        ({"pwd_last_set": 0}, {"must_change_password"}),
        # 'Password never expires' lifts the forced change (as ADUC shows it)
        ({"pwd_last_set": 0, "user_account_control": NORMAL | 0x10000}, set()),
        ({"user_account_control": NORMAL | 0x2}, {"disabled"}),
        ({"lockout_time": datetime_to_filetime(NOW - timedelta(minutes=5))}, {"locked"}),
        ({"lockout_time": datetime_to_filetime(NOW - timedelta(hours=2))}, set()),  # the lockout has ended
        ({"computed_uac": 0x10}, {"locked"}),  # the DC's own verdict wins
        ({"account_expires": datetime_to_filetime(NOW - timedelta(days=1))}, {"expired"}),
        ({"account_expires": 0}, set()),
        ({"pwd_last_set": datetime_to_filetime(NOW - timedelta(days=43))}, {"password_expired"}),
        ({"sam": "a" * 21}, {"name"}),
        ({"sam": "jdoe."}, {"name"}),
        ({"sam": "j[doe]"}, {"name"}),
        # out-of-range times do not crash: judged on the flags
        ({"lockout_time": 2**63 - 1, "user_account_control": NORMAL | 0x2}, {"disabled"}),
    ],
)
def test_each_problem_is_found_from_raw_values(changes: dict[str, object], expected: set[str]) -> None:
    # Given a healthy user with one thing changed, When it is classified, Then exactly that problem
    assert set(classify_user(user(**changes), NOW, POLICY)) == expected  # type: ignore[arg-type]


def test_a_user_can_have_several_problems_at_once() -> None:
    found = classify_user(
        user("x" * 25, mail=None, pwd_last_set=0, user_account_control=NORMAL | 0x2), NOW, POLICY
    )
    assert set(found) == {"mail", "must_change_password", "disabled", "name"}
    assert "25 characters" in (found["name"] or "")


def test_workspaces_user_name_rules() -> None:
    assert workspaces_user_name_problem("jdoe") is None
    assert workspaces_user_name_problem("j.doe-2_x") is None
    assert "63" in (workspaces_user_name_problem("a" * 64) or "")
    assert "20" in (workspaces_user_name_problem("a" * 21) or "")
    assert "forbids" in (workspaces_user_name_problem("DOMAIN\\jdoe") or "")
    assert "forbids" in (workspaces_user_name_problem("jdoe@corp") or "")
    assert "period" in (workspaces_user_name_problem("jdoe.") or "")


def _facts(tally: UsersTally, **kw: object) -> UsersFacts:
    values: dict[str, object] = {
        "scope": "ou",
        "base_dn": "OU=WS,DC=lab,DC=example",
        "scanned": tally.scanned,
        "names": tally.sorted_names(),
        "name_reasons": tally.name_reasons,
    }
    values.update(kw)
    return UsersFacts(**values)  # type: ignore[arg-type]


def test_one_result_per_problem_kind_with_every_name_and_a_capped_title() -> None:
    # Given 25 users without mail, one that must change its password, one bad name, and a healthy one
    tally = UsersTally()
    for i in range(25):
        tally.add(user(f"u{i:02d}", mail=None), NOW, POLICY)
    tally.add(user("mc", pwd_last_set=0), NOW, POLICY)
    tally.add(user("bad."), NOW, POLICY)
    tally.add(user("ok"), NOW, POLICY)
    results = {r.id: r for r in check_users(_facts(tally))}
    # Then every id is there, always, in a fixed order
    assert list(results) == ["users.scope", *(f"users.{p}" for p in PROBLEMS), "users.found"]
    # And the mail result counts 25, lists all 25 in its facts and the first 10 in its title
    mail = results["users.mail"]
    assert mail.status is Status.FAIL and mail.facts["count"] == 25
    assert mail.facts["users"] == [f"u{i:02d}" for i in range(25)]
    assert f"u{TITLE_NAMES_MAX - 1:02d}" in mail.title and f"u{TITLE_NAMES_MAX:02d}" not in mail.title
    assert "and 15 more" in mail.title and "Connected Directory" in (mail.remedy or "")
    assert results["users.must_change_password"].facts["users"] == ["mc"]
    assert results["users.name"].facts["reasons"] == {"bad.": "The user logon name 'bad.' ends with a period"}
    # And the others pass; found is not applicable without a file
    assert results["users.disabled"].status is Status.PASS
    assert results["users.found"].status is Status.SKIP
    assert results["users.scope"].status is Status.PASS and results["users.scope"].facts["checked"] == 28


def test_nobody_in_scope_is_a_warning_and_missing_csv_names_fail() -> None:
    empty = {r.id: r for r in check_users(_facts(UsersTally()))}
    assert empty["users.scope"].status is Status.WARN
    named = {r.id: r for r in check_users(_facts(UsersTally(), scope="csv", csv_path="u.csv", csv_rows=3,
                                                    not_found=("ghost",)))}  # fmt: skip
    assert named["users.found"].status is Status.FAIL and named["users.found"].facts["users"] == ["ghost"]


def _peak_tally(n: int) -> int:
    tracemalloc.start()
    tally = UsersTally()
    for i in range(n):
        tally.add(user(f"user{i:07d}"), NOW, POLICY)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert tally.scanned == n
    return peak


def test_ready_users_cost_no_memory_as_they_stream_by() -> None:
    # Given 2,000 and then 20,000 healthy users judged one at a time
    small, large = _peak_tally(2_000), _peak_tally(20_000)
    # Then the peak does not grow with their number (only users with a problem are remembered)
    assert large < small * 1.5 + 64_000, (small, large)


def test_names_csv_takes_any_header_with_the_column(tmp_path: Path) -> None:
    # Given an Excel file (BOM, ;) with other columns, a repeated name, a blank line and an empty name
    f = tmp_path / "names.csv"
    f.write_text(
        "\ufeffDisplay;SAMACCOUNTNAME;Dept\nJ Doe;jdoe;IT\n\n;;\nM;;x\nA;  alice ;y\n", encoding="utf-8"
    )
    rows = list(read_user_names(f))
    # Then names come with their lines, and the empty cell is a bad row with its line
    assert rows == [(2, "jdoe"), RowProblem(5, "the sAMAccountName cell is empty"), (6, "alice")]
    g = tmp_path / "other.csv"
    g.write_text("name,mail\njdoe,j@x\n")
    with pytest.raises(InputError, match="no sAMAccountName column"):
        list(read_user_names(g))
