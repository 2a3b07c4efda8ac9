"""The report as a table for people (rich). Colours only when writing to a terminal."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from adprep.model import Report, Status, Vantage

STATUS_STYLE = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "magenta",
    Status.SKIP: "dim",
}


def render_table(report: Report, *, color: bool = False, width: int = 120) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    title = f"adprep {report.command}" + (
        " (redacted: names and addresses are tokens)" if report.redacted else ""
    )
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("status", no_wrap=True)
    table.add_column("check", overflow="fold")
    table.add_column("result", overflow="fold")
    for r in report.results:
        table.add_row(Text(r.status.value.upper(), style=STATUS_STYLE[r.status]), r.id, r.title)
    console.print(table)
    problems = [r for r in report.results if r.status in (Status.FAIL, Status.ERROR, Status.WARN)]
    problems.sort(key=lambda r: -r.status.rank)
    for r in problems:
        console.print(Text(f"{r.status.value.upper()} {r.id}", style=STATUS_STYLE[r.status]))
        if r.adc_error:
            console.print(f"  AD Connector would report: {r.adc_error}", soft_wrap=True)
        if r.remedy:
            console.print(f"  Fix: {r.remedy}", soft_wrap=True)
    s = report.summary
    v = report.vantage
    where = f"{v.host}" + (f" ({v.label})" if v.label else "")
    sources = ", ".join(sorted(set(v.source_addresses.values())))
    if report.vantages:
        where = "; ".join(_vantage_line(x) for x in report.vantages)
        sources = ""
    console.print(
        f"{s.passed} passed, {s.warned} warnings, {s.failed} failed, {s.errors} could not run, "
        f"{s.skipped} skipped in {report.duration_s:.2f} s; from {where}"
        + (f", source {sources}" if sources else "")
    )
    for r in report.scope:
        console.print(f"Scope: {r.title}", soft_wrap=True)
    if not report.vantages:
        console.print(Text(Vantage.NOTE, style="dim"))
    return buf.getvalue()


def _vantage_line(v: Vantage) -> str:
    """``subnet-a (ssh://subnet-a, source 10.1.1.23)``, or why it did not run."""
    if v.error:
        return f"{v.label} ({v.via}: did not run)"
    sources = ", ".join(sorted(set(v.source_addresses.values())))
    how = v.host if v.via == "local" else v.via
    return f"{v.label} ({how}" + (f", source {sources}" if sources else "") + ")"
