"""The streamed JSON report is render_json's text, byte for byte, whatever the results hold."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from adprep.model import CheckResult, ErrorReason, Report, Status, Vantage
from adprep.render.json import ResultTexts, iter_json, render_json

T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
# Any text: newlines, quotes, control characters, non-ASCII, lone surrogates' neighbours.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
FACT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(TEXT, inner, max_size=3)
    ),
    max_leaves=8,
)
RESULT = st.builds(
    CheckResult,
    id=TEXT,
    status=st.sampled_from(Status),
    title=TEXT,
    facts=st.dictionaries(TEXT, FACT, max_size=4),
    remedy=st.none() | TEXT,
    adc_error=st.none() | TEXT,
    target=st.none() | TEXT,
    vantage=st.none() | TEXT,
    reason=st.none() | st.sampled_from(ErrorReason),
)


def report(results: list[CheckResult], *, host: str = "probe-host", redacted: bool = False) -> Report:
    return Report(command="ports", tool_version="0.0.0-test", started_at=T, finished_at=T,
                  vantage=Vantage(host=host, label="here"), targets=("10.0.0.10",), results=tuple(results),
                  vantages=(Vantage(host=host, label="subnet-a", via="ssh://h"),), redacted=redacted)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    results=st.lists(RESULT, max_size=6),
    host=TEXT,
    redacted=st.booleans(),
    exit_status=st.none() | st.integers(0, 5),
    piece=st.integers(1, 300),
)
def test_the_pieces_join_to_render_json(
    results: list[CheckResult], host: str, redacted: bool, exit_status: int | None, piece: int
) -> None:
    # Given any report, when it is streamed in pieces of any size
    r = report(results, host=host, redacted=redacted)
    # Then the pieces are render_json's text exactly
    assert "".join(iter_json(r, exit_status=exit_status, piece=piece)) == render_json(
        r, exit_status=exit_status
    )


def test_a_host_name_that_looks_like_the_placeholder_changes_nothing() -> None:
    r = report([CheckResult("x", Status.PASS, "t")], host="\x00adprep-results\x00")
    assert "".join(iter_json(r, exit_status=0)) == render_json(r, exit_status=0)


def test_a_large_report_comes_in_pieces_of_about_the_size_asked() -> None:
    r = report([CheckResult(f"ports.tcp.10.0.0.{i}.389", Status.FAIL, "closed", {"verdict": "closed"})
                for i in range(2000)])  # fmt: skip
    pieces = list(iter_json(r, exit_status=1, piece=4096))
    assert len(pieces) > 20 and max(len(p) for p in pieces) < 4096 * 2


@settings(max_examples=30, deadline=None)
@given(results=st.lists(RESULT, max_size=6), ahead=st.lists(st.booleans(), max_size=6))
def test_results_encoded_ahead_give_the_same_text(results: list[CheckResult], ahead: list[bool]) -> None:
    # Given some results encoded ahead of their report (as a sweep does while it waits), and a copy
    # of one (what --redact makes) that was not
    texts = ResultTexts()
    for r, early in zip(results, ahead, strict=False):
        if early:
            texts.add(r)
    copies = [CheckResult(**vars(r)) for r in results]
    # Then the report's text is the same, for the results and for their copies
    assert "".join(iter_json(report(results), ahead=texts)) == render_json(report(results))
    assert "".join(iter_json(report(copies), ahead=texts)) == render_json(report(copies))
