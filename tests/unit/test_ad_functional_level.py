"""Functional levels in words: Given / When / Then."""

from __future__ import annotations

import pytest

from adprep.ad.functional_level import describe_level, meets_minimum


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "Windows 2000 (level 0)"),
        (2, "Windows Server 2003 (level 2)"),
        (7, "Windows Server 2016 (level 7)"),
        (10, "Windows Server 2025 (level 10)"),
        (11, "level 11 (newer than adprep knows; Windows Server 2025 or later)"),
        (8, "level 8 (not a level adprep knows; above Windows Server 2016)"),
        (-1, "level -1 (not a valid functional level)"),
    ],
)
def test_describe_level(n: int, text: str) -> None:
    assert describe_level(n) == text


def test_future_levels_never_read_as_unknown_or_old() -> None:
    # Given a level from a future Windows / When described / Then it is a number, not "unknown"
    assert "unknown" not in describe_level(42)
    assert meets_minimum(42)


@pytest.mark.parametrize(("n", "ok"), [(0, False), (1, False), (2, True), (7, True), (10, True)])
def test_meets_minimum(n: int, ok: bool) -> None:
    assert meets_minimum(n) is ok
