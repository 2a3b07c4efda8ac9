"""Plans and apply results for people (a table) and machines (JSON, schema adprep/schema/plan-v1.json)."""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from adprep import __version__
from adprep.prep.plan import ApplyResult, Plan

PLAN_SCHEMA_VERSION = "1.0"


def plan_to_dict(plan: Plan, result: ApplyResult | None = None, *, dry_run: bool) -> dict[str, Any]:
    status = {o.change.id: o for o in result.outcomes} if result else {}
    return {
        "schema_version": PLAN_SCHEMA_VERSION,
        "tool": {"name": "adprep", "version": __version__},
        "command": plan.command,
        "dry_run": dry_run,
        "changes": [
            {
                "id": c.id,
                "action": c.action,
                "target": c.target,
                "summary": c.summary,
                "details": dict(c.details),
                "depends_on": list(c.depends_on),
                "status": status[c.id].status if c.id in status else ("planned" if dry_run else "pending"),
                "error": status[c.id].error if c.id in status else None,
            }
            for c in plan.changes
        ],
        "in_place": list(plan.in_place),
    }


def render_plan_json(plan: Plan, result: ApplyResult | None = None, *, dry_run: bool) -> str:
    return json.dumps(plan_to_dict(plan, result, dry_run=dry_run), indent=2, ensure_ascii=False) + "\n"


def render_plan_table(
    plan: Plan, result: ApplyResult | None = None, *, dry_run: bool, color: bool = False
) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=120, highlight=False)
    if plan.empty:
        console.print(f"adprep {plan.command}: nothing to change ({len(plan.in_place)} already in place).")
        return buf.getvalue()
    verb = "would make" if dry_run else "made"
    table = Table(title=f"adprep {plan.command}: {len(plan.changes)} change(s) {verb}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("status")
    table.add_column("change", overflow="fold")
    status = {o.change.id: o for o in result.outcomes} if result else {}
    for i, c in enumerate(plan.changes, 1):
        o = status.get(c.id)
        table.add_row(str(i), o.status if o else ("planned" if dry_run else "pending"), c.summary)
    console.print(table)
    if result:
        for o in result.failed:
            console.print(f"{o.status.upper()} {o.change.summary}: {o.error}", soft_wrap=True)
    if dry_run:
        console.print("Dry run: nothing was written. Run again without --dry-run to apply.")
    return buf.getvalue()
