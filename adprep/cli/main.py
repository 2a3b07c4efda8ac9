"""The ``adprep`` command: a lazy group (heavy libraries load only in the commands that use them),
and where a command's outcome becomes its exit status (:mod:`adprep.cli.exit` says which; click's own
exceptions are mapped here). A plain TCP sweep runs without click (:mod:`adprep.cli.plain`)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from adprep import __version__
from adprep.cli.app import App
from adprep.cli.exit import ExitStatus, exit_status_for_exception, one_line, sentence_for_exception

#: name → (module, attribute, one-line help). Explicit, no import-time discovery.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "preflight": (
        "adprep.cli.commands.preflight",
        "preflight",
        "Check everything AD Connector needs (DNS/SRV, ports, directory, service account) in one report.",
    ),
    "ports": (
        "adprep.cli.commands.ports",
        "ports",
        "Test the TCP/UDP ports AD Connector needs on domain controllers.",
    ),
    "gpo": (
        "adprep.cli.commands.gpo",
        "gpo",
        "Create, link and fill GPOs (PCoIP settings) and scan for settings that break WorkSpaces.",
    ),
    "delegate": (
        "adprep.cli.commands.delegate",
        "delegate",
        "Create the WorkSpaces_Connectors group, add members, delegate a preset's rights.",
    ),
    "account": ("adprep.cli.commands.account", "account", "Create the AD Connector service account."),
    "ou": ("adprep.cli.commands.ou", "ou", "Create organizational units (nested paths)."),
    "users": (
        "adprep.cli.commands.users",
        "users",
        "Import users in bulk from a CSV file; check users are WorkSpaces-ready.",
    ),
    "group": ("adprep.cli.commands.group", "group", "Create a security group and add members."),
    "checks": (
        "adprep.cli.commands.checks",
        "checks",
        "List the catalogue of checks: ids, what each proves, AD Connector's error, remedy, sources.",
    ),
    "fix": (
        "adprep.cli.commands.fix",
        "fix",
        "Fix what a preflight found: LDAP remedies as plan → apply, commands for the rest.",
    ),
    "radius": (
        "adprep.cli.commands.radius",
        "radius",
        "Validate AD Connector's RADIUS MFA settings and probe RADIUS servers.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="adprep")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or notes on stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Preflight and prepare an on-premises Active Directory for AWS AD Connector (WorkSpaces).

    Checks never write. Commands that write (delegate, account, ou, users, group, gpo, fix) show a plan and
    take --dry-run. Exit statuses: 0 no failure, 1 a check failed, 2 bad usage or input,
    3 a check could not run, 4 a bug in adprep, 5 a regression since --baseline.
    """
    ctx.obj = App(debug=debug, quiet=quiet)


def _print_traceback() -> None:
    """The traceback of the exception being handled, on stderr, without any secret adprep holds."""
    import traceback  # only for --debug: not worth its start-up time otherwise

    from adprep.secrets import scrub

    sys.stderr.write(scrub(traceback.format_exc()))


def _log_to_stderr() -> None:
    """``--debug``: the "adprep" logger's records on stderr, without any secret adprep holds: the
    tracebacks of the bugs an area turned into a result (:func:`adprep.report.area_failed`). logging
    is imported only here, so a run without --debug never loads it."""
    import logging

    from adprep.secrets import scrub

    class ScrubbingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return scrub(super().format(record))

    logger = logging.getLogger("adprep")
    if any(h.name == "adprep-debug" for h in logger.handlers):
        return
    handler = logging.StreamHandler()  # stderr
    handler.name = "adprep-debug"
    handler.setFormatter(ScrubbingFormatter("adprep: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and turn every outcome into an exit status."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    if not debug:
        return _exit_status(argv, debug=False)
    _log_to_stderr()
    try:
        return _exit_status(argv, debug=True)
    finally:
        _stop_logging_to_stderr()  # a later main() in this process (tests) without --debug prints none


def _stop_logging_to_stderr() -> None:
    import logging

    logger = logging.getLogger("adprep")
    for handler in [h for h in logger.handlers if h.name == "adprep-debug"]:
        logger.removeHandler(handler)


def _exit_status(argv: list[str] | None, *, debug: bool) -> int:
    """Run the CLI; the exit status of its outcome (:mod:`adprep.cli.exit` maps it), with one sentence
    on stderr when it ended on an exception."""
    try:
        rv: Any = cli.main(args=argv, prog_name="adprep", standalone_mode=False)
    except (Exception, KeyboardInterrupt) as e:
        status = _exit_status_for(e)
        if debug and status in (ExitStatus.ERROR, ExitStatus.BUG):
            # an error: its chained causes (raise ... from e), what the library or the peer said
            _print_traceback()
        click.echo(_sentence(e, status), err=True)
        return int(status)
    return int(rv) if isinstance(rv, int) else 0


def _exit_status_for(e: BaseException) -> ExitStatus:
    """:func:`adprep.cli.exit.exit_status_for_exception`, and click's own: an aborted prompt (130), a
    usage error (2)."""
    if isinstance(e, click.exceptions.Abort):
        return ExitStatus.INTERRUPTED
    if isinstance(e, click.ClickException):
        return ExitStatus.USAGE
    return exit_status_for_exception(e)


def _sentence(e: BaseException, status: ExitStatus) -> str:
    """The one line on stderr for an exception that ended a command."""
    if status is not ExitStatus.INTERRUPTED and isinstance(e, click.UsageError):
        where = e.ctx.command_path if e.ctx else "adprep"
        message = one_line(e.format_message()).rstrip(".")
        return f"adprep: error: {message}. Run '{where} --help' for the options."
    if status is not ExitStatus.INTERRUPTED and isinstance(e, click.ClickException):
        return f"adprep: error: {one_line(e.format_message())}"
    return sentence_for_exception(e, status)


if __name__ == "__main__":
    sys.exit(main())
