"""adprep's error hierarchy. Every error carries a hint a person can act on.

Two families matter to the CLI: :class:`InputError` (bad usage or input, exit status 2, raised
before any network traffic) and :class:`TransportError` (a peer could not be reached or answered
something unusable; a check that hits it becomes an ``error`` result, not a crash).
Messages never contain secrets: callers pass descriptions, never passwords.
"""

from __future__ import annotations

import errno as _errno
import sys

from adprep.model import ErrorReason


class AdprepError(Exception):
    """Something adprep cannot do."""

    hint: str | None = None
    error_reason: ErrorReason | None = None
    """Why a check that hit this error could not run (the result's ``reason``); see :func:`reason_of`."""

    def __init__(
        self, message: str, *, hint: str | None = None, error_reason: ErrorReason | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        if error_reason is not None:
            self.error_reason = error_reason

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

    error_reason: ErrorReason | None = ErrorReason.UNREACHABLE


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
        error_reason: ErrorReason | None = None,
    ) -> None:
        if error_reason is None and code is not None:
            error_reason = _LDAP_REASONS.get(code, ErrorReason.NOT_SUPPORTED)
        super().__init__(message, hint=hint, error_reason=error_reason)
        self.result = result
        self.code = code
        self.diagnostic = diagnostic


#: RFC 4511 4.1.9 result codes that say why an LDAP operation could not be done; any other code is
#: ``not_supported`` (the DC refused the operation), no code at all ``unreachable`` (no answer).
_LDAP_REASONS: dict[int, ErrorReason] = {
    1: ErrorReason.MALFORMED,  # operationsError
    2: ErrorReason.MALFORMED,  # protocolError
    3: ErrorReason.TIMEOUT,  # timeLimitExceeded
    7: ErrorReason.NOT_SUPPORTED,  # authMethodNotSupported
    8: ErrorReason.TLS,  # strongerAuthRequired
    12: ErrorReason.NOT_SUPPORTED,  # unavailableCriticalExtension
    13: ErrorReason.TLS,  # confidentialityRequired
    48: ErrorReason.AUTHENTICATION,  # inappropriateAuthentication
    49: ErrorReason.AUTHENTICATION,  # invalidCredentials
    50: ErrorReason.PERMISSION,  # insufficientAccessRights
    51: ErrorReason.UNREACHABLE,  # busy
    52: ErrorReason.UNREACHABLE,  # unavailable
    53: ErrorReason.NOT_SUPPORTED,  # unwillingToPerform
}


class SmbError(TransportError):
    """An SMB (SYSVOL) operation failed; ``status`` is its NTSTATUS, when the server sent one."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        error_reason: ErrorReason | None = None,
    ) -> None:
        if error_reason is None and status is not None:
            error_reason = _SMB_REASONS.get(status, ErrorReason.NOT_SUPPORTED)
        super().__init__(message, hint=hint, error_reason=error_reason)
        self.status = status


#: MS-ERREF 2.3.1 NTSTATUS values that say why an SMB operation could not be done.
_SMB_REASONS: dict[int, ErrorReason] = {
    0xC0000022: ErrorReason.PERMISSION,  # STATUS_ACCESS_DENIED
    0xC000006D: ErrorReason.AUTHENTICATION,  # STATUS_LOGON_FAILURE
    0xC000006E: ErrorReason.AUTHENTICATION,  # STATUS_ACCOUNT_RESTRICTION
    0xC0000072: ErrorReason.AUTHENTICATION,  # STATUS_ACCOUNT_DISABLED
    0xC0000234: ErrorReason.AUTHENTICATION,  # STATUS_ACCOUNT_LOCKED_OUT
    0xC00000CC: ErrorReason.NOT_SUPPORTED,  # STATUS_BAD_NETWORK_NAME (no such share)
}


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

    error_reason: ErrorReason | None = ErrorReason.MALFORMED

    def __init__(self, message: str, *, offset: int | None = None, hint: str | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at byte offset {offset})", hint=hint)
        self.offset = offset


class VantageError(TransportError):
    """A remote vantage could not be used: its relay did not start or stopped answering.

    ``reason`` is one of ``unreachable``, ``host_key``, ``auth``, ``no_interpreter``, ``refused_script``,
    ``tls``, ``protocol`` (the far end answered something that is not adprep's relay) or ``failed``.
    """

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, error_reason=_VANTAGE_REASONS.get(reason))
        self.reason = reason


_VANTAGE_REASONS: dict[str, ErrorReason] = {
    "unreachable": ErrorReason.UNREACHABLE,
    "host_key": ErrorReason.AUTHENTICATION,  # the far end is not the host it was known as
    "auth": ErrorReason.AUTHENTICATION,
    "no_interpreter": ErrorReason.NOT_SUPPORTED,
    "refused_script": ErrorReason.PERMISSION,
    "tls": ErrorReason.TLS,
    "protocol": ErrorReason.MALFORMED,
    "failed": ErrorReason.UNREACHABLE,
}

#: errno names (``os.strerror``'s symbols) of a send or connect that failed, as probes report them.
_ERRNO_REASONS: dict[str, ErrorReason] = {
    "EACCES": ErrorReason.PERMISSION,  # e.g. this host's own firewall rejects the packet
    "EPERM": ErrorReason.PERMISSION,
    "ETIMEDOUT": ErrorReason.TIMEOUT,
    "EAFNOSUPPORT": ErrorReason.NOT_SUPPORTED,
    "EPROTONOSUPPORT": ErrorReason.NOT_SUPPORTED,
    "ESOCKTNOSUPPORT": ErrorReason.NOT_SUPPORTED,
}


def reason_for_errno(name: str | int | None) -> ErrorReason:
    """The reason for a socket error given by name (``EHOSTUNREACH``) or number: unreachable unless
    it says permission, timeout or no support."""
    if isinstance(name, int):
        name = _errno.errorcode.get(name)
    return _ERRNO_REASONS.get(name or "", ErrorReason.UNREACHABLE)


def reason_of(exc: BaseException) -> ErrorReason:
    """Why a check that raised ``exc`` could not run: the error's own reason, the kind of an OS or TLS
    error, and ``bug`` for any other exception (adprep did not expect it)."""
    if isinstance(exc, AdprepError):
        return exc.error_reason or ErrorReason.NOT_SUPPORTED
    # ssl costs start-up time (it loads OpenSSL); an exception can be an SSLError only once it is loaded.
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return ErrorReason.TLS
    if isinstance(exc, TimeoutError):
        return ErrorReason.TIMEOUT
    if isinstance(exc, PermissionError):
        return ErrorReason.PERMISSION
    if isinstance(exc, OSError):
        return reason_for_errno(exc.errno)
    return ErrorReason.BUG
