"""The app object passed to every command (``pass_obj``), and report output.

Nothing here loads click: the plain sweep (:mod:`adprep.cli.plain`) writes its report through
:class:`App` too."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from adprep.cli.exit import ExitStatus, exit_status_for, exit_status_for_plan
from adprep.model import CheckResult, Report

if TYPE_CHECKING:
    from pathlib import Path

    from adprep.checks.drift import Baseline
    from adprep.prep.plan import ApplyResult, Plan
    from adprep.render.digest import Fixes
    from adprep.render.json import ResultTexts
    from adprep.render.plan import PlanJsonWriter, PlanTableWriter
    from adprep.transport.early_tcp import EarlyConnects

Format = Literal["table", "json", "junit", "markdown", "html", "openmetrics"]


@dataclass(frozen=True)
class ReportSettings:
    """What ``report_options`` adds to every report command besides the format and the output."""

    redact: bool = False
    """Replace names and addresses by tokens before rendering (``--redact``)."""
    baseline: Baseline | None = None
    """An earlier report to compare with (``--baseline``), already read and checked."""


@dataclass
class App:
    debug: bool = False
    quiet: bool = False
    report_settings: ReportSettings = field(default_factory=ReportSettings)
    """Set by ``report_options`` before the command runs (the commands pass only format and output)."""
    early: EarlyConnects | None = None
    """Connects begun before the command loaded (:mod:`adprep.cli.head_start`), for the plain sweep
    (:mod:`adprep.cli.plain`)."""
    _ahead: ResultTexts | None = field(default=None, init=False, repr=False)
    """Results :meth:`load_renderer`'s encoder wrote ahead of the report."""

    def load_renderer(self, fmt: Format) -> Callable[[CheckResult], None] | None:
        """Import ``fmt``'s renderer now (before a probe waits on its timeout) rather than after; for
        JSON, also what encodes each result as it comes (``run_ports``' ``on_result``), so a sweep's
        early results are written while it waits for its slowest probes."""
        if fmt != "json":
            return None
        from adprep.render.json import ResultTexts

        self._ahead = ResultTexts()
        return self._ahead.add

    def emit_report(self, report: Report, *, fmt: Format, output: Path | None) -> ExitStatus:
        """Render ``report`` to stdout or ``output`` and return the exit status it implies.

        With a baseline, the drift results join the report first (they decide exit status 5); with
        ``--redact``, the report is redacted once, after the exit status is known and before any
        renderer, so every format shows the same tokens.
        """
        settings = self.report_settings
        if settings.baseline is not None:
            from adprep.checks.drift import check_drift

            drift = check_drift(settings.baseline, report)
            report = dataclasses.replace(report, results=(*report.results, *drift))
        status = exit_status_for(report)
        fixes: Fixes | None = None
        if fmt in ("markdown", "html"):
            from adprep.render.digest import fixes as find_fixes

            fixes = find_fixes(report)  # from the real values: a redacted subnet is no CIDR to allow
        if settings.redact:
            from adprep.render.redact import Redactor

            redactor = Redactor()
            redactor.learn(report)
            report = redactor.apply(report)
            if fixes is not None:
                fixes = {
                    redactor.check_id(k): tuple(f.map(redactor.text) for f in v) for k, v in fixes.items()
                }
        pieces: Iterable[str]
        if fmt == "json":
            from adprep.render.json import iter_json

            # In pieces: a report of thousands of results is never whole in memory as text.
            pieces = iter_json(report, exit_status=int(status), ahead=self._ahead)
        elif fmt == "junit":
            from adprep.render.junit import render_junit

            text = render_junit(report)
        elif fmt == "markdown":
            from adprep.render.markdown import render_markdown

            text = render_markdown(report, exit_status=int(status), fixes=fixes)
        elif fmt == "html":
            from adprep.render.html import render_html

            text = render_html(report, exit_status=int(status), fixes=fixes)
        elif fmt == "openmetrics":
            from adprep.render.openmetrics import render_openmetrics

            text = render_openmetrics(report, exit_status=int(status))
        else:
            from adprep.render.table import render_table

            color = output is None and sys.stdout.isatty()
            text = render_table(report, color=color)
        if fmt != "json":
            pieces = (text,)
        if output is None:
            for piece in pieces:
                echo(piece)
        else:
            write_text_atomic(output, pieces)
            if not self.quiet:
                s = report.summary
                echo(
                    f"adprep: report written to {output} ({s.passed} passed, {s.warned} warnings, "
                    f"{s.failed} failed, {s.errors} could not run)\n",
                    err=True,
                )
        return status

    def emit_plan(self, plan: Plan, result: ApplyResult | None, *, fmt: str, dry_run: bool) -> ExitStatus:
        """Show a plan (``--dry-run``) or what applying it did. Exit 1 when a change failed."""
        from adprep.render.plan import render_plan_json, render_plan_table

        if fmt == "json":
            echo(render_plan_json(plan, result, dry_run=dry_run))
        else:
            echo(render_plan_table(plan, result, dry_run=dry_run, color=sys.stdout.isatty()))
        return exit_status_for_plan(failed=result is not None and bool(result.failed))

    def plan_writer(self, command: str, *, fmt: str, dry_run: bool) -> PlanJsonWriter | PlanTableWriter:
        """Show a plan that arrives in chunks (``add`` each, then ``close``); its ``failed`` says
        whether a change failed (exit 1)."""
        from adprep.render.plan import PlanJsonWriter, PlanTableWriter

        if fmt == "json":
            return PlanJsonWriter(command, echo, dry_run=dry_run)
        return PlanTableWriter(command, echo, dry_run=dry_run, color=sys.stdout.isatty())

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Callable[[], None]]:
        """A progress bar on stderr when it is a terminal and the run is long; otherwise nothing."""
        if self.quiet or total < 20 or not sys.stderr.isatty():
            yield lambda: None
            return
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda: bar.advance(task)


def echo(text: str, *, err: bool = False) -> None:
    """Write ``text`` to standard output (or error) at once, as ``click.echo(text, nl=False)`` does. A
    stream that cannot encode it (``PYTHONIOENCODING=ascii``) gets replacement characters, as click
    gives it, rather than an error."""
    stream = sys.stderr if err else sys.stdout
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding))
    stream.flush()


def write_text_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write ``text`` (or its pieces) to ``path`` through a temporary file, so a reader never sees
    half a report.

    A path that is not a regular file (``/dev/null``, ``/dev/stdout``, a FIFO) is written to as it is:
    renaming a file over it would replace the device or pipe with a plain file.
    """
    from adprep.errors import InputError

    pieces = (text,) if isinstance(text, str) else text
    try:
        special = path.exists() and not path.is_file()
    except OSError:
        special = False
    tmp = path if special else path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for piece in pieces:
                f.write(piece)
        if not special:
            tmp.replace(path)
    except OSError as e:
        if not special:
            tmp.unlink(missing_ok=True)
        raise InputError(
            f"Cannot write the report to {path}: {e.strerror or e}", hint="Check the path."
        ) from None
