"""What the reports for people (Markdown, HTML) show, and in which order. Pure.

Both put the verdict first: a summary line, then the failures (with the AD Connector error each one
causes, the fix and the adprep command it names), then the checks that could not run, the warnings,
a matrix of verdicts per vantage when the run had several, and every check last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from adprep.model import CheckResult, FactValue, Report, Status
from adprep.prep.manual import ManualOptions, dc_hosts, manual_steps
from adprep.render.commands import render_command

#: The sections that need a person, in the order they are shown: (status, heading, anchor).
ATTENTION: tuple[tuple[Status, str, str], ...] = (
    (Status.FAIL, "Failures", "failures"),
    (Status.ERROR, "Could not run", "errors"),
    (Status.WARN, "Warnings", "warnings"),
)

LABELS = {
    Status.PASS: "passed",
    Status.WARN: "warnings",
    Status.FAIL: "failed",
    Status.ERROR: "could not run",
    Status.SKIP: "skipped",
}

# adprep commands named in a remedy ("… (adprep delegate).", "(or: adprep gpo unlink {guid} …)"): the
# first word must be a command, so "run adprep as root" is not taken for one.
_COMMAND = re.compile(
    r"\badprep (?:preflight|ports|gpo|delegate|account|ou|users|radius|fix)\b[^();\n]*?(?=\)|;|\.\s|\.$|$)"
)


def counts(report: Report) -> list[tuple[Status, int]]:
    """Counts per status, worst first."""
    s = report.summary
    return [
        (Status.FAIL, s.failed),
        (Status.ERROR, s.errors),
        (Status.WARN, s.warned),
        (Status.PASS, s.passed),
        (Status.SKIP, s.skipped),
    ]


def headline(report: Report) -> str:
    """``2 failed, 1 could not run, 3 warnings, 20 passed, 0 skipped``."""
    return ", ".join(f"{n} {LABELS[status]}" for status, n in counts(report))


def worst(report: Report) -> Status:
    """The worst status in the report (``pass`` for an empty one)."""
    return max((r.status for r in report.results), key=lambda s: s.rank, default=Status.PASS)


def with_status(report: Report, status: Status) -> list[CheckResult]:
    """The report's results with ``status``, in report order."""
    return [r for r in report.results if r.status is status]


def commands_in(remedy: str | None) -> list[str]:
    """The adprep commands a remedy names, in order, without repeats."""
    if not remedy:
        return []
    return list(dict.fromkeys(m.group(0).strip() for m in _COMMAND.finditer(remedy)))


@dataclass(frozen=True)
class Fix:
    """Commands to run by hand for a failure adprep cannot fix over LDAP (firewall and security-group
    rules, DNS records, the time service), as ``adprep fix`` prints them."""

    title: str
    where: str
    commands: tuple[str, ...]
    note: str | None = None

    def map(self, text: Callable[[str], str]) -> Fix:
        """The same fix with every text passed through ``text`` (``--redact``)."""
        return Fix(
            text(self.title),
            text(self.where),
            tuple(text(c) for c in self.commands),
            text(self.note) if self.note is not None else None,
        )


Fixes = Mapping[str, tuple[Fix, ...]]
"""Check id → the fixes that address it."""


def fixes(report: Report) -> dict[str, tuple[Fix, ...]]:
    """The commands for what adprep cannot write (:mod:`adprep.prep.manual`), by the check ids they
    address. A ``paths.<id>`` result gets the fixes of ``<id>`` from every vantage.

    Computed from the report before ``--redact`` (a redacted subnet is no network to write a rule
    for); the caller redacts the texts with the report's own tokens (:meth:`Fix.map`).
    """
    steps, _ = manual_steps(report, ManualOptions(dc_hosts=dc_hosts(report)))
    out: dict[str, dict[Fix, None]] = {}
    for step in steps:
        fix = Fix(step.title, step.where, tuple(render_command(c) for c in step.commands), step.note)
        for check_id in step.addresses:
            out.setdefault(check_id, {})[fix] = None
            out.setdefault("paths." + check_id.split("@", 1)[0], {})[fix] = None
    return {k: tuple(v) for k, v in out.items()}


def verdict(result: CheckResult) -> str | None:
    """The probe's own verdict (``open``, ``filtered``, ``accept``…) when its facts carry one."""
    for key in ("verdict", "outcome"):
        value = result.facts.get(key)
        if isinstance(value, str):
            return value
    return None


def cell(result: CheckResult | None) -> str:
    """A matrix cell: ``fail (filtered)``, ``pass``, or an em dash when the check did not run there."""
    if result is None:
        return "—"
    v = verdict(result)
    return f"{result.status.value} ({v})" if v and v != result.status.value else result.status.value


def fact_text(value: FactValue) -> str:
    """A fact value as one line: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@dataclass(frozen=True)
class Matrix:
    """Verdicts per vantage: one row per check (its id without ``@vantage``), one column per vantage."""

    vantages: tuple[str, ...]
    rows: tuple[tuple[str, tuple[CheckResult | None, ...]], ...]


def vantage_matrix(report: Report) -> Matrix | None:
    """The matrix of a run from several vantages; ``None`` for a run from one."""
    labels = [v.label for v in report.vantages if v.label]
    if len(labels) < 2:
        return None
    by_check: dict[str, dict[str, CheckResult]] = {}
    for r in report.results:
        if r.vantage in labels:
            by_check.setdefault(r.base_id, {})[r.vantage] = r
    rows = tuple(
        (check, tuple(cells.get(label) for label in labels))
        for check, cells in by_check.items()
        if len(cells) > 0
    )
    return Matrix(tuple(labels), rows)


def row_worst(cells: tuple[CheckResult | None, ...]) -> Status:
    """The worst status of a row's cells (empty cells ignored; no cell: skip)."""
    return max((c.status for c in cells if c is not None), key=lambda s: s.rank, default=Status.SKIP)


def where(report: Report) -> list[tuple[str, str]]:
    """Where the run was made from, one line per vantage: ``(label, how and source)``."""
    if not report.vantages:
        v = report.vantage
        sources = ", ".join(sorted(set(v.source_addresses.values())))
        return [(v.label or v.host, "this host " + v.host + (f", source {sources}" if sources else ""))]
    out = []
    for v in report.vantages:
        sources = ", ".join(sorted(set(v.source_addresses.values())))
        how = f"this host {v.host}" if v.via == "local" else v.via
        detail = (
            how + (f", subnet {v.subnet}" if v.subnet else "") + (f", source {sources}" if sources else "")
        )
        if v.error:
            detail += f": did not run ({v.error})"
        out.append((v.label or v.host, detail))
    return out


def facts_items(facts: Mapping[str, FactValue]) -> list[tuple[str, str]]:
    """A result's facts as (name, text) pairs for a person."""
    return [(k, fact_text(v)) for k, v in facts.items()]
