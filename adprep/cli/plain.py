"""A plain TCP sweep, run without click: ``adprep ports ADDR… --tcp PORTS [--timeout S]
[--concurrency N] [--no-rpc] [--format F]``.

When the head start (:mod:`adprep.cli.head_start`) has read a command line whole, nothing is left for
click to read or check: no config file, no relay, no output file, no option the head start did not
read. Loading click and parsing the command line again would cost such a run a sixth of its time
(~17 ms of the ~97 a refused-only sweep of 90 addresses x 8 ports took), so it runs from the head
start's reading, through the same code as ``adprep ports``: the same settings (:func:`settings_for`;
``tests/unit/test_head_start.py`` holds them equal to click's over generated command lines), the same
sweep and report (:func:`sweep_report`, which the click command ends in too), the same exit statuses
and sentences (:mod:`adprep.cli.exit`). import-linter keeps click out of this module and of all it
imports.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, cast

from adprep.cli.app import App, echo
from adprep.cli.exit import exit_status_for_exception, sentence_for_exception

if TYPE_CHECKING:
    from pathlib import Path

    from adprep.cli.app import Format
    from adprep.cli.head_start import Plan
    from adprep.jobs.ports import PortsSettings
    from adprep.transport.early_tcp import EarlyConnects


def settings_for(plan: Plan) -> PortsSettings:
    """The settings ``adprep ports`` reaches from the command line ``plan`` was read from."""
    from adprep.jobs.ports import ports_settings

    return ports_settings(
        targets=plan.targets, profile=None, tcp=plan.ports, udp=None, timeout=plan.timeout,
        concurrency=plan.concurrency, vantage=plan.vantage, rpc=plan.rpc,
    )  # fmt: skip


def sweep_report(app: App, settings: PortsSettings, *, fmt: Format, output: Path | None) -> int:
    """Probe, report, and the exit status: how every ``adprep ports`` run ends."""
    from adprep.jobs.ports import probe_count, run_ports

    encode = app.load_renderer(fmt)  # now, not after a sweep that waited on a timeout
    with app.progress(probe_count(settings), "probing ports") as tick:
        report = run_ports(settings, on_done=tick, early=app.early, on_result=encode)
    return int(app.emit_report(report, fmt=fmt, output=output))


def run(plan: Plan, early: EarlyConnects) -> int:
    """Run ``plan`` (its connects begun: ``early``) as ``adprep ports`` would, and its exit status;
    an exception that ends it is one sentence on stderr, as :func:`adprep.cli.main.main` writes it."""
    try:
        return sweep_report(
            App(quiet=plan.quiet, early=early), settings_for(plan), fmt=cast("Format", plan.fmt), output=None
        )
    except BrokenPipeError:
        # The reader went away (``adprep ports … | head``): exit 1 without a word, as click does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (Exception, KeyboardInterrupt) as e:
        status = exit_status_for_exception(e)
        echo(sentence_for_exception(e, status) + "\n", err=True)
        return int(status)
