"""The directory-prep commands' contract: plan JSON (schema + golden file), and bad input refused
with exit 2 before any connection (the DC address given here has nothing listening)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from adprep.cli.main import main
from adprep.prep.plan import ApplyResult, Change, Outcome, Plan
from adprep.render.plan import render_plan_json
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
