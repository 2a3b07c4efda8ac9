"""Drift (``--baseline previous.json``): what changed since an earlier run of the same command. Pure.

A scheduled run (a daily timer, a pipeline) wants to hear about change: a check that passed in the
baseline and fails now, a failure that was fixed, a domain controller that appeared or vanished, a
verdict that changed (``open`` to ``open|filtered``). The baseline is an earlier JSON report
(``--format json``, schema ``adprep/schema/report-v1.json``); ``parse_baseline`` accepts exactly
that, and ``check_drift`` compares it with the current run, check id by check id.

Result ids: ``drift.new_failure.<id>`` (fail), ``drift.fixed.<id>`` (pass), ``drift.changed.<id>``
(warn when worse, pass otherwise), ``drift.dc_new.<address>`` (warn), ``drift.dc_gone.<address>``
(fail), and ``drift.summary``. A ``fail`` among them is a regression: the CLI's exit status 5.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adprep.errors import InputError
from adprep.model import CheckResult, FactValue, Report, Status

#: Statuses that mean "AD Connector would fail here, or we could not tell".
_BAD = frozenset({Status.FAIL, Status.ERROR})
_SCHEMA_MAJOR = re.compile(r"^1\.\d+$")
#: How many ids of checks that did not run the summary lists (it counts them all).
_LISTED = 100


@dataclass(frozen=True)
class BaselineCheck:
    status: Status
    verdict: str | None
    """The probe's own verdict (``open``, ``filtered``, ``accept``…) when the facts carry one."""


@dataclass(frozen=True)
class Baseline:
    """The parts of an earlier report that drift compares."""

    source: str
    """Where it came from (the file name), for sentences."""
    command: str
    started_at: str
    checks: Mapping[str, BaselineCheck]
    """By check id; earlier ``drift.*`` results are left out (drift is not compared with drift)."""
    dcs: frozenset[str]


def parse_baseline(data: object, *, source: str) -> Baseline:
    """The baseline in ``data`` (a parsed JSON document). Raises :class:`InputError` with one
    sentence when it is not an adprep report, or is a redacted one (its names are tokens)."""

    def bad(why: str) -> InputError:
        return InputError(
            f"The baseline {source} {why}",
            hint="Pass a report written earlier by the same adprep command with --format json (not --redact).",
        )

    if not isinstance(data, dict):
        raise bad("is not an adprep JSON report (not a JSON object)")
    tool = data.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "adprep":
        raise bad("is not an adprep JSON report (no tool.name 'adprep')")
    version = data.get("schema_version")
    if not isinstance(version, str) or not _SCHEMA_MAJOR.match(version):
        raise bad(f"has schema version {version!r}; this adprep reads 1.x")
    if data.get("redacted") is True:
        raise bad("is a redacted report, whose names and addresses are tokens that cannot be compared")
    command, started, results = data.get("command"), data.get("started_at"), data.get("results")
    if not isinstance(command, str) or not isinstance(started, str) or not isinstance(results, list):
        raise bad("lacks command, started_at or results")
    checks: dict[str, BaselineCheck] = {}
    for i, r in enumerate(results):
        if not isinstance(r, dict) or not isinstance(r.get("id"), str) or r.get("status") not in _STATUSES:
            raise bad(f"has a malformed result (number {i + 1}: no id or no valid status)")
        if r["id"].startswith("drift."):
            continue
        facts = r.get("facts")
        checks[r["id"]] = BaselineCheck(
            Status(r["status"]), _verdict(facts if isinstance(facts, dict) else {})
        )
    dcs = frozenset(
        str(r["target"]) for r in results if _is_probe(str(r["id"])) and isinstance(r.get("target"), str)
    )
    return Baseline(source=source, command=command, started_at=started, checks=checks, dcs=dcs)


_STATUSES = frozenset(s.value for s in Status)


def _is_probe(check_id: str) -> bool:
    """Port probes name the domain controllers a run tested (``ports.*`` targets)."""
    return check_id.startswith("ports.")


def _verdict(facts: Mapping[str, Any]) -> str | None:
    for key in ("verdict", "outcome"):
        value = facts.get(key)
        if isinstance(value, str):
            return value
    return None


