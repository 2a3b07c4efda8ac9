"""The report as JSON: a versioned API. The schema is ``adprep/schema/report-v1.json``.

Stable: check ids, field names and status values. Additive changes keep ``schema_version`` 1.x.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from adprep.model import CheckResult, Report, Vantage


def report_to_dict(report: Report, *, exit_status: int | None = None) -> dict[str, Any]:
    return _envelope(report, [_result(r) for r in report.results], exit_status=exit_status)


def _envelope(report: Report, results: object, *, exit_status: int | None) -> dict[str, Any]:
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
        "results": results,
    }
    if report.redacted:
        data["redacted"] = True
    if exit_status is not None:
        data["exit_status"] = exit_status
    return data


def _result(r: CheckResult) -> dict[str, Any]:
    return {
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


#: Stands for the results in the envelope :func:`iter_json` encodes first.
_RESULTS = "\x00adprep-results\x00"


class ResultTexts:
    """Results encoded ahead of their report (while a sweep waits for its slowest probes), for
    :func:`iter_json` to reuse: each text is kept with the very result it encodes."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[CheckResult, str]] = {}

    def add(self, result: CheckResult) -> None:
        self._texts[id(result)] = (result, _result_text(result, _RESULT_NEWLINE))

    def get(self, result: CheckResult) -> str | None:
        """The text of ``result`` (this object: a redacted copy is another), if it was encoded."""
        entry = self._texts.get(id(result))
        return entry[1] if entry is not None and entry[0] is result else None


#: A result sits two levels deep: the envelope, then the list.
_RESULT_NEWLINE = "\n    "


def iter_json(
    report: Report, *, exit_status: int | None = None, piece: int = 1 << 16, ahead: ResultTexts | None = None
) -> Iterator[str]:
    """:func:`render_json`'s text, exactly, in pieces of about ``piece`` characters.

    Results are encoded one at a time, so a report of 10,000 results never exists whole as text (or
    as a list of a million small strings, which is what ``json.dumps`` with an indent builds); those
    in ``ahead`` were encoded already.
    """
    envelope = _envelope(report, _RESULTS, exit_status=exit_status)
    # The last occurrence: only ``redacted`` and ``exit_status`` (no text) follow the results, while a
    # string before them (a relay's host name) could be anything, even this.
    head, _, tail = json.dumps(envelope, indent=2, ensure_ascii=False).rpartition(json.dumps(_RESULTS))
    if not report.results:
        yield head + "[]" + tail + "\n"
        return
    pending = [head, "[\n    "]
    size = 0
    for i, r in enumerate(report.results):
        text = (ahead.get(r) if ahead is not None else None) or _result_text(r, _RESULT_NEWLINE)
        pending.append(text if i == 0 else ",\n    " + text)
        size += len(text)
        if size >= piece:
            yield "".join(pending)
            pending, size = [], 0
    pending.append("\n  ]" + tail + "\n")
    yield "".join(pending)


_INFINITY = float("inf")


def _result_text(r: CheckResult, newline: str) -> str:
    """``_indented(_result(r), newline)``, written out field by field (a test holds them equal): a
    report's thousands of results are most of its encoding time."""
    string = json.encoder.encode_basestring
    inner = newline + "  "
    pieces = [
        "{", inner, '"id": ', string(r.id),
        ",", inner, '"status": ', string(r.status.value),
        ",", inner, '"title": ', string(r.title),
        ",", inner, '"target": ', "null" if r.target is None else string(r.target),
        ",", inner, '"facts": ', _facts_text(r.facts, inner),
        ",", inner, '"remedy": ', "null" if r.remedy is None else string(r.remedy),
        ",", inner, '"adc_error": ', "null" if r.adc_error is None else string(r.adc_error),
    ]  # fmt: skip
    if r.reason is not None:
        pieces += [",", inner, '"reason": ', string(r.reason.value)]
    if r.vantage is not None:
        pieces += [",", inner, '"vantage": ', string(r.vantage)]
    pieces += [newline, "}"]
    return "".join(pieces)


def _facts_text(facts: Mapping[str, object], newline: str) -> str:
    """``_indented(dict(facts), newline)``: the usual facts (names to strings and whole numbers) without
    a call per value; anything else through :func:`_indented`."""
    if not facts:
        return "{}"
    string = json.encoder.encode_basestring
    inner = newline + "  "
    items = []
    for k, v in facts.items():
        if type(k) is not str:  # not a fact name (a test's dict): the general encoder's keys
            return _indented(dict(facts), newline)
        name = string(k)
        if isinstance(v, str) and type(v) is str:
            items.append(name + ": " + string(v))
        elif isinstance(v, int) and type(v) is int:  # not bool
            items.append(name + ": " + int.__repr__(v))
        else:
            items.append(name + ": " + _indented(v, inner))
    return "{" + inner + ("," + inner).join(items) + newline + "}"


def _indented(value: object, newline: str) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` with every line after the first starting
    with ``newline``'s indentation: the same text (a test holds them equal over any facts), a third
    faster, because the standard library's encoder yields every token through nested generators
    once an indent is asked for (its C encoder cannot indent)."""
    out: list[str] = []
    emit = out.append
    string = json.encoder.encode_basestring  # the C one: ensure_ascii=False

    def number(o: float) -> str:  # json.encoder's floatstr, allow_nan=True
        if o != o:
            return "NaN"
        if o == _INFINITY:
            return "Infinity"
        if o == -_INFINITY:
            return "-Infinity"
        return float.__repr__(o)

    def key(k: object) -> str:
        if isinstance(k, str):
            return string(k)
        if k is True or k is False or k is None:
            return "true" if k is True else "false" if k is False else "null"
        if isinstance(k, int):
            return string(int.__repr__(k))
        if isinstance(k, float):
            return string(number(k))
        raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")

    def encode(o: object, here: str) -> None:
        if isinstance(o, str):
            emit(string(o))
        elif o is None:
            emit("null")
        elif o is True:
            emit("true")
        elif o is False:
            emit("false")
        elif isinstance(o, int):
            emit(int.__repr__(o))
        elif isinstance(o, float):
            emit(number(o))
        elif isinstance(o, dict):
            if not o:
                emit("{}")
                return
            inner = here + "  "
            lead = "{" + inner
            for k, v in o.items():
                name = lead + (string(k) if type(k) is str else key(k)) + ": "
                lead = "," + inner
                # Scalars inline (most of a report): a call per value less, for a report of thousands.
                kind = type(v)
                if kind is str:
                    emit(name + string(v))
                elif v is None:
                    emit(name + "null")
                elif kind is int:
                    emit(name + int.__repr__(v))
                else:
                    emit(name)
                    encode(v, inner)
            emit(here + "}")
        elif isinstance(o, (list, tuple)):
            if not o:
                emit("[]")
                return
            inner = here + "  "
            lead = "[" + inner
            for v in o:
                emit(lead)
                encode(v, inner)
                lead = "," + inner
            emit(here + "]")
        else:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    encode(value, newline)
    return "".join(out)
