"""``adprep ou create``."""

from __future__ import annotations

import click

from adprep.cli.app import App
from adprep.cli.commands._prep import show_or_apply
from adprep.cli.options import DirectoryOptions, directory_options, plan_options


@click.group()
def ou() -> None:
    """Organizational units."""


@ou.command("create")
@click.argument("paths", nargs=-1, required=True)
@click.option("--description", help="A description for the OUs created.")
@directory_options
@plan_options
@click.pass_obj
def create(
    app: App,
    paths: tuple[str, ...],
    description: str | None,
    dc_options: DirectoryOptions,
    dry_run: bool,
    fmt: str,
) -> int:
    """Create the OUs along each PATH, written top-down (WorkSpaces/Users), that do not exist yet.

    \b
    Examples:
      adprep ou create WorkSpaces/Users WorkSpaces/Computers --dc 10.0.0.10 --domain corp.example.com \\
          --user Administrator --dry-run
    """
    from adprep.jobs.directory_session import open_session
    from adprep.jobs.ou import apply_ou_create, check_ou_paths, plan_ou_create

    checked = check_ou_paths(paths, dc_options.base_dn())  # before the password is asked for
    settings = dc_options.settings()
    with open_session(settings) as session:
        plan = plan_ou_create(session, checked, settings.base_dn, description=description)
        status, _ = show_or_apply(
            app, plan, lambda p, tick: apply_ou_create(session, p, on_done=tick), fmt=fmt, dry_run=dry_run
        )
    return status
