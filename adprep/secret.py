"""The secret value (a password, a shared secret): what every layer passes around.

Reading one (environment, file, prompt) is :mod:`adprep.secrets`' job; this module only holds the value.
A :class:`Secret` hides its value from ``repr``/``str``/formatting so that it cannot
leak into logs, reports or exception messages by accident; ``reveal()`` is the one way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Secret:
    """A secret value and where it came from."""

    _value: str = field(repr=False)
    source: str
    """``env:ADPREP_PASSWORD``, ``file:/path``, ``prompt`` or ``generated``: safe to show."""

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return f"<secret from {self.source}>"

    def __format__(self, spec: str) -> str:
        return str(self)

    def __len__(self) -> int:
        return len(self._value)
