"""The plan → apply machinery every write command shares.

A plan is pure data: the changes needed to go from what was observed to what is wanted. Each change
carries a typed payload (:mod:`adprep.prep.ldap_writes`, :mod:`adprep.prep.gpo`); applying runs it
through the applier registered for that payload's type (:class:`Appliers`). A change that fails is recorded
with its sentence; changes that depend on it are skipped; independent changes still go in. Since
plans are computed from observed state, a second run plans nothing, and a run cut off half-way is
finished by the next one. A lost connection (:class:`adprep.errors.ConnectionLost`) is not a failed
change: nothing more can be sent, so applying stops there and the error propagates (exit 3, one
sentence) instead of every change left failing with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from adprep.errors import AdprepError, ConnectionLost
from adprep.model import FactValue


@dataclass(frozen=True)
class Change:
    """One write to make."""

    id: str
    """Stable id, ``<kind>.<verb>:<target>``, e.g. ``ou.create:OU=Users,DC=corp,DC=example``."""
    action: str
    """What kind of write it is, for people and the plan JSON (``ldap.add``, ``ldap.modify``,
    ``acl.add_aces``, ``smb.write``…); the applier is chosen by the payload's type."""
    target: str
    """The DN or path it writes."""
    summary: str
    """One line a person reads in the plan."""
    details: Mapping[str, FactValue] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    """Ids of changes that must succeed first."""
    payload: object = field(default=None, compare=False, repr=False)
    """What the applier needs (a frozen dataclass: attributes, bytes); its type picks the applier. Never
    shown, may hold a Secret."""


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


P = TypeVar("P")


class Appliers:
    """Which function applies which payload type. A plan's changes dispatch on their payload's type,
    so an applier receives its own payload type, never a string to trust."""

    def __init__(self) -> None:
        self._by_type: dict[type[Any], Callable[[Any], None]] = {}

    def on(self, kind: type[P], apply: Callable[[P], None]) -> Appliers:
        """Register ``apply`` for payloads of type ``kind``; returns self, to chain."""
        self._by_type[kind] = apply
        return self

    def merged(self, other: Appliers) -> Appliers:
        """These appliers and ``other``'s (``other`` wins for a type both have)."""
        both = Appliers()
        both._by_type = {**self._by_type, **other._by_type}
        return both

    def apply(self, change: Change) -> None:
        """Run ``change``'s payload through its applier. A payload no applier takes is a bug."""
        apply = self._by_type.get(type(change.payload))
        if apply is None:
            raise TypeError(f"No applier for {type(change.payload).__name__} (change {change.id})")
        apply(change.payload)


def apply_plan(
    plan: Plan, appliers: Appliers, *, on_done: Callable[[Outcome], None] | None = None
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
                appliers.apply(change)
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
    """One plan of ``command`` holding every plan's changes, in-place lines and warnings, in order."""
    changes: list[Change] = []
    in_place: list[str] = []
    warnings: list[str] = []
    for p in plans:
        changes.extend(p.changes)
        in_place.extend(p.in_place)
        warnings.extend(p.warnings)
    return Plan(command, tuple(changes), tuple(in_place), tuple(warnings))
