"""Drift (--baseline): what changed since an earlier report, and the exit status a scheduler acts on."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adprep.checks.drift import check_drift, parse_baseline
from adprep.cli.exit import ExitStatus, exit_status_for
from adprep.errors import InputError
from adprep.model import CheckResult, Report, Status, Vantage
from adprep.render.json import render_json

T0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)


def port(
    dc: str, number: int, verdict: str, status: Status = Status.PASS, *, vantage: str | None = None
) -> CheckResult:
    suffix = f"@{vantage}" if vantage else ""
    return CheckResult(
        f"ports.tcp.{dc}.{number}{suffix}", status, f"TCP {number} on {dc}: {verdict}", {"verdict": verdict},
        remedy=None if status is Status.PASS else f"Allow TCP {number}.",
        adc_error=None if status is Status.PASS else f"LDAP unavailable (TCP port {number}) for IP: {dc}",
        target=dc, vantage=vantage,
    )  # fmt: skip


def report(*results: CheckResult, at: datetime = T1) -> Report:
    return Report(
        command="ports", tool_version="0.0.0-test", started_at=at, finished_at=at,
        vantage=Vantage(host="h"), targets=tuple(dict.fromkeys(r.target for r in results if r.target)),
        results=results,
    )  # fmt: skip


def baseline_of(r: Report) -> Any:
    return parse_baseline(
        json.loads(render_json(r, exit_status=int(exit_status_for(r)))), source="previous.json"
    )


def drift_by_id(before: Report, after: Report) -> dict[str, CheckResult]:
    return {r.id: r for r in check_drift(baseline_of(before), after)}


def test_nothing_changed_is_one_passing_summary() -> None:
    # Given the same results yesterday and today (one failing both days)
    yesterday = report(port("10.0.0.10", 389, "open"), port("10.0.0.10", 88, "filtered", Status.FAIL), at=T0)
    today = report(port("10.0.0.10", 389, "open"), port("10.0.0.10", 88, "filtered", Status.FAIL))
    # When compared
    drift = drift_by_id(yesterday, today)
    # Then there is only the summary, and a known failure is exit 1, not drift
    assert list(drift) == ["drift.summary"]
    assert drift["drift.summary"].status is Status.PASS
    assert "no change" in drift["drift.summary"].title
    assert (
        exit_status_for(dataclasses.replace(today, results=(*today.results, *drift.values())))
        is ExitStatus.FAILED
    )


def test_a_check_that_passed_and_now_fails_is_a_new_failure_and_exit_5() -> None:
    yesterday = report(port("10.0.0.10", 389, "open"), port("10.0.0.10", 88, "filtered", Status.FAIL), at=T0)
    today = report(
        port("10.0.0.10", 389, "filtered", Status.FAIL), port("10.0.0.10", 88, "filtered", Status.FAIL)
    )
    drift = drift_by_id(yesterday, today)
    new = drift["drift.new_failure.ports.tcp.10.0.0.10.389"]
    # Then the new failure says what it was, keeps the AD Connector error and the fix
    assert new.status is Status.FAIL
    assert new.title.startswith("New failure since the baseline of 2026-01-01T06:00:00+00:00: TCP 389")
    assert "(was pass (open))" in new.title
    assert (
        new.adc_error == "LDAP unavailable (TCP port 389) for IP: 10.0.0.10"
        and new.remedy == "Allow TCP 389."
    )
    assert new.facts["baseline_verdict"] == "open" and new.facts["verdict"] == "filtered"
    # And the persistent failure is not news
    assert not any("10.0.0.10.88" in i for i in drift)
    # And the run exits 5, which wins over the failures' 1
    whole = dataclasses.replace(today, results=(*today.results, *drift.values()))
    assert exit_status_for(whole) is ExitStatus.DRIFT
    assert drift["drift.summary"].status is Status.FAIL and "1 new failure" in drift["drift.summary"].title


def test_fixed_and_changed_verdicts() -> None:
    yesterday = report(
        port("10.0.0.10", 389, "filtered", Status.FAIL), port("10.0.0.10", 88, "open"),
        port("10.0.0.10", 9389, "open"), at=T0,
    )  # fmt: skip
    today = report(
        port("10.0.0.10", 389, "open"), port("10.0.0.10", 88, "open|filtered"),
        port("10.0.0.10", 9389, "closed", Status.WARN),
    )  # fmt: skip
    drift = drift_by_id(yesterday, today)
    # Then the fixed check passes, a changed verdict within pass is reported, and pass -> warn warns
    assert drift["drift.fixed.ports.tcp.10.0.0.10.389"].status is Status.PASS
    same_status = drift["drift.changed.ports.tcp.10.0.0.10.88"]
    assert (
        same_status.status is Status.PASS and "was pass (open), is pass (open|filtered)" in same_status.title
    )
    worse = drift["drift.changed.ports.tcp.10.0.0.10.9389"]
    assert worse.status is Status.WARN and worse.remedy == "Allow TCP 9389."
    assert exit_status_for(report(*drift.values())) is ExitStatus.OK


def test_domain_controllers_that_appear_or_vanish() -> None:
    yesterday = report(port("10.0.0.10", 389, "open"), port("10.0.0.11", 389, "open"), at=T0)
    today = report(port("10.0.0.10", 389, "open"), port("10.0.0.12", 389, "open"))
    drift = drift_by_id(yesterday, today)
    # Then the new DC warns, the vanished one is a regression, and the checks that did not run are counted
    assert drift["drift.dc_new.10.0.0.12"].status is Status.WARN
    assert drift["drift.dc_gone.10.0.0.11"].status is Status.FAIL
    summary = drift["drift.summary"]
    assert summary.facts["not_run"] == ["ports.tcp.10.0.0.11.389"] and summary.facts["not_run_count"] == 1
    assert ": 1 new DC, 1 DC gone; 1 check(s) of the baseline did not run" in summary.title
    assert exit_status_for(report(*drift.values())) is ExitStatus.DRIFT


def test_a_check_new_in_this_run_that_fails_is_a_new_failure() -> None:
    # Given a vantage added since the baseline, whose probe fails
    yesterday = report(port("10.0.0.10", 389, "open"), at=T0)
    today = report(
        port("10.0.0.10", 389, "open"), port("10.0.0.10", 389, "filtered", Status.FAIL, vantage="b")
    )
    drift = drift_by_id(yesterday, today)
    new = drift["drift.new_failure.ports.tcp.10.0.0.10.389@b"]
    assert "(was not in the baseline)" in new.title and new.facts["vantage"] == "b"


def test_drift_results_of_the_baseline_are_not_compared() -> None:
    # Given a baseline that itself carried drift results
    yesterday = report(port("10.0.0.10", 389, "open"), at=T0)
    with_drift = dataclasses.replace(
        yesterday, results=(*yesterday.results, CheckResult("drift.summary", Status.PASS, "no change"))
    )
    drift = drift_by_id(with_drift, report(port("10.0.0.10", 389, "open")))
    assert list(drift) == ["drift.summary"] and drift["drift.summary"].facts["not_run_count"] == 0


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ([1, 2], "not a JSON object"),
        ({"tool": {"name": "other"}}, "no tool.name 'adprep'"),
        ({"tool": {"name": "adprep"}, "schema_version": "2.0"}, "schema version '2.0'"),
        ({"tool": {"name": "adprep"}, "schema_version": "1.1", "redacted": True}, "redacted report"),
        ({"tool": {"name": "adprep"}, "schema_version": "1.1", "command": "ports"}, "lacks command"),
        (
            {"tool": {"name": "adprep"}, "schema_version": "1.1", "command": "ports", "started_at": "x",
             "results": [{"id": "a.b", "status": "maybe"}]},
            "malformed result (number 1",
        ),
    ],
)  # fmt: skip
def test_a_baseline_that_is_not_an_adprep_report_is_refused_in_one_sentence(
    data: object, needle: str
) -> None:
    with pytest.raises(InputError) as e:
        parse_baseline(data, source="previous.json")
    sentence = e.value.sentence()
    assert needle in sentence and sentence.startswith("The baseline previous.json ")
    assert "\n" not in sentence
