"""The plan → apply machinery every write command shares.

A plan is pure data: the changes needed to go from what was observed to what is wanted. Applying
runs each change through the applier registered for its action. A change that fails is recorded
with its sentence; changes that depend on it are skipped; independent changes still go in. Since
plans are computed from observed state, a second run plans nothing, and a run cut off half-way is
finished by the next one. A lost connection (:class:`adprep.errors.ConnectionLost`) is not a failed
change: nothing more can be sent, so applying stops there and the error propagates (exit 3, one
sentence) instead of every change left failing with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from adprep.errors import AdprepError, ConnectionLost
from adprep.model import FactValue


@dataclass(frozen=True)
class Change:
    """One write to make."""

    id: str
    """Stable id, ``<kind>.<verb>:<target>``, e.g. ``ou.create:OU=Users,DC=corp,DC=example``."""
    action: str
    """Which applier runs it (``ldap.add``, ``ldap.modify``, ``acl.add_aces``, ``smb.write``…)."""
    target: str
    """The DN or path it writes."""
    summary: str
    """One line a person reads in the plan."""
    details: Mapping[str, FactValue] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    """Ids of changes that must succeed first."""
    payload: object = field(default=None, compare=False, repr=False)
    """What the applier needs (attributes, bytes); never shown, may hold a Secret."""


@dataclass(frozen=True)
class Plan:
    command: str
    changes: tuple[Change, ...]
    in_place: tuple[str, ...] = ()
    """Things already as wanted (one line each), so a person sees why nothing is planned."""
    warnings: tuple[str, ...] = ()
    """What the plan leaves that will still stop WorkSpaces (a user without mail), one line each."""

    @property
    def empty(self) -> bool:
        return not self.changes


OutcomeStatus = Literal["applied", "failed", "skipped"]


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: OutcomeStatus
    error: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status != "applied")


Applier = Callable[[Change], None]


def apply_plan(
    plan: Plan, appliers: Mapping[str, Applier], *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """Apply the changes in order. adprep errors become failed outcomes; a lost connection and bugs
    propagate."""
    outcomes: list[Outcome] = []
    failed: set[str] = set()
    for change in plan.changes:
        blocked = [d for d in change.depends_on if d in failed]
        if blocked:
            outcome = Outcome(change, "skipped", f"not attempted: {blocked[0]} failed")
            failed.add(change.id)
        else:
            try:
                appliers[change.action](change)
                outcome = Outcome(change, "applied")
            except ConnectionLost:
                raise
            except AdprepError as e:
                outcome = Outcome(change, "failed", e.sentence())
                failed.add(change.id)
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return ApplyResult(plan, tuple(outcomes))


def merge_plans(command: str, plans: Iterable[Plan]) -> Plan:
    changes: list[Change] = []
    in_place: list[str] = []
    warnings: list[str] = []
    for p in plans:
        changes.extend(p.changes)
        in_place.extend(p.in_place)
        warnings.extend(p.warnings)
    return Plan(command, tuple(changes), tuple(in_place), tuple(warnings))