def check_drift(baseline: Baseline, report: Report) -> list[CheckResult]:
    """The changes from ``baseline`` to ``report``, as results (see the module docstring).

    Checks present in both runs are compared by status and by the probe's verdict; a check that fails
    now and did not exist then is a new failure too (a new DC, a new vantage). Checks that vanished
    are counted, not listed one by one, except the domain controllers they were about.
    """
    since = f"since the baseline of {baseline.started_at}"
    out: list[CheckResult] = []
    current = {r.id: r for r in report.results if r.category != "drift"}
    for r in current.values():
        before = baseline.checks.get(r.id)
        now_verdict = _verdict(r.facts)
        was = _describe(before.status, before.verdict) if before else "not in the baseline"
        now = _describe(r.status, now_verdict)
        facts: dict[str, FactValue] = {
            "check": r.id,
            "baseline_status": before.status.value if before else None,
            "baseline_verdict": before.verdict if before else None,
            "status": r.status.value,
            "verdict": now_verdict,
            **({"vantage": r.vantage} if r.vantage else {}),
        }
        if r.status in _BAD and (before is None or before.status not in _BAD):
            out.append(
                CheckResult(
                    f"drift.new_failure.{r.id}",
                    Status.FAIL,
                    f"New failure {since}: {r.title} (was {was})",
                    facts,
                    remedy=r.remedy,
                    adc_error=r.adc_error,
                    target=r.target,
                )
            )
        elif before is not None and before.status in _BAD and r.status not in _BAD:
            out.append(
                CheckResult(
                    f"drift.fixed.{r.id}",
                    Status.PASS,
                    f"Fixed {since}: {r.title} (was {was})",
                    facts,
                    target=r.target,
                )
            )
        elif before is not None and (before.status, before.verdict) != (r.status, now_verdict):
            worse = r.status.rank > before.status.rank and r.status is not Status.SKIP
            out.append(
                CheckResult(
                    f"drift.changed.{r.id}",
                    Status.WARN if worse else Status.PASS,
                    f"Changed {since}: {r.id} was {was}, is {now}",
                    facts,
                    remedy=r.remedy if worse else None,
                    target=r.target,
                )
            )  # fmt: skip
    dcs_now = frozenset(r.target for r in report.results if _is_probe(r.id) and r.target)
    for dc in sorted(dcs_now - baseline.dcs):
        out.append(
            CheckResult(
                f"drift.dc_new.{dc}", Status.WARN,
                f"Domain controller {dc} is new {since}: AD Connector may use it, so its ports must be open too",
                {"address": dc}, target=dc,
                remedy="If this DC is expected, compare its results with the others'; then take this report as "
                "the new baseline.",
            )
        )  # fmt: skip
    for dc in sorted(baseline.dcs - dcs_now):
        out.append(
            CheckResult(
                f"drift.dc_gone.{dc}", Status.FAIL,
                f"Domain controller {dc} was tested in the baseline and is not now: DNS no longer names it, or it "
                "was not given",
                {"address": dc}, target=dc,
                remedy="If the DC was retired on purpose, take this report as the new baseline; otherwise check "
                "its DNS records (_ldap._tcp and _kerberos._tcp SRV) and that it runs.",
            )
        )  # fmt: skip
    out.insert(0, _summary(baseline, out, vanished=sorted(set(baseline.checks) - set(current))))
    return out


def _describe(status: Status, verdict: str | None) -> str:
    return f"{status.value} ({verdict})" if verdict and verdict != status.value else status.value


#: How the summary names each kind of drift: (one, several).
_KINDS = {
    "new_failure": ("new failure", "new failures"),
    "fixed": ("fixed", "fixed"),
    "changed": ("changed", "changed"),
    "dc_new": ("new DC", "new DCs"),
    "dc_gone": ("DC gone", "DCs gone"),
}


def _summary(baseline: Baseline, drift: Iterable[CheckResult], *, vanished: list[str]) -> CheckResult:
    counts = {kind: 0 for kind in ("new_failure", "fixed", "changed", "dc_new", "dc_gone")}
    for r in drift:
        counts[r.id.split(".", 2)[1]] += 1
    regressions = counts["new_failure"] + counts["dc_gone"]
    parts = [f"{n} {_KINDS[kind][n != 1]}" for kind, n in counts.items() if n]
    title = f"Since the baseline of {baseline.started_at}: " + (", ".join(parts) if parts else "no change")
    if vanished:
        title += f"; {len(vanished)} check(s) of the baseline did not run this time"
    return CheckResult(
        "drift.summary",
        Status.FAIL if regressions else Status.PASS,
        title,
        {
            "baseline": baseline.source,
            "baseline_started_at": baseline.started_at,
            **counts,
            "not_run": vanished[:_LISTED],
            "not_run_count": len(vanished),
        },
        remedy="Each drift.new_failure and drift.dc_gone result says what regressed."
        if regressions
        else None,
    )
