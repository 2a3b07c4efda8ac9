"""Plans and apply results for people (a table) and machines (JSON, schema adprep/schema/plan-v1.json).

:func:`render_plan_json` and :func:`render_plan_table` render a whole plan at once. A command that
plans and applies in chunks (``users import``) uses :class:`PlanJsonWriter` or
:class:`PlanTableWriter` instead: they take the chunks one by one and hold no more than a chunk
(the JSON's ``changes`` are written item by item; a table of more than :data:`TABLE_MAX_ROWS`
changes becomes a summary), so output does not grow memory with the plan.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections import Counter
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from adprep import __version__
from adprep.prep.plan import ApplyResult, Change, Outcome, Plan

PLAN_SCHEMA_VERSION = "1.0"
#: A plan with more changes than this is shown as a summary (counts, and every change that did
#: not apply) rather than a row per change.
TABLE_MAX_ROWS = 200
#: Warnings the table shows; beyond, it says how many more (the JSON lists each).
TABLE_MAX_WARNINGS = 20

Write = Callable[[str], None]


def _status(outcome: Outcome | None, *, dry_run: bool) -> str:
    if outcome is not None:
        return outcome.status
    return "planned" if dry_run else "pending"


def change_to_dict(change: Change, outcome: Outcome | None, *, dry_run: bool) -> dict[str, Any]:
    """One change of the plan-v1 document, with its outcome's status and error."""
    return {
        "id": change.id,
        "action": change.action,
        "target": change.target,
        "summary": change.summary,
        "details": dict(change.details),
        "depends_on": list(change.depends_on),
        "status": _status(outcome, dry_run=dry_run),
        "error": outcome.error if outcome is not None else None,
    }


def _envelope(command: str, *, dry_run: bool) -> dict[str, Any]:
    return {
        "schema_version": PLAN_SCHEMA_VERSION,
        "tool": {"name": "adprep", "version": __version__},
        "command": command,
        "dry_run": dry_run,
    }


def _outcomes(plan: Plan, result: ApplyResult | None) -> dict[str, Outcome]:
    return {o.change.id: o for o in result.outcomes} if result else {}


def plan_to_dict(plan: Plan, result: ApplyResult | None = None, *, dry_run: bool) -> dict[str, Any]:
    """The plan-v1 JSON document: the plan, and what applying it did when ``result`` is given."""
    status = _outcomes(plan, result)
    data = {
        **_envelope(plan.command, dry_run=dry_run),
        "changes": [change_to_dict(c, status.get(c.id), dry_run=dry_run) for c in plan.changes],
        "in_place": list(plan.in_place),
    }
    if plan.warnings:  # only when there are some: every other plan's document stays as it was
        data["warnings"] = list(plan.warnings)
    return data


def render_plan_json(plan: Plan, result: ApplyResult | None = None, *, dry_run: bool) -> str:
    return json.dumps(plan_to_dict(plan, result, dry_run=dry_run), indent=2, ensure_ascii=False) + "\n"


def _item(value: Any) -> str:
    """One array item as ``json.dumps(..., indent=2)`` writes it two levels deep."""
    return "\n    " + json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n    ")


class PlanJsonWriter:
    """The plan-v1 document written as chunks arrive, byte for byte what :func:`render_plan_json`
    writes for the whole plan: the envelope first (on the first chunk, so an error raised before
    any chunk leaves stdout empty), then each change, then ``in_place`` and ``warnings`` (spooled
    to temporary files meanwhile, since they follow ``changes``)."""

    def __init__(self, command: str, write: Write, *, dry_run: bool) -> None:
        self.command = command
        self.dry_run = dry_run
        self.failed = False
        self._write = write
        self._started = False
        self._changes = 0
        # Closed by close(); a plan of 100,000 users already in place spills to disk past 1 MB.
        self._in_place = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115
        self._warnings = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115
        self._warned = 0

    def _start(self) -> None:
        if not self._started:
            head = json.dumps(_envelope(self.command, dry_run=self.dry_run), indent=2, ensure_ascii=False)
            self._write(head[: -len("\n}")] + ',\n  "changes": [')
            self._started = True

    def add(self, plan: Plan, result: ApplyResult | None) -> None:
        self._start()
        status = _outcomes(plan, result)
        parts = []
        for c in plan.changes:
            o = status.get(c.id)
            self.failed |= o is not None and o.status != "applied"
            parts.append(("," if self._changes else "") + _item(change_to_dict(c, o, dry_run=self.dry_run)))
            self._changes += 1
        if parts:
            self._write("".join(parts))
        for line in plan.in_place:
            self._in_place.write(json.dumps(line, ensure_ascii=False) + "\n")
        for line in plan.warnings:
            self._warnings.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._warned += 1

    def _array(self, spool: Any) -> int:
        spool.seek(0)
        n = 0
        for line in spool:
            self._write(("," if n else "") + "\n    " + line.rstrip("\n"))
            n += 1
        spool.close()
        return n

    def close(self) -> None:
        self._start()
        self._write(("\n  ]" if self._changes else "]") + ',\n  "in_place": [')
        n = self._array(self._in_place)
        self._write("\n  ]" if n else "]")
        if self._warned:
            self._write(',\n  "warnings": [')
            self._array(self._warnings)
            self._write("\n  ]")
        else:
            self._warnings.close()
        self._write("\n}\n")


