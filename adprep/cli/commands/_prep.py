"""Glue shared by the directory-prep commands (delegate, account, ou, users): settings from the
directory options, and the plan → (dry run | apply) → show sequence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adprep.cli.app import App
from adprep.cli.options import prompt_password
from adprep.jobs.directory_session import DirectorySettings, directory_settings
from adprep.prep.plan import ApplyResult, Outcome, Plan


def settings_from_options(
    *,
    dc: str | None,
    domain: str | None,
    user: str | None,
    password_file: Path | None,
    dc_name: str | None,
    ldap_mode: str,
    ca_file: str | None,
    insecure: bool,
) -> DirectorySettings:
    return directory_settings(
        dc=dc, domain=domain, user=user, password_file=password_file, dc_name=dc_name, mode=ldap_mode,
        ca_file=ca_file, insecure=insecure, prompt=prompt_password,
    )  # fmt: skip


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
