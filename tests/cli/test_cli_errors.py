"""A bug in one area of a preflight: that area is an error result with reason bug, exit status 4, and the
rest of the report is kept (the JSON still validates against the schema)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from adprep.cli.exit import ExitStatus
from adprep.cli.main import main
from tests.conftest import REPO

SCHEMA = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())
# Nothing listens on UDP/TCP 53 here: DNS answers "unreachable" at once, so no DC is found.
NO_DNS = "127.0.0.254"


def _break_dns_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    import adprep.jobs.preflight as preflight

    def boom(*_a: object, **_k: object) -> list[object]:
        raise ZeroDivisionError("secret-ish detail")

    monkeypatch.setattr(preflight, "check_dns", boom)


def test_a_bug_in_one_area_keeps_the_report_and_exits_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a preflight whose DNS verdicts raise an exception adprep did not expect
    _break_dns_checks(monkeypatch)
    # When it runs
    rc = main(["preflight", "--domain", "corp.example.com", "--dns-ip", NO_DNS, "--timeout", "0.5",
               "--format", "json"])  # fmt: skip
    out, err = capsys.readouterr()
    # Then the report is whole: the DNS area is one error with reason bug, the other areas ran
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["dns.run"]["status"] == "error" and by_id["dns.run"]["reason"] == "bug"
    assert "ZeroDivisionError" in by_id["dns.run"]["title"] and "secret-ish" not in json.dumps(
        by_id["dns.run"]
    )
    assert by_id["dcs.found"]["status"] == "fail"
    # and the exit status says a bug, with no traceback unless --debug
    assert rc == ExitStatus.BUG and data["exit_status"] == 4
    assert "Traceback" not in err


def test_debug_shows_the_traceback_of_a_bug_in_an_area(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _break_dns_checks(monkeypatch)
    rc = main(["--debug", "preflight", "--domain", "corp.example.com", "--dns-ip", NO_DNS, "--timeout", "0.5",
               "--format", "json"])  # fmt: skip
    assert rc == ExitStatus.BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err
