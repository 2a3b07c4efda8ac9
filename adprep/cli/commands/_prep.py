"""Glue shared by the directory-prep commands (delegate, account, ou, users): the plan → (dry run |
apply) → show sequence."""

from __future__ import annotations

from collections.abc import Callable

from adprep.cli.app import App
from adprep.prep.plan import ApplyResult, Outcome, Plan


def show_or_apply(
    app: App,
    plan: Plan,
    apply: Callable[[Plan, Callable[[Outcome], None]], ApplyResult],
    *,
    fmt: str,
    dry_run: bool,
) -> tuple[int, ApplyResult | None]:
    """Show the plan (``--dry-run``), or apply it with a progress bar on a terminal and show the result."""
    if dry_run or plan.empty:
        return int(app.emit_plan(plan, None, fmt=fmt, dry_run=dry_run)), None
    with app.progress(len(plan.changes), f"adprep {plan.command}") as tick:
        result = apply(plan, lambda _o: tick())
    return int(app.emit_plan(plan, result, fmt=fmt, dry_run=False)), result
