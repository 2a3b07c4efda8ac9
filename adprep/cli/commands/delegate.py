"""``adprep delegate``."""

from __future__ import annotations

import click

from adprep.ad.delegation import PRESET_NAMES
from adprep.cli.app import App
from adprep.cli.commands._prep import show_or_apply
from adprep.cli.options import DirectoryOptions, directory_options, plan_options
from adprep.requirements import DELEGATION_GROUP


@click.command()
@click.option(
    "--preset",
    type=click.Choice(PRESET_NAMES),
    default="workspaces-2016",
    show_default=True,
    help="workspaces-2016: read all user information and join computers, on the domain root (Amazon "
    "WorkSpaces Administration Guide (2016), Delegating Connect Privileges). ad-connector-ou: create/delete/read "
    "(and write) computer and user objects on an OU (AWS Directory Service Administration Guide).",
)
@click.option("--group", metavar="NAME", help=f"The delegation group (default {DELEGATION_GROUP}).")
@click.option("--group-container", metavar="PATH|DN", help="Where to create the group (default CN=Users).")
@click.option(
    "--ou",
    metavar="PATH|DN",
    help="The OU to delegate on (required by ad-connector-ou; default: the domain root).",
)
@click.option("--no-write", is_flag=True, help="ad-connector-ou: leave out Write on computer objects.")
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar="NAME|DN",
    help="Add this account to the group (repeatable).",
)
@directory_options
@plan_options
@click.pass_obj
def delegate(
    app: App,
    preset: str,
    group: str | None,
    group_container: str | None,
    ou: str | None,
    no_write: bool,
    members: tuple[str, ...],
    dc_options: DirectoryOptions,
    dry_run: bool,
    fmt: str,
) -> int:
    """Create the delegation group, add members, and add a preset's ACEs (only the missing ones).

    \b
    Examples:
      adprep delegate --member svc-adc --domain corp.example.com --dns-ip 10.0.0.10 --user Administrator --dry-run
      adprep delegate --preset ad-connector-ou --ou WorkSpaces --group Connectors --dc dc1.corp.example.com ...
    """
    from adprep.jobs.delegate import apply_delegate, delegate_settings, plan_delegate
    from adprep.jobs.directory_session import open_session

    directory = dc_options.settings()
    settings = delegate_settings(
        directory, preset_name=preset, group=group, group_container=group_container, ou=ou, write=not no_write,
        members=members,
    )  # fmt: skip
    with open_session(directory) as session:
        plan = plan_delegate(session, settings)
        status, _ = show_or_apply(
            app, plan, lambda p, tick: apply_delegate(session, p, on_done=tick), fmt=fmt, dry_run=dry_run
        )
    return status
