"""The report as metrics: OpenMetrics text for node_exporter's textfile collector or a Pushgateway.

Written in the subset that both the OpenMetrics 1.0 parser and Prometheus's classic text parser (the
one the textfile collector, the Pushgateway and ``promtool check metrics`` use) accept: gauges with
``# HELP`` and ``# TYPE``, no sample timestamps (the textfile collector refuses them), ``# EOF`` last
(OpenMetrics 1.0, "Overall structure"; a comment to the classic parser).

Families (every sample carries ``command``):

- ``adprep_check_status{id,category,vantage,target,status}``: one sample per check and status, 1 for
  the check's status and 0 for the others (a state set as gauges, so ``== 1`` selects, and a check
  that changes status does not leave a stale series behind);
- ``adprep_check_duration_seconds{id,category,vantage,target}``: the probe's own time, where its facts
  have ``elapsed_ms``;
- ``adprep_checks{status}``: how many checks got each status;
- ``adprep_run_timestamp_seconds``, ``adprep_run_duration_seconds``, ``adprep_run_exit_status``.

``id`` is the check id without its ``@vantage`` suffix; the vantage is its own label.
"""

from __future__ import annotations

from collections.abc import Iterable

from adprep.model import Report, Status
from adprep.render import digest

_STATUSES = (Status.PASS, Status.WARN, Status.FAIL, Status.ERROR, Status.SKIP)


def _label_value(value: str) -> str:
    # OpenMetrics 1.0 "ABNF": label values escape backslash, double quote and line feed.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def render_openmetrics(report: Report, *, exit_status: int | None = None) -> str:
    command = report.command
    default_vantage = report.vantage.label or ""
    lines: list[str] = []

    def family(name: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")

    family(
        "adprep_check_status",
        "Status of each adprep check: 1 for the status it got, 0 for the others.",
    )
    durations: list[str] = []
    for r in report.results:
        base = [
            ("command", command),
            # Only a vantage's own suffix is dropped: drift.new_failure.<id>@a and …@b stay two checks.
            ("id", r.base_id if r.vantage else r.id),
            ("category", r.category),
            ("vantage", r.vantage or default_vantage),
            ("target", r.target or ""),
        ]
        for status in _STATUSES:
            value = 1 if r.status is status else 0
            lines.append(f"adprep_check_status{_labels([*base, ('status', status.value)])} {value}")
        elapsed = r.facts.get("elapsed_ms")
        if isinstance(elapsed, int | float) and not isinstance(elapsed, bool):
            durations.append(f"adprep_check_duration_seconds{_labels(base)} {_number(elapsed / 1000)}")
    if durations:
        family("adprep_check_duration_seconds", "Time the check's probe took, in seconds.")
        lines += durations
    family("adprep_checks", "Number of checks of the run with each status.")
    for status, n in digest.counts(report):
        lines.append(f"adprep_checks{_labels([('command', command), ('status', status.value)])} {n}")
    run = _labels([("command", command)])
    family("adprep_run_timestamp_seconds", "When the run finished, in seconds since the Unix epoch.")
    lines.append(f"adprep_run_timestamp_seconds{run} {_number(round(report.finished_at.timestamp(), 3))}")
    family("adprep_run_duration_seconds", "How long the run took, in seconds.")
    lines.append(f"adprep_run_duration_seconds{run} {_number(round(report.duration_s, 3))}")
    if exit_status is not None:
        family("adprep_run_exit_status", "The run's exit status (0 ok, 1 failed, 3 could not run, 5 drift).")
        lines.append(f"adprep_run_exit_status{run} {exit_status}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
