"""Reading a JSON report (schema ``adprep/schema/report-v1.json``) back into the report model.

What :func:`adprep.render.json.report_to_dict` writes, this reads: the envelope, the vantages and
every result, so a command can act on a report written earlier (``adprep fix --from``). A document
that is not an adprep report of schema 1.x is bad input (:class:`InputError`), never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from adprep.errors import InputError
from adprep.model import CheckResult, ErrorReason, FactValue, Report, Status, Vantage


def _bad(path: Path, why: str) -> InputError:
    return InputError(
        f"{path} is not an adprep JSON report: {why}",
        hint="Give a report written by 'adprep preflight --format json -o FILE'.",
    )


def _str(data: Mapping[str, Any], key: str, path: Path, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _bad(path, f"'{key}' is missing or not a string")
    return value


def _time(data: Mapping[str, Any], key: str, path: Path) -> datetime:
    text = _str(data, key, path)
    assert text is not None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _bad(path, f"'{key}' is not a date and time") from None


def _strings(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _vantage(data: object, path: Path) -> Vantage:
    if not isinstance(data, Mapping):
        raise _bad(path, "a vantage is not an object")
    return Vantage(
        host=str(data.get("host") or "?"),
        label=_str(data, "label", path, optional=True),
        source_addresses=_strings(data.get("source_addresses")),
        via=str(data.get("via") or "local"),
        subnet=_str(data, "subnet", path, optional=True),
        relay=_strings(data.get("relay")),
        error=_str(data, "error", path, optional=True),
    )


def _result(data: object, path: Path) -> CheckResult:
    if not isinstance(data, Mapping):
        raise _bad(path, "a result is not an object")
    cid = _str(data, "id", path)
    assert cid is not None
    try:
        status = Status(str(data.get("status")))
    except ValueError:
        raise _bad(path, f"the result {cid} has the unknown status {data.get('status')!r}") from None
    facts = data.get("facts")
    if not isinstance(facts, Mapping):
        raise _bad(path, f"the facts of {cid} are not an object")
    fact_map: dict[str, FactValue] = dict(facts)
    return CheckResult(
        cid,
        status,
        _str(data, "title", path) or cid,
        fact_map,
        remedy=_str(data, "remedy", path, optional=True),
        adc_error=_str(data, "adc_error", path, optional=True),
        target=_str(data, "target", path, optional=True),
        vantage=_str(data, "vantage", path, optional=True),
        reason=_reason(data, cid, path),
    )


def _reason(data: Mapping[str, Any], cid: str, path: Path) -> ErrorReason | None:
    """Since schema 1.2, an ``error`` result says why; an unknown reason is bad input."""
    text = _str(data, "reason", path, optional=True)
    if text is None:
        return None
    try:
        return ErrorReason(text)
    except ValueError:
        raise _bad(path, f"the result {cid} has the unknown reason {text!r}") from None


def report_from_dict(data: object, *, path: Path) -> Report:
    """The report a JSON document holds (``path`` names it in error messages)."""
    if not isinstance(data, Mapping):
        raise _bad(path, "it is not a JSON object")
    version = data.get("schema_version")
    if not isinstance(version, str) or not version.startswith("1."):
        raise _bad(path, f"its schema_version is {version!r}, not 1.x")
    tool = data.get("tool")
    if not isinstance(tool, Mapping) or tool.get("name") != "adprep":
        raise _bad(path, "it was not written by adprep")
    results = data.get("results")
    if not isinstance(results, list):
        raise _bad(path, "'results' is missing")
    targets = data.get("targets")
    vantages = data.get("vantages") or []
    if not isinstance(vantages, list):
        raise _bad(path, "'vantages' is not a list")
    return Report(
        command=_str(data, "command", path) or "?",
        tool_version=str(tool.get("version") or "?"),
        started_at=_time(data, "started_at", path),
        finished_at=_time(data, "finished_at", path),
        vantage=_vantage(data.get("vantage"), path),
        targets=tuple(str(t) for t in targets) if isinstance(targets, list) else (),
        results=tuple(_result(r, path) for r in results),
        schema_version=version,
        vantages=tuple(_vantage(v, path) for v in vantages),
        redacted=data.get("redacted") is True,
    )


def read_report(path: Path) -> Report:
    """The report in the file ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(
            f"Cannot read the report {path}: {e.strerror or e}", hint="Check the path."
        ) from None
    except UnicodeDecodeError:
        raise _bad(path, "it is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise _bad(path, f"it is not JSON ({e.msg} at line {e.lineno})") from None
    return report_from_dict(data, path=path)
