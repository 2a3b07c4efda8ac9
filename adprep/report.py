"""Building a report: the vantage point, timing, and errors as data (a check or an area that could not
run becomes an `error` result with its reason, so the rest of the report is kept)."""

from __future__ import annotations

import _socket  # gethostname() only: socket's wrapper (and its enums) would cost a sweep ~1.5 ms
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime

from adprep import __version__
from adprep.errors import AdprepError, InputError, reason_of
from adprep.model import CheckResult, ErrorReason, Report, Status, Vantage


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def make_vantage(label: str | None, sources: Mapping[str, str | None]) -> Vantage:
    """The vantage point: this host, the caller's label, and the source address per target."""
    return Vantage(
        host=_socket.gethostname(),
        label=label,
        source_addresses={t: s for t, s in sources.items() if s is not None},
    )


def build_report(
    command: str,
    *,
    started_at: datetime,
    targets: Iterable[str],
    results: Iterable[CheckResult],
    vantage: Vantage,
    vantages: tuple[Vantage, ...] = (),
) -> Report:
    """The report of ``command``: its results, targets (each once) and vantage, finished now."""
    return Report(
        command=command,
        tool_version=__version__,
        started_at=started_at,
        finished_at=now(),
        vantage=vantage,
        targets=tuple(dict.fromkeys(targets)),
        results=tuple(results),
        vantages=vantages,
    )


def could_not_run(
    check_id: str,
    title: str,
    why: str,
    *,
    reason: ErrorReason = ErrorReason.UNREACHABLE,
    target: str | None = None,
) -> CheckResult:
    """The result for a check that could not run: status ``error``, ``why`` in a sentence (the facts'
    ``reason`` and the remedy) and the kind of failure (the result's ``reason``; for an exception,
    :func:`adprep.errors.reason_of`)."""
    return CheckResult(
        check_id, Status.ERROR, title, {"reason": why}, remedy=why, target=target, reason=reason
    )


def area_failed(check_id: str, what: str, exc: Exception, *, target: str | None = None) -> CheckResult:
    """The error result ``check_id`` (``dns.run``, ``ports.run``…: an area as a whole, or one check) for
    work that stopped on ``exc``, so that the other areas' results are kept. An exception adprep did not
    expect is reason ``bug`` (exit status 4): only its type is reported, since its text may hold
    anything; the traceback goes to the ``adprep`` logger (shown with ``--debug``)."""
    reason = reason_of(exc)
    if reason is ErrorReason.BUG:
        import logging  # only here: a run without a bug never loads it

        # The traceback goes to the "adprep" logger (shown on stderr with --debug), never into a report.
        logging.getLogger("adprep").debug("A bug in adprep stopped %s (%s)", what, check_id, exc_info=exc)
        return CheckResult(
            check_id,
            Status.ERROR,
            f"{what}: not run, adprep hit a bug ({type(exc).__name__})",
            {"exception": type(exc).__name__},
            remedy="This is a bug in adprep, not a finding: re-run with --debug for the traceback and report "
            "it. The other checks' results are complete.",
            target=target,
            reason=reason,
        )
    why = exc.sentence() if isinstance(exc, AdprepError) else f"{type(exc).__name__}: {exc}"
    return could_not_run(check_id, f"{what}: could not run", why, reason=reason, target=target)


def run_area(
    check_id: str, what: str, fn: Callable[[], list[CheckResult]], *, target: str | None = None
) -> list[CheckResult]:
    """``fn()``'s results, or one :func:`area_failed` result when it raises (bad input still raises)."""
    try:
        return fn()
    except InputError:
        raise
    except Exception as e:
        return [area_failed(check_id, what, e, target=target)]


async def run_area_async(
    check_id: str, what: str, work: Awaitable[list[CheckResult]], *, target: str | None = None
) -> list[CheckResult]:
    """:func:`run_area` for a coroutine."""
    try:
        return await work
    except InputError:
        raise
    except Exception as e:
        return [area_failed(check_id, what, e, target=target)]
