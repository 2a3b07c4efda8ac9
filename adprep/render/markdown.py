"""The report as GitHub-flavoured Markdown: for a ticket, a pull request or a wiki page.

A summary table first, then the failures (each with the AD Connector error it causes, the fix and the
commands), the checks that could not run, the warnings, a per-vantage matrix for runs from several
vantages, and every check. Text from the report is escaped, so a title cannot become markup.
"""

from __future__ import annotations

import re

from adprep.model import CheckResult, Report, Status, Vantage
from adprep.render import digest

# GFM: any ASCII punctuation may be backslash-escaped; these are the ones that make markup.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&!])")


def _text(value: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(value.split()))


def _code(value: str, *, cell: bool = True) -> str:
    # GFM tables split cells on "|" even inside code spans: "\|" keeps it (and renders as "|"). Outside
    # a table the backslash would show, so it is added in cells only.
    value = " ".join(value.split())
    if cell:
        value = value.replace("|", "\\|")
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _status(status: Status) -> str:
    return f"**{status.value.upper()}**" if status in (Status.FAIL, Status.ERROR) else status.value.upper()


def render_markdown(
    report: Report, *, exit_status: int | None = None, fixes: digest.Fixes | None = None
) -> str:
    """The document. ``fixes`` as for :func:`adprep.render.html.render_html`."""
    found = digest.fixes(report) if fixes is None else fixes
    shown: dict[digest.Fix, str] = {}  # a fix's commands are written once, under its first check
    lines: list[str] = [f"# adprep {_text(report.command)} report", ""]
    lines += [f"**{_text(digest.headline(report))}**" + (f" — exit status {exit_status}" if exit_status is not None else ""), ""]  # fmt: skip
    lines += ["| | |", "|---|---|"]
    lines.append(f"| started | {_text(report.started_at.isoformat())} ({report.duration_s:.2f} s) |")
    for label, detail in digest.where(report):
        lines.append(f"| from {_code(label)} | {_text(detail)} |")
    if report.targets:
        lines.append(f"| targets | {', '.join(_code(t) for t in report.targets)} |")
    for r in report.scope:
        lines.append(f"| scope | {_text(r.title)} |")
    if report.redacted:
        lines.append("| redacted | names and addresses are replaced by tokens (DC-1, DOMAIN-1, USER-1…) |")
    lines.append(f"| adprep | {_text(report.tool_version)}, report schema {_text(report.schema_version)} |")
    lines += ["", "| status | checks |", "|---|---:|"]
    lines += [f"| {_status(status)} | {n} |" for status, n in digest.counts(report)]
    if not report.vantages:
        lines += ["", f"> {_text(Vantage.NOTE)}"]

    for status, heading, _ in digest.ATTENTION:
        results = digest.with_status(report, status)
        if status is not Status.FAIL and not results:
            continue
        lines += ["", f"## {heading} ({len(results)})", ""]
        if not results:
            lines.append("No check failed.")
        for r in results:
            lines += _detail(r, found.get(r.id, ()), shown)

    matrix = digest.vantage_matrix(report)
    if matrix is not None:
        lines += ["", "## Per-vantage matrix", ""]
        lines.append("| check | " + " | ".join(_code(v) for v in matrix.vantages) + " |")
        lines.append("|---|" + "---|" * len(matrix.vantages))
        for check, cells in matrix.rows:
            row = " | ".join(_cell(c) for c in cells)
            lines.append(f"| {_code(check)} | {row} |")

    lines += [
        "",
        f"## All checks ({len(report.results)})",
        "",
        "| status | check | result |",
        "|---|---|---|",
    ]
    for r in report.results:
        lines.append(f"| {_status(r.status)} | {_code(r.id)} | {_text(r.title)} |")
    return "\n".join(lines) + "\n"


def _cell(result: CheckResult | None) -> str:
    text = _text(digest.cell(result))
    return f"**{text}**" if result is not None and result.status in (Status.FAIL, Status.ERROR) else text


def _detail(r: CheckResult, fixes: tuple[digest.Fix, ...], shown: dict[digest.Fix, str]) -> list[str]:
    out = [f"### {_code(r.id, cell=False)}", "", _text(r.title), ""]
    if r.adc_error:
        out.append(f"- **AD Connector would report:** {_text(r.adc_error)}")
    if r.remedy:
        out.append(f"- **Fix:** {_text(r.remedy)}")
    for command in digest.commands_in(r.remedy):
        out.append(f"- **Command:** {_code(command, cell=False)}")
    for fix in fixes:
        first = shown.setdefault(fix, r.id)
        if first != r.id:
            out.append(
                f"- **Run by hand:** {_text(fix.title)}: the commands under {_code(first, cell=False)}"
            )
            continue
        out.append(f"- **Run by hand:** {_text(fix.title)}. *Where:* {_text(fix.where)}")
        out += [f"  - {_code(c, cell=False)}" for c in fix.commands]
        if fix.note:
            out.append(f"  - *{_text(fix.note)}*")
    facts = digest.facts_items(r.facts)
    if facts:
        out.append("- **Facts:** " + "; ".join(f"{_text(k)}: {_code(v, cell=False)}" for k, v in facts))
    out.append("")
    return out
