"""Exit statuses, in one place (documented in the README)."""

from __future__ import annotations

import enum

from adprep.model import Report, Status


class ExitStatus(enum.IntEnum):
    OK = 0
    """No check failed (warnings allowed)."""
    FAILED = 1
    """At least one check failed (takes precedence over ERROR: a definite problem was found)."""
    USAGE = 2
    """Bad usage or input; nothing was sent on the network."""
    ERROR = 3
    """At least one check could not run (and none failed)."""
    BUG = 4
    """adprep itself hit an unexpected error: a bug (traceback with --debug)."""


def exit_status_for(report: Report) -> ExitStatus:
    statuses = {r.status for r in report.results}
    if Status.FAIL in statuses:
        return ExitStatus.FAILED
    if Status.ERROR in statuses:
        return ExitStatus.ERROR
    return ExitStatus.OK
