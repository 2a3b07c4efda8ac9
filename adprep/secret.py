"""The secret value (a password, a shared secret): what every layer passes around.

Reading one (environment, file, prompt) is :mod:`adprep.secrets`' job; this module only holds the value.
A :class:`Secret` hides its value from ``repr``/``str``/formatting so that it cannot
leak into logs, reports or exception messages by accident; ``reveal()`` is the one way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Every secret value this process has held (read, prompted or generated), so that text printed for a
#: person after a crash (a ``--debug`` traceback) can be scrubbed of them: a library's exception may echo
#: one, and a traceback prints exception messages (never locals).
_SEEN: set[str] = set()


def seen_values() -> frozenset[str]:
    """The values of every :class:`Secret` made in this process."""
    return frozenset(_SEEN)


@dataclass(frozen=True)
class Secret:
    """A secret value and where it came from."""

    _value: str = field(repr=False)
    source: str
    """``env:ADPREP_PASSWORD``, ``file:/path``, ``prompt`` or ``generated``: safe to show."""

    def __post_init__(self) -> None:
        if self._value:
            _SEEN.add(self._value)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return f"<secret from {self.source}>"

    def __format__(self, spec: str) -> str:
        return str(self)

    def __len__(self) -> int:
        return len(self._value)