def _table(
    command: str,
    rows: list[tuple[str, str]],
    not_applied: list[Outcome],
    *,
    in_place: int,
    dry_run: bool,
    color: bool,
    summary: Counter[tuple[str, str]] | None = None,
    warnings: tuple[list[str], int] = ([], 0),
) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=120, highlight=False)
    total = sum(summary.values()) if summary is not None else len(rows)
    if total == 0:
        console.print(f"adprep {command}: nothing to change ({in_place} already in place).")
        _print_warnings(console, *warnings)
        return buf.getvalue()
    verb = "would make" if dry_run else "made"
    if summary is None:
        table = Table(title=f"adprep {command}: {total} change(s) {verb}", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("status")
        table.add_column("change", overflow="fold")
        for i, (status, text) in enumerate(rows, 1):
            table.add_row(str(i), status, text)
    else:
        # The title above, not in, the table: a narrow table would wrap it.
        console.print(
            f"adprep {command}: {total} change(s) {verb}; more than {TABLE_MAX_ROWS}, so counted "
            "by action and status (--format json lists each)",
            soft_wrap=True,
        )
        table = Table()
        table.add_column("action")
        table.add_column("status")
        table.add_column("changes", justify="right")
        for (action, status), n in sorted(summary.items()):
            table.add_row(action, status, str(n))
    console.print(table)
    if summary is not None and in_place:
        console.print(f"{in_place} already in place.")
    for o in not_applied:
        console.print(f"{o.status.upper()} {o.change.summary}: {o.error}", soft_wrap=True)
    _print_warnings(console, *warnings)
    if dry_run:
        console.print("Dry run: nothing was written. Run again without --dry-run to apply.")
    return buf.getvalue()


def _print_warnings(console: Console, shown: list[str], total: int) -> None:
    for line in shown:
        console.print(f"WARNING {line}", soft_wrap=True, markup=False)
    if total > len(shown):
        console.print(f"… and {total - len(shown)} more warning(s) (--format json lists each).")


def render_plan_table(
    plan: Plan, result: ApplyResult | None = None, *, dry_run: bool, color: bool = False
) -> str:
    status = _outcomes(plan, result)
    rows = [(_status(status.get(c.id), dry_run=dry_run), c.summary) for c in plan.changes]
    return _table(
        plan.command, rows, list(result.failed) if result else [], in_place=len(plan.in_place),
        dry_run=dry_run, color=color, warnings=(list(plan.warnings[:TABLE_MAX_WARNINGS]), len(plan.warnings)),
    )  # fmt: skip


class PlanTableWriter:
    """The table of a plan that arrives in chunks, written at :meth:`close`: a row per change up to
    :data:`TABLE_MAX_ROWS` changes, else counts per action and status. Either way every change
    that failed or was skipped is listed with its error (those are kept; nothing else is)."""

    def __init__(self, command: str, write: Write, *, dry_run: bool, color: bool = False) -> None:
        self.command = command
        self.dry_run = dry_run
        self.failed = False
        self._write = write
        self._color = color
        self._rows: list[tuple[str, str]] | None = []
        self._counts: Counter[tuple[str, str]] = Counter()
        self._not_applied: list[Outcome] = []
        self._in_place = 0
        self._warnings: list[str] = []
        self._warned = 0

    def add(self, plan: Plan, result: ApplyResult | None) -> None:
        status = _outcomes(plan, result)
        for c in plan.changes:
            s = _status(status.get(c.id), dry_run=self.dry_run)
            self._counts[(c.action, s)] += 1
            if self._rows is not None:
                self._rows.append((s, c.summary))
                if len(self._rows) > TABLE_MAX_ROWS:
                    self._rows = None
        if result is not None:
            # Only what a person needs from a failed outcome: not the change's payload.
            self._not_applied.extend(
                Outcome(
                    Change(o.change.id, o.change.action, o.change.target, o.change.summary), o.status, o.error
                )
                for o in result.failed
            )
        self.failed |= bool(result and result.failed)
        self._in_place += len(plan.in_place)
        self._warnings.extend(plan.warnings[: TABLE_MAX_WARNINGS - len(self._warnings)])
        self._warned += len(plan.warnings)

    def close(self) -> None:
        self._write(
            _table(
                self.command, self._rows or [], self._not_applied, in_place=self._in_place,
                dry_run=self.dry_run, color=self._color, summary=None if self._rows is not None else self._counts,
                warnings=(self._warnings, self._warned),
            )
        )  # fmt: skip
