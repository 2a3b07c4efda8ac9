"""The report as JSON: a versioned API. The schema is ``adprep/schema/report-v1.json``.

Stable: check ids, field names and status values. Additive changes keep ``schema_version`` 1.x.
"""

from __future__ import annotations

import json
from typing import Any

from adprep.model import Report, Vantage


def report_to_dict(report: Report, *, exit_status: int | None = None) -> dict[str, Any]:
    summary = report.summary
    data: dict[str, Any] = {
        "schema_version": report.schema_version,
        "tool": {"name": "adprep", "version": report.tool_version},
        "command": report.command,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "duration_s": round(report.duration_s, 3),
        "vantage": {
            "host": report.vantage.host,
            "label": report.vantage.label,
            "source_addresses": dict(report.vantage.source_addresses),
            "note": Vantage.NOTE,
        },
        **({"vantages": [_vantage(v) for v in report.vantages]} if report.vantages else {}),
        "targets": list(report.targets),
        "summary": {
            "pass": summary.passed,
            "warn": summary.warned,
            "fail": summary.failed,
            "error": summary.errors,
            "skip": summary.skipped,
        },
        "results": [
            {
                "id": r.id,
                "status": r.status.value,
                "title": r.title,
                "target": r.target,
                "facts": dict(r.facts),
                "remedy": r.remedy,
                "adc_error": r.adc_error,
                **({"reason": r.reason.value} if r.reason is not None else {}),
                **({"vantage": r.vantage} if r.vantage is not None else {}),
            }
            for r in report.results
        ],
    }
    if report.redacted:
        data["redacted"] = True
    if exit_status is not None:
        data["exit_status"] = exit_status
    return data


def _vantage(v: Vantage) -> dict[str, Any]:
    return {
        "label": v.label,
        "via": v.via,
        "host": v.host,
        "subnet": v.subnet,
        "source_addresses": dict(v.source_addresses),
        "relay": dict(v.relay) or None,
        "error": v.error,
    }


def render_json(report: Report, *, exit_status: int | None = None) -> str:
    return json.dumps(report_to_dict(report, exit_status=exit_status), indent=2, ensure_ascii=False) + "\n"
