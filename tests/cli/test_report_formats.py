"""The report options every report command shares: --format markdown/html/openmetrics, --redact,
--baseline (drift, exit status 5). OpenMetrics output is checked by Prometheus's own promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adprep.cli.app import App, ReportSettings
from adprep.cli.exit import ExitStatus
from adprep.cli.main import main
from adprep.render.openmetrics import render_openmetrics
from tests.conftest import REPO, missing_peer
from tests.unit.test_render_formats import from_subnets, one_vantage, three_vantages

SCHEMA = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())
# TCP 9 (discard) on 127.0.0.1: nothing listens, so the probe fails "closed" without waiting.
CLOSED_PORT = ["ports", "--tcp", "9", "--timeout", "0.5", "127.0.0.1"]


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    if exe is None:
        missing_peer("promtool is needed to validate OpenMetrics output (apt-get install prometheus)")
    assert exe is not None
    return subprocess.run([exe, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc = main([*argv, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "command", [["preflight"], ["ports"], ["radius", "check"], ["gpo", "scan"]], ids=lambda c: " ".join(c)
)
def test_every_report_command_has_the_formats_redact_and_baseline(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "[table|json|junit|markdown|html|openmetrics]" in text
    assert "--redact" in text and "--baseline FILE" in text


@pytest.mark.parametrize("report", [one_vantage(), three_vantages()], ids=["one-vantage", "three-vantages"])
def test_openmetrics_passes_promtool(report: Any) -> None:
    # Given a report rendered as OpenMetrics, when promtool lints it, then it has nothing to say
    proc = promtool_check(render_openmetrics(report, exit_status=1))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "" and proc.stderr.strip() == ""


def test_redact_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a real probe of 127.0.0.1, when the report is asked for with --redact
    rc, data = run_json(capsys, *CLOSED_PORT, "--redact")
    # Then the address is a token everywhere, the report says so and still matches the schema
    assert rc == ExitStatus.FAILED
    assert "127.0.0.1" not in json.dumps(data)
    assert data["redacted"] is True and data["results"][0]["id"] == "ports.tcp.DC-1.9"
    assert data["vantage"]["host"].startswith("HOST-")
    jsonschema.validate(data, SCHEMA)


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_redacted_reports_keep_the_commands_to_run_in_tokens(fmt: Any, tmp_path: Path) -> None:
    # Given LDAP filtered from subnet-b (10.1.2.0/24) to dc1.corp.example (10.0.0.10), with --redact
    out = tmp_path / f"report.{fmt}"
    app = App(quiet=True, report_settings=ReportSettings(redact=True))
    assert app.emit_report(from_subnets(), fmt=fmt, output=out) == ExitStatus.FAILED
    text = out.read_text()
    # Then the firewall rule is still there (made from the real subnet, then redacted), in the tokens
    # the rest of the report uses, and no original value is left
    rule = next(line for line in text.splitlines() if "New-NetFirewallRule -Name" in line)
    assert "-RemoteAddress" in rule and "NET-1/24" in rule, rule
    assert "ports.tcp.DC-1.389@subnet-b" in text and "HOST-1.DOMAIN-1" in text
    for original in ("10.1.2", "10.0.0.10", "dc1", "corp.example"):
        assert original not in text.lower(), original


def test_baseline_reports_drift_with_its_own_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given yesterday's report, in which TCP 9 on 127.0.0.1 was as closed as today
    baseline = tmp_path / "previous.json"
    assert main([*CLOSED_PORT, "--format", "json", "-o", str(baseline)]) == ExitStatus.FAILED
    capsys.readouterr()
    # When today's run compares with it, then the known failure is exit 1 and no drift
    rc, data = run_json(capsys, *CLOSED_PORT, "--baseline", str(baseline))
    assert rc == ExitStatus.FAILED and data["exit_status"] == 1
    summary = next(r for r in data["results"] if r["id"] == "drift.summary")
    assert summary["status"] == "pass" and summary["facts"]["baseline"] == str(baseline)
    # Given a baseline in which the port was open
    old = json.loads(baseline.read_text())
    old["results"][0].update(status="pass", facts={"verdict": "open"})
    baseline.write_text(json.dumps(old))
    # Then today's closed port is a new failure, exit 5, in the JSON as in OpenMetrics
    rc, data = run_json(capsys, *CLOSED_PORT, "--baseline", str(baseline))
    assert rc == ExitStatus.DRIFT and data["exit_status"] == 5
    jsonschema.validate(data, SCHEMA)
    new = next(r for r in data["results"] if r["id"] == "drift.new_failure.ports.tcp.127.0.0.1.9")
    assert new["status"] == "fail" and "(was pass (open))" in new["title"]
    metrics = tmp_path / "adprep.prom"
    assert (
        main([*CLOSED_PORT, "--baseline", str(baseline), "--format", "openmetrics", "-o", str(metrics)]) == 5
    )
    text = metrics.read_text()
    assert 'adprep_run_exit_status{command="ports"} 5' in text
    assert 'id="drift.new_failure.ports.tcp.127.0.0.1.9",category="drift"' in text
    proc = promtool_check(text)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _write(path: Path, content: str) -> Path:
    path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "Cannot read the baseline"),
        ("{not json", "is not JSON (Expecting property name"),
        ('{"hello": 1}', "is not an adprep JSON report"),
        (
            '{"tool": {"name": "adprep"}, "schema_version": "1.1", "redacted": true}',
            "is a redacted report",
        ),
        (
            '{"tool": {"name": "adprep"}, "schema_version": "1.1", "command": "radius", '
            '"started_at": "2026-01-01T00:00:00+00:00", "results": []}',
            "is a report of 'adprep radius', not of 'adprep ports'",
        ),
    ],
)
def test_a_bad_baseline_is_exit_2_in_one_sentence(
    content: str | None, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "previous.json"
    if content is not None:
        _write(path, content)
    # When the baseline is not an earlier adprep report of this command, then exit 2 before any probe
    assert main([*CLOSED_PORT, "--baseline", str(path)]) == ExitStatus.USAGE
    captured = capsys.readouterr()
    assert needle in captured.err and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.out == ""


def test_radius_check_accepts_a_radius_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a baseline of 'adprep radius' (the report's command for 'adprep radius check')
    path = _write(
        tmp_path / "radius.json",
        '{"tool": {"name": "adprep"}, "schema_version": "1.1", "command": "radius", '
        '"started_at": "2026-01-01T00:00:00+00:00", "results": []}',
    )
    # Then it is accepted, and the settings-only run reports drift against it
    rc = main(
        [
            "radius",
            "check",
            "--server",
            "127.0.0.1",
            "--no-probe",
            "--baseline",
            str(path),
            "--format",
            "json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert any(r["id"] == "drift.summary" for r in out["results"])
    assert rc == ExitStatus.OK  # only passes and skips, and nothing that passed before fails now
