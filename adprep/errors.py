"""adprep's error hierarchy. Every error carries a hint a person can act on.

Two families matter to the CLI: :class:`InputError` (bad usage or input, exit status 2, raised
before any network traffic) and :class:`TransportError` (a peer could not be reached or answered
something unusable; a check that hits it becomes an ``error`` result, not a crash).
Messages never contain secrets: callers pass descriptions, never passwords.
"""

from __future__ import annotations


class AdprepError(Exception):
    """Something adprep cannot do."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.sentence()

    def sentence(self) -> str:
        """The message and the hint as one line for a person."""
        if self.hint:
            return f"{self.message.rstrip('.')}. {self.hint}"
        return self.message


class InputError(AdprepError):
    """Bad usage or bad input: the user must change what they asked for (exit status 2)."""


class ConfigError(InputError):
    """The configuration file is unreadable or holds a bad value."""


class SecretError(InputError):
    """A secret was needed and could not be read from any allowed source."""


class TransportError(AdprepError):
    """A network peer could not be reached, or answered in a way adprep cannot use."""


class LdapError(TransportError):
    """An LDAP operation failed; ``result`` is the LDAP result name, ``code`` its number."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        result: str | None = None,
        code: int | None = None,
        diagnostic: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.result = result
        self.code = code
        self.diagnostic = diagnostic


class SmbError(TransportError):
    """An SMB (SYSVOL) operation failed."""


class ConnectionLost(TransportError):
    """The connection to a peer broke in the middle of a run (closed, reset, or silent past the
    timeout): nothing more can be sent on it. A write command stops at the first one instead of
    recording every change left as failed, and exits 3; running it again finishes the job."""


class LdapConnectionLost(LdapError, ConnectionLost):
    """The LDAP connection broke (it is still an :class:`LdapError` with no result code)."""


class SmbConnectionLost(SmbError, ConnectionLost):
    """The SMB connection broke."""


class WireFormatError(AdprepError):
    """Bytes that do not follow the format they claim (a reply, a Registry.pol, an ADM file)."""

    def __init__(self, message: str, *, offset: int | None = None, hint: str | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at byte offset {offset})", hint=hint)
        self.offset = offset


class VantageError(TransportError):
    """A remote vantage could not be used: its relay did not start or stopped answering.

    ``reason`` is one of ``unreachable``, ``host_key``, ``auth``, ``no_interpreter``, ``refused_script``,
    ``tls``, ``protocol`` (the far end answered something that is not adprep's relay) or ``failed``.
    """

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
