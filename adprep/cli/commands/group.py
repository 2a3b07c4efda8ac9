"""``adprep group create``."""

from __future__ import annotations

import click

from adprep.cli.app import App
from adprep.cli.commands._prep import show_or_apply
from adprep.cli.options import DirectoryOptions, directory_options, plan_options
from adprep.prep.groups import GROUP_SCOPES, GroupScope


@click.group()
def group() -> None:
    """Security groups."""


@group.command("create")
@click.argument("name")
@click.option("--ou", metavar="PATH|DN", help="Where to create the group (default CN=Users).")
@click.option(
    "--scope",
    type=click.Choice(GROUP_SCOPES),
    default="global",
    show_default=True,
    help="The group's scope; the group is a security group.",
)
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar="NAME|DN",
    help="Put this user or group in the group (repeatable); it must exist.",
)
@click.option("--description", help="A description for the group, if it is created.")
@directory_options
@plan_options
@click.pass_obj
def create(
    app: App,
    /,
    name: str,
    ou: str | None,
    scope: GroupScope,
    members: tuple[str, ...],
    description: str | None,
    dc_options: DirectoryOptions,
    dry_run: bool,
    fmt: str,
) -> int:
    """Create the security group NAME if no group has that name, and add the members it lacks.

    An existing group is used where it is and never converted (a different scope is a warning).

    \b
    Examples:
      adprep group create WorkSpaces_Users --ou WorkSpaces --member jdoe --dc 10.0.0.10 \\
          --domain corp.example.com --user Administrator --dry-run
      adprep group create "WS Admins" --scope universal --dc 10.0.0.10 ...
    """
    from adprep.jobs.directory_session import open_session
    from adprep.jobs.groups import apply_group_create, group_create_request, plan_group_create

    request = group_create_request(
        dc_options.base_dn(), name=name, ou=ou, scope=scope, members=members, description=description
    )  # before the password is asked for
    settings = dc_options.settings()
    with open_session(settings) as session:
        plan = plan_group_create(session, settings, request)
        status, _ = show_or_apply(
            app, plan, lambda p, tick: apply_group_create(session, p, on_done=tick), fmt=fmt, dry_run=dry_run
        )
    return status
