"""What ``adprep fix`` planned, did and left to a person: a table for people, JSON for machines
(schema ``adprep/schema/fix-v1.json``, which embeds the plan-v1 document of the LDAP changes)."""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from adprep import __version__
from adprep.model import CheckResult
from adprep.prep.fix import FixResult
from adprep.render.commands import render_command
from adprep.render.plan import plan_to_dict, render_plan_table
from adprep.render.table import STATUS_STYLE

FIX_SCHEMA_VERSION = "1.0"


def _check(result: CheckResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"status": result.status.value, "title": result.title}


def fix_to_dict(result: FixResult, *, exit_status: int | None = None) -> dict[str, Any]:
    """The fix-v1 JSON document of ``result``."""
    fix = result.fix
    src = fix.source
    data: dict[str, Any] = {
        "schema_version": FIX_SCHEMA_VERSION,
        "tool": {"name": "adprep", "version": __version__},
        "command": "fix",
        "dry_run": result.dry_run,
        "source": {
            "kind": src.kind,
            "report": src.path,
            "domain": src.domain,
            "preflight_started_at": src.started_at.isoformat(),
        },
        "remedies": [
            {
                "id": r.id,
                "title": r.title,
                "status": result.remedy_status(r),
                "addresses": list(r.addresses),
                "changes": [c.id for c in r.plan.changes],
                "in_place": list(r.plan.in_place),
            }
            for r in fix.remedies
        ],
        "plan": plan_to_dict(fix.plan, result.applied, dry_run=result.dry_run),
        "checks": [
            {
                "id": row.id,
                "remedies": list(row.remedies),
                "before": _check(row.before),
                "after": _check(row.after),
            }
            for row in result.rows
        ],
        "commands": [
            {
                "id": s.id,
                "title": s.title,
                "where": s.where,
                "shell": s.commands[0].shell if s.commands else "sh",
                "commands": [render_command(c) for c in s.commands],
                "addresses": list(s.addresses),
                "note": s.note,
            }
            for s in fix.steps
        ],
        "not_fixed": [
            {"id": x.check_id, "status": x.status.value, "title": x.title, "reason": x.reason}
            for x in fix.leftovers
        ],
    }
    if exit_status is not None:
        data["exit_status"] = exit_status
    return data


def render_fix_json(result: FixResult, *, exit_status: int | None = None) -> str:
    return json.dumps(fix_to_dict(result, exit_status=exit_status), indent=2, ensure_ascii=False) + "\n"


def _status_text(result: CheckResult | None, *, missing: str) -> Text:
    if result is None:
        return Text(missing, style="dim")
    return Text(result.status.value.upper(), style=STATUS_STYLE[result.status])


def render_fix_table(result: FixResult, *, color: bool = False, width: int = 120) -> str:
    fix = result.fix
    buf = io.StringIO()
    # Commands and titles are printed as they are: no markup, no emoji codes, no wrapping inside a line.
    console = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
    )
    src = fix.source
    when = src.started_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    origin = f"run now ({when})" if src.kind == "live" else f"read from {src.path} (run {when})"
    console.print(f"adprep fix: the preflight of {src.domain or '?'}, {origin}", soft_wrap=True)
    console.print()
    if fix.remedies:
        buf.write(render_plan_table(fix.plan, result.applied, dry_run=result.dry_run, color=color))
        rows = result.rows
        if rows:
            applied = result.applied is not None
            table = Table(
                title="Checks the fixes address" + (", before → after" if applied else ""),
                title_justify="left",
            )
            table.add_column("check", overflow="fold")
            table.add_column("before", no_wrap=True)
            if applied:
                table.add_column("after", no_wrap=True)
            table.add_column("fixed by", overflow="fold")
            table.add_column("now", overflow="fold")
            for row in rows:
                cells: list[Text | str] = [row.id, _status_text(row.before, missing="-")]
                if applied:
                    cells.append(_status_text(row.after, missing="not run"))
                latest = row.after if applied and row.after is not None else row.before
                cells.extend([", ".join(row.remedies), latest.title if latest else ""])
                table.add_row(*cells)
            console.print(table)
            if applied and result.still_failing:
                console.print(
                    f"{len(result.still_failing)} check(s) still fail after the fix: see their remedies in "
                    "adprep preflight.",
                    soft_wrap=True,
                )
    else:
        console.print("Nothing adprep writes over LDAP is called for by this preflight.")
    if fix.steps:
        console.print()
        console.print(f"To do where adprep cannot write ({len(fix.steps)}):")
        for i, step in enumerate(fix.steps, 1):
            console.print(f"{i}. {step.title}", soft_wrap=True)
            console.print(Text(f"   where: {step.where}", style="dim"), soft_wrap=True)
            for command in step.commands:
                console.print(Text(f"   {render_command(command)}"), soft_wrap=True)
            if step.note:
                console.print(Text(f"   note: {step.note}", style="dim"), soft_wrap=True)
    if fix.leftovers:
        console.print()
        console.print(f"Not fixed by adprep ({len(fix.leftovers)}):")
        for x in fix.leftovers:
            console.print(
                Text(f"{x.status.value.upper()} {x.check_id}", style=STATUS_STYLE[x.status]), soft_wrap=True
            )
            console.print(f"  {x.title}", soft_wrap=True)
            console.print(f"  {x.reason}", soft_wrap=True)
    return buf.getvalue()
