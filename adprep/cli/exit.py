"""Exit statuses, in one place (documented in the README): what a report, a plan, a fix or an
exception means as an exit status, and the one sentence an exception ends a run with. Commands,
:func:`adprep.cli.main.main` and the plain sweep (:mod:`adprep.cli.plain`) only ask here; click's own
exceptions (a usage error, an aborted prompt) are mapped in :mod:`adprep.cli.main`, which alone loads
click."""

from __future__ import annotations

import enum
import errno
from collections.abc import Iterable
from typing import TypeGuard

from adprep.errors import AdprepError, InputError
from adprep.model import CheckResult, ErrorReason, Report, Status


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
    """adprep itself hit an unexpected error: a bug (traceback with --debug). In a report, a result with
    reason ``bug`` (an area that stopped on one, its other results kept); takes precedence over all."""
    DRIFT = 5
    """With ``--baseline``: something regressed since the baseline (a check that did not fail then fails
    now, or a domain controller vanished). Takes precedence over FAILED and ERROR: a scheduler can tell
    "broken as before" (1) from "newly broken" (5)."""
    INTERRUPTED = 130
    """Ctrl-C (or an aborted prompt): 128 + SIGINT, as a shell reports it."""


def _has_bug(results: Iterable[CheckResult]) -> bool:
    return any(r.status is Status.ERROR and r.reason is ErrorReason.BUG for r in results)


def exit_status_for(report: Report) -> ExitStatus:
    """The exit status a report implies: a bug (4), drift (5), a failure (1), an error (3), else 0."""
    statuses = {r.status for r in report.results}
    if _has_bug(report.results):
        return ExitStatus.BUG
    if any(r.category == "drift" and r.status is Status.FAIL for r in report.results):
        return ExitStatus.DRIFT
    if Status.FAIL in statuses:
        return ExitStatus.FAILED
    if Status.ERROR in statuses:
        return ExitStatus.ERROR
    return ExitStatus.OK


def exit_status_for_fix(*, changes_failed: bool, after: Iterable[Status]) -> ExitStatus:
    """``adprep fix``: a change that failed, or a check that still fails after the fix, is 1; a check
    that could not run again is 3; a dry run, or a fix that worked, is 0."""
    statuses = set(after)
    if changes_failed or Status.FAIL in statuses:
        return ExitStatus.FAILED
    if Status.ERROR in statuses:
        return ExitStatus.ERROR
    return ExitStatus.OK


def exit_status_for_plan(*, failed: bool) -> ExitStatus:
    """A write command: 1 when a change of its plan failed (the others still went in), else 0."""
    return ExitStatus.FAILED if failed else ExitStatus.OK


#: What the system says when a write cannot happen (a full disk or quota, a read-only file system,
#: an I/O error): the host's state, not a bug of adprep's, wherever the write was (help, a listing…).
HOST_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def host_write_error(e: BaseException) -> TypeGuard[OSError]:
    """Whether ``e`` is the system refusing a write (see :data:`HOST_WRITE_ERRNOS`)."""
    return isinstance(e, OSError) and e.errno in HOST_WRITE_ERRNOS


def exit_status_for_exception(e: BaseException) -> ExitStatus:
    """What an exception that ended a command means: bad input (2, nothing was sent), an adprep error
    or a write the system refused that stopped it (3), an interruption (130), anything else a bug (4)."""
    if isinstance(e, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    if host_write_error(e):
        return ExitStatus.ERROR
    if isinstance(e, InputError):
        return ExitStatus.USAGE
    if isinstance(e, AdprepError):
        return ExitStatus.ERROR
    return ExitStatus.BUG


def one_line(text: str) -> str:
    """``text`` on one line: every run of white space (a newline in a library's message) one space."""
    return " ".join(text.split())


def sentence_for_exception(e: BaseException, status: ExitStatus) -> str:
    """The one line on stderr for an exception that ended a command (``status``: what it means)."""
    if status is ExitStatus.INTERRUPTED:
        return "adprep: interrupted."
    if isinstance(e, AdprepError):
        prefix = "error" if status is ExitStatus.USAGE else "could not run"
        return f"adprep: {prefix}: {one_line(e.sentence())}"
    if host_write_error(e):
        return f"adprep: could not run: a write failed: {e.strerror}. Check the disk (space, quota) where the output goes."
    return (
        f"adprep: internal error ({type(e).__name__}); this is a bug in adprep. Re-run with --debug for the "
        "traceback and report it."
    )
