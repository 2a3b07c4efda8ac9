"""``adprep users import`` and ``adprep users check``."""

from __future__ import annotations

from pathlib import Path

import click

from adprep.cli.app import App, Format
from adprep.cli.exit import exit_status_for_plan
from adprep.cli.options import DirectoryOptions, directory_options, plan_options, report_options
from adprep.errors import InputError


@click.group()
def users() -> None:
    """Users in bulk: import them from a CSV file, check they are WorkSpaces-ready."""


def _echo_rows(e: Exception) -> None:
    """A bad CSV: every bad row on stderr as file:line: reason (the one-sentence error follows)."""
    from adprep.ad.users_csv import UsersCsvError

    if isinstance(e, UsersCsvError):
        for problem in e.problems:
            click.echo(f"{e.path}:{problem.line}: {problem.reason}", err=True)


@users.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--default-ou", metavar="PATH|DN", help="Where rows with an empty ou column go (default CN=Users)."
)
@click.option(
    "--passwords-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV (mode 0600, appended to) for generated passwords; required when a row has no password.",
)
@click.option(
    "--update",
    is_flag=True,
    help="Also fill existing users' mail, givenName and sn from their rows (empty cells change nothing) "
    "and move them to their row's OU (an empty ou cell moves them only to --default-ou).",
)
@directory_options
@plan_options
@click.pass_obj
def import_(
    app: App,
    csv_file: Path,
    default_ou: str | None,
    passwords_out: Path | None,
    update: bool,
    dc_options: DirectoryOptions,
    dry_run: bool,
    fmt: str,
) -> int:
    """Create the users of CSV_FILE that do not exist, and add missing group memberships.

    Columns: sAMAccountName (required), givenName, sn, mail, ou (path or DN), groups (;-separated),
    password (empty: generated). The whole file is checked first; any bad row stops the import
    with every bad row listed (exit 2), and nothing is written. Then users are planned and
    applied 500 rows at a time, so memory stays flat however long the file is.

    Existing users are left as they are (they only join their rows' groups) unless --update is
    given. A user left without mail is a warning: no WorkSpace can be launched for it.

    The table lists each change when there are at most 200; a longer plan is shown as counts per
    action and status, plus every change that failed or was skipped (--format json lists each).

    \b
    Examples:
      adprep users import users.csv --passwords-out passwords.csv --dc 10.0.0.10 --domain corp.example.com \\
          --user Administrator --dry-run
      adprep users import users.csv --update --passwords-out passwords.csv --dc 10.0.0.10 ...
    """
    from adprep.ad.users_csv import UsersCsvError
    from adprep.jobs.directory_session import open_session
    from adprep.jobs.users import PasswordsFile, run_users_import, users_import_settings, validate_users_file

    if not csv_file.is_file():
        raise InputError(f"Cannot read the CSV file {csv_file}", hint="Check the path.")
    dc_options.base_dn()  # a missing --domain is said before any password is asked for
    directory = dc_options.settings()
    settings = users_import_settings(
        directory, csv_path=csv_file, default_ou=default_ou, passwords_out=passwords_out, update=update
    )
    try:
        index = validate_users_file(settings)
        # Only read here; it is written just before each add, so a dry run never touches it.
        # A run that writes locks it: two imports writing the same file take turns.
        passwords = None
        if passwords_out is not None:

            def waiting() -> None:
                if not app.quiet:
                    click.echo(
                        f"adprep: waiting for another adprep run that writes {passwords_out}", err=True
                    )

            passwords = PasswordsFile(passwords_out, lock=not dry_run, on_wait=waiting)
        # The writer prints nothing before the first chunk: a missing OU or group (raised by the
        # first step) leaves stdout empty.
        out = app.plan_writer("users import", fmt=fmt, dry_run=dry_run)
        with (
            open_session(directory) as session,
            app.progress(0 if dry_run else index.rows, "adprep users import") as tick,
        ):
            try:
                for chunk in run_users_import(session, settings, index, passwords, dry_run=dry_run):
                    out.add(chunk.plan, chunk.result)
                    for _ in range(chunk.rows):
                        tick()
            finally:
                if passwords is not None:
                    passwords.close()
        out.close()
    except UsersCsvError as e:
        _echo_rows(e)
        raise
    return int(exit_status_for_plan(failed=out.failed))


@users.command("check")
@click.option("--ou", metavar="PATH|DN", help="Check the users in this OU and below it.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check the users this CSV names (its sAMAccountName column; a users import file will do).",
)
@directory_options
@report_options
@click.pass_obj
def check(
    app: App,
    /,
    ou: str | None,
    csv_file: Path | None,
    fmt: Format,
    output: Path | None,
    vantage: str | None,
    dc_options: DirectoryOptions,
) -> int:
    """Report users that are not WorkSpaces-ready: no mail (no WorkSpace can be launched for them),
    "must change password at next logon" (they cannot connect), disabled, locked out, expired or
    password expired, and names WorkSpaces or AD Connector do not take.

    The whole domain by default (users only: no computers, no Administrator, Guest or krbtgt),
    --ou for an OU and below it, or --csv for the users a file names. One result per kind of
    problem, with the count and every user's name (--format json lists each; the table names the
    first 10). Users are read 1,000 at a time and judged as they come, so memory holds only the
    names of users with a problem. It never writes.

    \b
    Examples:
      adprep users check --ou WorkSpaces --dc 10.0.0.10 --domain corp.example.com --user Administrator
      adprep users check --csv users.csv --format junit -o users.xml --dc 10.0.0.10 ...
    """
    from adprep.ad.users_csv import UsersCsvError
    from adprep.jobs.users_check import run_users_check, users_check_scope

    try:
        scope = users_check_scope(dc_options.base_dn(), ou=ou, csv_path=csv_file)
    except UsersCsvError as e:
        _echo_rows(e)
        raise
    directory = dc_options.settings()
    report = run_users_check(directory, scope, vantage=vantage)
    return int(app.emit_report(report, fmt=fmt, output=output))
