"""The directory-prep commands' contract: plan JSON (schema + golden file), and bad input refused
with exit 2 before any connection (the DC address given here has nothing listening)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from adprep.cli.main import main
from adprep.prep.plan import ApplyResult, Change, Outcome, Plan
from adprep.render.plan import (
    TABLE_MAX_ROWS,
    PlanJsonWriter,
    PlanTableWriter,
    render_plan_json,
    render_plan_table,
)
from tests.conftest import FIXTURES, REPO

SCHEMA = json.loads((REPO / "adprep" / "schema" / "plan-v1.json").read_text())
GOLDEN = FIXTURES / "golden" / "users-import-plan.json"
NOWHERE = ["--dc", "127.0.0.99", "--domain", "lab.example", "--user", "Administrator"]


def sample_plan() -> tuple[Plan, ApplyResult]:
    create = Change("user.create:CN=jdoe,CN=Users,DC=lab,DC=example", "ldap.add", "CN=jdoe,CN=Users,DC=lab,DC=example",
                    "create user jdoe in CN=Users,DC=lab,DC=example", {"sAMAccountName": "jdoe", "line": 2,
                    "password": "generated"})  # fmt: skip
    clash = Change("user.create:CN=x,CN=Users,DC=lab,DC=example", "ldap.add", "CN=x,CN=Users,DC=lab,DC=example",
                   "create user x in CN=Users,DC=lab,DC=example", {"sAMAccountName": "x", "line": 3})  # fmt: skip
    join = Change("group.add-members:CN=G,CN=Users,DC=lab,DC=example#1", "ldap.add_members",
                  "CN=G,CN=Users,DC=lab,DC=example", "add 2 member(s) to CN=G,CN=Users,DC=lab,DC=example",
                  {"members": ["CN=jdoe,CN=Users,DC=lab,DC=example", "CN=x,CN=Users,DC=lab,DC=example"]},
                  depends_on=(create.id, clash.id))  # fmt: skip
    plan = Plan(
        "users import", (create, clash, join), ("user old exists at CN=old,CN=Users,DC=lab,DC=example",)
    )
    result = ApplyResult(plan, (
        Outcome(create, "applied"),
        Outcome(clash, "failed", "Creating CN=x,CN=Users,DC=lab,DC=example failed: An object with this name already exists."),
        Outcome(join, "skipped", f"not attempted: {clash.id} failed"),
    ))  # fmt: skip
    return plan, result


def test_plan_json_matches_schema_and_golden_file() -> None:
    plan, result = sample_plan()
    for data in (
        json.loads(render_plan_json(plan, None, dry_run=True)),
        json.loads(render_plan_json(plan, result, dry_run=False)),
    ):
        jsonschema.validate(data, SCHEMA)
    data["tool"]["version"] = "0.0.0-test"
    assert data == json.loads(GOLDEN.read_text())


def _in_chunks(
    plan: Plan, result: ApplyResult | None, sizes: tuple[int, ...]
) -> list[tuple[Plan, ApplyResult | None]]:
    chunks: list[tuple[Plan, ApplyResult | None]] = []
    start = 0
    for i, n in enumerate(sizes):
        part = Plan(plan.command, plan.changes[start : start + n], plan.in_place if i == 0 else ())
        outcomes = result.outcomes[start : start + n] if result else ()
        chunks.append((part, ApplyResult(part, outcomes) if result else None))
        start += n
    return chunks


@pytest.mark.parametrize("sizes", [(3,), (1, 0, 2), (0,)])
@pytest.mark.parametrize("applied", [False, True])
def test_streamed_plan_json_is_the_same_document(sizes: tuple[int, ...], applied: bool) -> None:
    # Given the sample plan (or an empty one) arriving in chunks
    plan, result = sample_plan()
    if sizes == (0,):
        plan, result = Plan(plan.command, (), ()), ApplyResult(Plan(plan.command, ()), ())
    out: list[str] = []
    writer = PlanJsonWriter(plan.command, out.append, dry_run=not applied)
    for part, part_result in _in_chunks(plan, result if applied else None, sizes):
        writer.add(part, part_result)
    writer.close()
    # Then the text is byte for byte what the whole-plan renderer writes, and it is schema-valid
    text = "".join(out)
    assert text == render_plan_json(plan, result if applied else None, dry_run=not applied)
    jsonschema.validate(json.loads(text), SCHEMA)
    assert writer.failed == (applied and sizes != (0,))


def test_streamed_json_writes_nothing_before_the_first_chunk() -> None:
    out: list[str] = []
    PlanJsonWriter("users import", out.append, dry_run=True)
    assert out == []


def test_streamed_table_is_the_full_table_for_small_plans() -> None:
    plan, result = sample_plan()
    out: list[str] = []
    writer = PlanTableWriter(plan.command, out.append, dry_run=False)
    for part, part_result in _in_chunks(plan, result, (2, 1)):
        writer.add(part, part_result)
    writer.close()
    assert "".join(out) == render_plan_table(plan, result, dry_run=False)
    assert writer.failed


def test_a_long_plan_is_shown_as_counts_and_its_failures() -> None:
    # Given more than TABLE_MAX_ROWS creates, of which one failed and one join was skipped
    plan, result = sample_plan()
    creates = tuple(
        Change(f"user.create:CN=u{i},DC=x", "ldap.add", f"CN=u{i},DC=x", f"create user u{i}")
        for i in range(TABLE_MAX_ROWS)
    )
    many = Plan(plan.command, creates, ("user old exists at CN=old,DC=x",))
    out: list[str] = []
    writer = PlanTableWriter(plan.command, out.append, dry_run=False)
    writer.add(many, ApplyResult(many, tuple(Outcome(c, "applied") for c in creates)))
    writer.add(plan, result)
    writer.close()
    text = "".join(out)
    # Then the summary counts per action and status, and lists every change that did not apply
    assert f"{TABLE_MAX_ROWS + 3} change(s) made" in text and "counted by action and status" in text
    assert "create user u7" not in text
    assert "ldap.add" in text and str(TABLE_MAX_ROWS + 1) in text
    assert "FAILED create user x in CN=Users,DC=lab,DC=example: Creating" in text
    assert "SKIPPED add 2 member(s)" in text and "2 already in place." in text


def test_bad_csv_lists_every_bad_row_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used")
    bad = FIXTURES / "prep" / "users-bad.csv"
    assert main(["users", "import", str(bad), "--passwords-out", "/nonexistent/p.csv", *NOWHERE]) == 2
    err = capsys.readouterr().err
    for line in (3, 4, 5, 6, 7, 9, 10, 11):
        assert f"{bad}:{line}: " in err
    assert "nothing was written" in err and "short" not in err


def test_generated_passwords_need_passwords_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used")
    assert main(["users", "import", str(FIXTURES / "prep" / "users-excel-bom.csv"), *NOWHERE]) == 2
    assert "--passwords-out" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["account", "create", "svc-adc", "--generate-password"],
        ["account", "create", "CORP\\svc"],
        ["account", "create", "svc-adc-name-longer-than-20"],
        ["delegate", "--preset", "ad-connector-ou"],
        ["ou", "create", "A//B"],
    ],
)
def test_bad_input_exits_2_before_connecting(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used")
    monkeypatch.setenv("ADPREP_ACCOUNT_PASSWORD", "Xy12-abcdEFG")
    assert main([*args, *NOWHERE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("adprep: error: ") and err.count("\n") == 1
    assert "Xy12" not in err


def test_weak_account_password_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used")
    monkeypatch.setenv("ADPREP_ACCOUNT_PASSWORD", "weakpass")
    assert main(["account", "create", "svc-adc", *NOWHERE]) == 2
    err = capsys.readouterr().err
    assert "weakpass" not in err and "character classes" in err
