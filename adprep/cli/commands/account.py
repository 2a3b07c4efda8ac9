"""``adprep account create``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from adprep.cli.app import App
from adprep.cli.commands._prep import show_or_apply
from adprep.cli.options import DirectoryOptions, directory_options, plan_options, prompt_password
from adprep.requirements import DELEGATION_GROUP

ACCOUNT_PASSWORD_ENV = "ADPREP_ACCOUNT_PASSWORD"


@click.group()
def account() -> None:
    """The AD Connector service account."""


@account.command("create")
@click.argument("name")
@click.option("--container", metavar="PATH|DN", help="Where to create the account (default CN=Users).")
@click.option("--group", default=DELEGATION_GROUP, show_default=True, help="The delegation group it joins.")
@click.option("--no-group", is_flag=True, help="Join no group.")
@click.option(
    "--account-password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"File holding the account's password (else env {ACCOUNT_PASSWORD_ENV}, else a prompt on a terminal).",
)
@click.option("--generate-password", is_flag=True, help="Generate a password (24 characters, 4 classes).")
@click.option(
    "--password-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where a generated password goes: a file created with mode 0600, or - for stdout.",
)
@click.option("--password-never-expires", is_flag=True, help="Set 'password never expires' on the account.")
@click.option("--reset-password", is_flag=True, help="Set the password of an existing account too.")
@directory_options
@plan_options
@click.pass_obj
def create(
    app: App,
    name: str,
    container: str | None,
    group: str,
    no_group: bool,
    account_password_file: Path | None,
    generate_password: bool,
    password_out: Path | None,
    password_never_expires: bool,
    reset_password: bool,
    dc_options: DirectoryOptions,
    dry_run: bool,
    fmt: str,
) -> int:
    """Create the service account NAME (enabled), or bring an existing one in line, and put it in the group.

    Its password is set over TLS in the same add that creates it. The bind password comes from
    --password-file or ADPREP_PASSWORD; the new account's from --account-password-file or
    ADPREP_ACCOUNT_PASSWORD, or is generated (--generate-password --password-out FILE).

    \b
    Examples:
      adprep account create svc-adc --generate-password --password-out svc-adc.pw \\
          --dc 10.0.0.10 --domain corp.example.com --user Administrator
    """
    from adprep.ad.names import validate_sam_account_name, validate_service_account_name
    from adprep.jobs.account import STDOUT, account_settings, apply_account_create, plan_account_create
    from adprep.jobs.directory_session import open_session
    from adprep.secrets import read_secret

    validate_service_account_name(name)  # before any password is asked for
    validate_sam_account_name(name)
    directory = dc_options.settings()
    secret = None
    if not generate_password:
        secret = read_secret(
            what=f"the password for the new account {name}",
            env_var=ACCOUNT_PASSWORD_ENV,
            file=account_password_file,
            prompt=prompt_password,
            required=False,
        )
    settings = account_settings(
        directory, name=name, container=container, group=None if no_group else group, password=secret,
        generate=generate_password, password_out=password_out, never_expires=password_never_expires,
        reset_password=reset_password,
    )  # fmt: skip
    to_stdout = settings.password_out == STDOUT
    with open_session(directory) as session:
        planned = plan_account_create(session, settings)
        # With --password-out -, stdout carries the password alone; the plan goes to stderr.
        redirect = contextlib.redirect_stdout(sys.stderr) if to_stdout else contextlib.nullcontext()
        with redirect:
            status, result = show_or_apply(
                app, planned.plan, lambda p, tick: apply_account_create(session, p, on_done=tick), fmt=fmt,
                dry_run=dry_run,
            )  # fmt: skip
    if to_stdout and planned.generated is not None and result is not None:
        applied = {o.change.id for o in result.outcomes if o.status == "applied"}
        if any(c.id in applied and c.id.startswith("account.") for c in planned.plan.changes):
            click.echo(planned.generated.reveal())
    return status
