"""Forest and domain functional levels (``msDS-Behavior-Version``) in words.

The table itself lives in :mod:`adprep.requirements` so that a new Windows Server release is one edit.
"""

from __future__ import annotations

from adprep.requirements import FUNCTIONAL_LEVELS, MIN_FUNCTIONAL_LEVEL


def describe_level(n: int) -> str:
    """``describe_level(7) == "Windows Server 2016 (level 7)"``.

    MS-ADTS 6.1.4.4: unknown values above the newest known level are a future release, reported
    as a number and never as "unknown" (which a reader could take for "too old").
    """
    name = FUNCTIONAL_LEVELS.get(n)
    if name is not None:
        return f"{name} (level {n})"
    newest = max(FUNCTIONAL_LEVELS)
    if n > newest:
        return f"level {n} (newer than adprep knows; {FUNCTIONAL_LEVELS[newest]} or later)"
    if n < 0:
        return f"level {n} (not a valid functional level)"
    # A gap in the table (8, 9): never assigned by Microsoft, but not older than its neighbours.
    below = max(k for k in FUNCTIONAL_LEVELS if k < n)
    return f"level {n} (not a level adprep knows; above {FUNCTIONAL_LEVELS[below]})"


def meets_minimum(n: int) -> bool:
    """Whether level ``n`` is at least what AD Connector needs (Windows Server 2003, level 2)."""
    return n >= MIN_FUNCTIONAL_LEVEL
