"""Turning results into a report: the vantage point, timing, and errors as data."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from adprep import __version__
from adprep.model import CheckResult, Report, Status, Vantage


def now() -> datetime:
    return datetime.now(UTC)


def make_vantage(label: str | None, sources: Mapping[str, str | None]) -> Vantage:
    """The vantage point: this host, the caller's label, and the source address per target."""
    return Vantage(
        host=socket.gethostname(),
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


def could_not_run(check_id: str, title: str, reason: str, *, target: str | None = None) -> CheckResult:
    """The result for a check that could not run: status ``error`` with the reason."""
    return CheckResult(check_id, Status.ERROR, title, {"reason": reason}, remedy=reason, target=target)
