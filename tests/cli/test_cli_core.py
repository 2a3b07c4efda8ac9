"""The CLI's contract: exit statuses, one-sentence errors, report formats, the JSON schema."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from adprep.cli.exit import ExitStatus, exit_status_for
from adprep.cli.main import main
from adprep.model import CheckResult, ErrorReason, Report, Status, Vantage
from adprep.render.json import render_json
from adprep.render.junit import render_junit
from adprep.render.table import render_table
from tests.conftest import FIXTURES, REPO

SCHEMA = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())
GOLDEN = FIXTURES / "golden"


def sample_report() -> Report:
    t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Report(
        command="ports",
        tool_version="0.0.0-test",
        started_at=t,
        finished_at=t,
        vantage=Vantage(host="probe-host", label="on-prem", source_addresses={"10.0.0.10": "10.0.0.5"}),
        targets=("10.0.0.10",),
        results=(
            CheckResult("ports.tcp.10.0.0.10.389", Status.PASS, "TCP 389 (LDAP) on 10.0.0.10: open",
                        {"verdict": "open", "elapsed_ms": 1.0}, target="10.0.0.10"),
            CheckResult("ports.tcp.10.0.0.10.53", Status.FAIL, "TCP 53 (DNS) on 10.0.0.10: filtered",
                        {"verdict": "filtered"}, remedy="Allow TCP 53.",
                        adc_error="DNS unavailable (TCP port 53) for IP: 10.0.0.10", target="10.0.0.10"),
            CheckResult("ports.tcp.10.0.0.10.9389", Status.WARN, "TCP 9389 on 10.0.0.10: closed", {}, remedy="Optional."),
            CheckResult("ports.udp.10.0.0.10.138", Status.SKIP, "UDP 138: unverifiable", {}),
            CheckResult("ports.tcp.10.0.0.10.88", Status.ERROR, "TCP 88: error", {"errno": "ENETUNREACH"}, remedy="Route.",
                        reason=ErrorReason.UNREACHABLE),
        ),
    )  # fmt: skip


def test_json_report_matches_schema_and_golden_file() -> None:
    # Given a report with every status, when rendered as JSON
    text = render_json(sample_report(), exit_status=1)
    data = json.loads(text)
    # Then it validates against the committed schema and equals the golden file
    jsonschema.validate(data, SCHEMA)
    assert data == json.loads((GOLDEN / "ports-report.json").read_text())


def test_junit_has_one_testcase_per_check() -> None:
    root = ET.fromstring(render_junit(sample_report()))
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [r.id for r in sample_report().results]
    assert root.get("failures") == "1" and root.get("errors") == "1" and root.get("skipped") == "1"
    assert (GOLDEN / "ports-report.junit.xml").read_text() == render_junit(sample_report())


def test_table_names_failures_with_adc_text_and_vantage_note() -> None:
    text = render_table(sample_report())
    assert "DNS unavailable (TCP port 53) for IP: 10.0.0.10" in text
    assert "only a run from the AD Connector" in " ".join(text.split())
    assert "\x1b[" not in text  # no colours when not a terminal


def test_exit_status_precedence() -> None:
    report = sample_report()
    assert exit_status_for(report) is ExitStatus.FAILED
    no_fail = Report(
        **{**report.__dict__, "results": tuple(r for r in report.results if r.status is not Status.FAIL)}
    )
    assert exit_status_for(no_fail) is ExitStatus.ERROR


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["ports"], "No domain controller address given"),
        (["ports", "dc1.example.com"], "is not an IP address"),
        (["ports", "--tcp", "99999", "10.0.0.1"], "outside 1-65535"),
        (["ports", "--timeout", "0", "10.0.0.1"], "--timeout"),
        (["ports", "--profile", "nope", "10.0.0.1"], "--profile"),
        (["ports", "--bogus"], "No such option"),
        (["nosuchcommand"], "No such command"),
        (["ports", "--config", "/nonexistent.toml", "10.0.0.1"], "Cannot read the config file"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_report_to_file_is_valid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    rc = main(["ports", "--tcp", "9", "--timeout", "0.5", "--format", "json", "-o", str(out), "127.0.0.1"])
    assert rc == ExitStatus.FAILED  # discard port: nothing listens, closed
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["exit_status"] == 1 and data["results"][0]["facts"]["verdict"] == "closed"


def test_help_starts_fast_without_heavy_imports() -> None:
    code = "import sys, adprep.cli.main as m; m.cli.main(['--help'], standalone_mode=False); " \
           "print('heavy=' + ','.join(x for x in ('impacket', 'ldap3', 'dns', 'rich') if x in sys.modules))"  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert time.monotonic() - started < 2.0
    assert proc.stdout.strip().splitlines()[-1] == "heavy="


def test_a_bug_is_exit_4_without_traceback_unless_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import adprep.jobs.ports as ports_job

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(ports_job, "run_ports", boom)
    assert main(["ports", "127.0.0.1"]) == ExitStatus.BUG
    err = capsys.readouterr().err
    assert "bug in adprep" in err and "Traceback" not in err
    assert main(["--debug", "ports", "127.0.0.1"]) == ExitStatus.BUG
    assert "Traceback" in capsys.readouterr().err


def test_radius_port_in_ports_is_unverifiable_with_a_pointer(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["ports", "--udp", "1812", "--format", "json", "127.0.0.1"])
    data = json.loads(capsys.readouterr().out)
    (r,) = data["results"]
    assert r["status"] == "skip" and "adprep radius check" in r["remedy"]
    assert rc == ExitStatus.OK


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["preflight", "--domain", "corp", "--dns-ip", "10.0.0.1", "--user", "svc"], "single-label"),
        (
            ["preflight", "--domain", "corp.example.com", "--dns-ip", "10.1.0.0", "--user", "svc"],
            "network or broadcast",
        ),
        (
            ["preflight", "--domain", "corp.example.com", "--dns-ip", "10.0.0.1", "--user", "CORP\\svc"],
            "without DOMAIN",
        ),
        (
            ["preflight", "--domain", "corp.example.com", "--dns-ip", "10.0.0.1", "--user", "svc"],
            "password of svc is needed",
        ),
        (
            [
                "account",
                "create",
                "bad name!",
                "--dc",
                "10.0.0.1",
                "--domain",
                "corp.example.com",
                "--user",
                "a",
            ],
            "not accepted",
        ),
        (
            ["ou", "create", "A//B", "--dc", "10.0.0.1", "--domain", "corp.example.com", "--user", "a"],
            "empty component",
        ),
    ],
)
def test_inputs_are_checked_before_any_password_is_asked_for(
    argv: list[str], needle: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no password anywhere, when a command gets a bad input, then the input is what it reports
    monkeypatch.delenv("ADPREP_PASSWORD", raising=False)
    assert main(argv) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
