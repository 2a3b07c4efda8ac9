"""The report as one self-contained HTML page: to open offline, attach to a ticket, or print.

Everything is in the file: inline CSS, no script, no font, image or link to fetch. A Content Security
Policy that forbids every load but inline styles makes that a promise the browser keeps. The summary
comes first, then the failures (each with the AD Connector error it causes, the fix, the adprep
command it names and, for what adprep cannot write, the commands ``adprep fix`` prints), the checks that could not run, the warnings, a per-vantage matrix for runs from several
vantages, and every check with its facts. Every text from the report is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from adprep.model import CheckResult, Report, Status, Vantage
from adprep.render import digest

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { --fail: #b3261e; --error: #8e24aa; --warn: #a15c00; --pass: #1b7a35; --skip: #6b6b6b;
        --line: #d7d7d7; --soft: #f5f6f8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d1d1f; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 14px; margin: 0 0 4px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.verdict { font-size: 16px; font-weight: 600; margin: 6px 0 14px; }
.badges { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 14px; padding: 0; list-style: none; }
.badges li { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; background: var(--soft); }
.badges b { font-size: 18px; margin-right: 4px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; }
.note { color: #555; font-style: italic; }
.st { display: inline-block; min-width: 4.2em; text-align: center; border-radius: 4px; padding: 0 6px;
      font-weight: 600; font-size: 12px; color: #fff; }
.st.fail { background: var(--fail); } .st.error { background: var(--error); } .st.warn { background: var(--warn); }
.st.pass { background: var(--pass); } .st.skip { background: var(--skip); }
.verdict.fail { color: var(--fail); } .verdict.error { color: var(--error); } .verdict.warn { color: var(--warn); }
.verdict.pass, .verdict.skip { color: var(--pass); }
article { border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 6px; padding: 10px 14px;
          margin: 0 0 10px; break-inside: avoid; }
article.fail { border-left-color: var(--fail); } article.error { border-left-color: var(--error); }
article.warn { border-left-color: var(--warn); }
article p { margin: 4px 0; }
.adc { background: #fdecea; border-radius: 4px; padding: 4px 8px; }
pre.command { background: #1d1d1f; color: #f5f5f7; border-radius: 4px; padding: 6px 10px; margin: 4px 0;
              white-space: pre-wrap; overflow-wrap: anywhere; }
.manual { border-top: 1px dashed var(--line); margin-top: 8px; padding-top: 4px; }
.manual .note { font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); }
td.id { word-break: break-all; width: 34%; }
table.facts { width: auto; margin-top: 4px; }
table.facts td, table.facts th { border: 0; padding: 1px 8px 1px 0; font-size: 12.5px; }
td.c-fail, td.c-error { color: var(--fail); font-weight: 600; } td.c-warn { color: var(--warn); }
td.c-pass { color: var(--pass); } td.c-skip { color: var(--skip); }
details summary { cursor: pointer; color: #555; }
footer { margin-top: 28px; color: #666; font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  tr, article { break-inside: avoid; }
  .st, .adc, pre.command, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  details > summary { display: none; }
}
"""


