"""users check, users import --update's warnings and group create at the CLI boundary: plans with
warnings (schema, streamed = whole), bad input refused with exit 2 before any connection, and a DC
that cannot be reached as an ``error`` result (exit 3), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from adprep.cli.main import main
from adprep.prep.plan import Change, Plan
from adprep.render.plan import (
    TABLE_MAX_WARNINGS,
    PlanJsonWriter,
    PlanTableWriter,
    render_plan_json,
    render_plan_table,
)
from tests.conftest import REPO

PLAN_SCHEMA = json.loads((REPO / "adprep" / "schema" / "plan-v1.json").read_text())
REPORT_SCHEMA = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())
NOWHERE = ["--dc", "127.0.0.99", "--domain", "lab.example", "--user", "Administrator"]


def _warned_plan(n: int) -> Plan:
    create = Change(
        "user.create:CN=a,DC=lab,DC=example", "ldap.add", "CN=a,DC=lab,DC=example", "create user a"
    )
    warnings = tuple(f"line {i + 2}: user u{i} has no mail: no WorkSpace can be launched" for i in range(n))
    return Plan("users import", (create,), ("user b exists at CN=b,DC=lab,DC=example",), warnings)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_warnings_are_in_the_json_only_when_there_are_some_and_streamed_the_same(n: int) -> None:
    # Given a plan with n warnings arriving as two chunks
    plan = _warned_plan(n)
    out: list[str] = []
    writer = PlanJsonWriter(plan.command, out.append, dry_run=True)
    writer.add(Plan(plan.command, plan.changes, (), plan.warnings[:1]), None)
    writer.add(Plan(plan.command, (), plan.in_place, plan.warnings[1:]), None)
    writer.close()
    # Then the streamed text is the whole-plan text, schema-valid, with "warnings" only when n > 0
    text = "".join(out)
    assert text == render_plan_json(plan, None, dry_run=True)
    data = json.loads(text)
    jsonschema.validate(data, PLAN_SCHEMA)
    assert data.get("warnings", []) == list(plan.warnings) and ("warnings" in data) == (n > 0)


def test_the_table_shows_the_first_warnings_and_counts_the_rest() -> None:
    plan = _warned_plan(TABLE_MAX_WARNINGS + 5)
    text = render_plan_table(plan, None, dry_run=True)
    assert text.count("WARNING line ") == TABLE_MAX_WARNINGS and "… and 5 more warning(s)" in text
    out: list[str] = []
    writer = PlanTableWriter(plan.command, out.append, dry_run=True)
    writer.add(plan, None)
    writer.close()
    assert "".join(out) == text
    # And a plan with nothing to change still says what will stop WorkSpaces
    idle = render_plan_table(Plan("users import", (), ("user b exists",), ("line 2: user b has no mail",)),
                             None, dry_run=False)  # fmt: skip
    assert "nothing to change" in idle and "WARNING line 2: user b has no mail" in idle


def _one_sentence(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("adprep: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["users", "check", "--ou", "WS", "--csv", "x.csv"], "--ou and --csv"),
        (["users", "check", "--ou", "OU=X,DC=other,DC=com"], "not inside the domain"),
        (["users", "check", "--csv", "/nonexistent/u.csv"], "Cannot read"),
        (["group", "create", "bad[name]"], "not one Active Directory accepts"),
        (["group", "create", "ok", "--ou", "A//B"], "empty component"),
        (["group", "create", "ok", "--scope", "local"], "--scope"),
    ],
)
def test_bad_input_exits_2_before_connecting(
    args: list[str], says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used")
    assert main([*args, *NOWHERE]) == 2
    assert says in _one_sentence(capsys)


def test_a_bad_names_file_lists_every_bad_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used")
    f = tmp_path / "names.csv"
    f.write_text('sAMAccountName,mail\njdoe,\n,x@y\n"a\nb",\nalice,\n')
    assert main(["users", "check", "--csv", str(f), *NOWHERE]) == 2
    err = capsys.readouterr().err
    assert f"{f}:3: the sAMAccountName cell is empty" in err
    assert f"{f}:4: sAMAccountName contains a control character" in err
    assert err.strip().splitlines()[-1].startswith("adprep: error: ")


def test_an_unreachable_dc_is_an_error_result_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a DC address with nothing listening (127.0.0.99)
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used")
    # When users are checked, as JSON
    status = main(["users", "check", "--format", "json", *NOWHERE])
    # Then the report is schema-valid with one error result saying why, and the exit status is 3
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, REPORT_SCHEMA)
    assert status == 3 and [(r["id"], r["status"]) for r in data["results"]] == [("users.scope", "error")]
    assert "not-used" not in json.dumps(data)