def render_html(report: Report, *, exit_status: int | None = None, fixes: digest.Fixes | None = None) -> str:
    """The page. ``fixes``: the commands for what adprep cannot write, by check id (computed from the
    report when not given; ``--redact`` gives them computed before redaction)."""
    worst = digest.worst(report)
    found = digest.fixes(report) if fixes is None else fixes
    shown: dict[digest.Fix, str] = {}  # a fix's commands are written once, under its first check
    title = f"adprep {report.command}: {digest.headline(report)}"
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<header id="summary">',
        f"<h1>adprep {escape(report.command)} report</h1>",
        f'<p class="verdict {worst.value}">{escape(_verdict_line(report, exit_status))}</p>',
        '<ul class="badges">',
        *(
            f'<li><b>{n}</b><span class="st {status.value}">{status.value.upper()}</span> '
            f"{escape(digest.LABELS[status])}</li>"
            for status, n in digest.counts(report)
        ),
        "</ul>",
        '<dl class="meta">',
        f"<dt>started</dt><dd>{escape(report.started_at.isoformat())} ({report.duration_s:.2f} s)</dd>",
        *(
            f"<dt>from <code>{escape(label)}</code></dt><dd>{escape(detail)}</dd>"
            for label, detail in digest.where(report)
        ),
    ]
    if report.targets:
        out.append(
            f"<dt>targets</dt><dd>{', '.join(f'<code>{escape(t)}</code>' for t in report.targets)}</dd>"
        )
    out += [f"<dt>scope</dt><dd>{escape(r.title)}</dd>" for r in report.scope]
    if report.redacted:
        out.append(
            "<dt>redacted</dt><dd>names and addresses are replaced by tokens (DC-1, DOMAIN-1, USER-1…)</dd>"
        )
    out.append("</dl>")
    if not report.vantages:
        out.append(f'<p class="note">{escape(Vantage.NOTE)}</p>')
    out.append("</header>")

    for status, heading, anchor in digest.ATTENTION:
        results = digest.with_status(report, status)
        if status is not Status.FAIL and not results:
            continue
        out.append(f'<section id="{anchor}">')
        out.append(f"<h2>{escape(heading)} ({len(results)})</h2>")
        if not results:
            out.append("<p>No check failed.</p>")
        out += [_article(r, found.get(r.id, ()), shown) for r in results]
        out.append("</section>")

    matrix = digest.vantage_matrix(report)
    if matrix is not None:
        out += [
            '<section id="matrix">',
            "<h2>Per-vantage matrix</h2>",
            "<table>",
            "<thead><tr><th>check</th>",
        ]
        out += [f"<th>{escape(v)}</th>" for v in matrix.vantages]
        out.append("</tr></thead><tbody>")
        for check, cells in matrix.rows:
            tds = "".join(
                f'<td class="c-{c.status.value if c else "skip"}">{escape(digest.cell(c))}</td>'
                for c in cells
            )
            out.append(f'<tr><td class="id"><code>{escape(check)}</code></td>{tds}</tr>')
        out += ["</tbody></table>", "</section>"]

    out += [
        '<section id="all">',
        f"<h2>All checks ({len(report.results)})</h2>",
        "<table>",
        "<thead><tr><th>status</th><th>check</th><th>result</th></tr></thead><tbody>",
    ]
    for r in report.results:
        facts = _facts(r, fold=True)
        out.append(
            f'<tr><td><span class="st {r.status.value}">{r.status.value.upper()}</span></td>'
            f'<td class="id"><code>{escape(r.id)}</code></td><td>{escape(r.title)}{facts}</td></tr>'
        )
    out += ["</tbody></table>", "</section>"]
    out.append(
        f"<footer>adprep {escape(report.tool_version)} · report schema {escape(report.schema_version)} · "
        f"the same report as JSON: <code>--format json</code></footer>"
    )
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _verdict_line(report: Report, exit_status: int | None) -> str:
    line = digest.headline(report)
    return line + (f" — exit status {exit_status}" if exit_status is not None else "")


def _article(r: CheckResult, fixes: tuple[digest.Fix, ...], shown: dict[digest.Fix, str]) -> str:
    parts = [
        f'<article class="{r.status.value}" id="r-{escape(r.id)}">',
        f"<h3><code>{escape(r.id)}</code></h3>",
        f"<p>{escape(r.title)}</p>",
    ]
    if r.adc_error:
        parts.append(f'<p class="adc"><b>AD Connector would report:</b> {escape(r.adc_error)}</p>')
    if r.remedy:
        parts.append(f'<p class="fix"><b>Fix:</b> {escape(r.remedy)}</p>')
    parts += [f'<pre class="command">{escape(c)}</pre>' for c in digest.commands_in(r.remedy)]
    for f in fixes:
        parts.append(_fix(f, shown.get(f)))
        shown.setdefault(f, r.id)
    parts.append(_facts(r, fold=False))
    parts.append("</article>")
    return "\n".join(p for p in parts if p)


def _fix(fix: digest.Fix, shown_under: str | None) -> str:
    if shown_under is not None:
        return (
            f'<div class="manual"><p><b>Run by hand:</b> {escape(fix.title)}: the commands under '
            f'<a href="#r-{escape(shown_under)}"><code>{escape(shown_under)}</code></a>.</p></div>'
        )
    parts = [
        '<div class="manual">',
        f"<p><b>Run by hand:</b> {escape(fix.title)}. <i>Where:</i> {escape(fix.where)}</p>",
        *(f'<pre class="command">{escape(c)}</pre>' for c in fix.commands),
    ]
    if fix.note:
        parts.append(f'<p class="note">{escape(fix.note)}</p>')
    parts.append("</div>")
    return "\n".join(parts)


def _facts(r: CheckResult, *, fold: bool) -> str:
    items = digest.facts_items(r.facts)
    if not items:
        return ""
    rows = "".join(f'<tr><th>{escape(k)}</th><td class="mono">{escape(v)}</td></tr>' for k, v in items)
    table = f'<table class="facts">{rows}</table>'
    return f"<details><summary>facts</summary>{table}</details>" if fold else table
