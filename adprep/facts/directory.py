"""Facts about a domain controller's directory: a value read (or why not), its rootDSE, the users it holds,
the accounts without Kerberos preauthentication, and how an LDAP connection was protected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

from adprep.errors import TransportError, reason_of
from adprep.model import ErrorReason

T = TypeVar("T")
U = TypeVar("U")

LdapMode = Literal["ldaps", "starttls", "plain"]


#: Names listed at most; the count beyond is still reported.
PREAUTH_LIST_MAX = 50


@dataclass(frozen=True)
class Observed(Generic[T]):
    """A value read from a DC, or why it could not be read (exactly one of the two is set)."""

    value: T | None = None
    error: str | None = None
    error_reason: ErrorReason | None = None
    """With ``error``: the kind of failure (the ``reason`` of the check's ``error`` result)."""

    @classmethod
    def failed(cls, reason: str, kind: ErrorReason = ErrorReason.UNREACHABLE) -> Observed[T]:
        """No value: ``reason`` says why, ``kind`` what kind of failure."""
        return cls(None, reason, kind)

    @staticmethod
    def attempt(what: str, read: Callable[[], U]) -> Observed[U]:
        """Run ``read``; a transport failure becomes the reason ``"<what>: <why>"``."""
        try:
            return Observed(read())
        except TransportError as e:
            return Observed.failed(f"{what}: {e.sentence()}", reason_of(e))


@dataclass(frozen=True)
class RootDse:
    """What the rootDSE says (MS-ADTS 3.1.1.3.2), as typed values."""

    forest_level: int | None
    """``forestFunctionality`` (MS-ADTS 3.1.1.3.2.25); None if absent or not a number."""
    domain_level: int | None
    """``domainFunctionality`` (MS-ADTS 3.1.1.3.2.26)."""
    dc_level: int | None
    """``domainControllerFunctionality`` (MS-ADTS 3.1.1.3.2.27)."""
    current_time: datetime | None
    """``currentTime`` (MS-ADTS 3.1.1.3.2.8), one-second resolution."""
    local_time: datetime
    """This host's clock in the middle of the read."""
    round_trip_s: float
    """How long the read took (connect included): the skew's uncertainty is half of it plus 1 s."""
    default_nc: str | None
    config_nc: str | None
    schema_nc: str | None
    dns_host_name: str | None
    supported_controls: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserCount:
    """Users counted with a paged search, stopped at ``limit``."""

    counted: int
    capped: bool
    """True when counting stopped: the directory holds at least ``counted`` users."""


@dataclass(frozen=True)
class PreauthUsers:
    """Accounts with DONT_REQ_PREAUTH (AS-REP roastable, and refused by AD Connector's Kerberos)."""

    names: tuple[str, ...]
    """sAMAccountNames, at most :data:`PREAUTH_LIST_MAX`."""
    total: int
    """How many were found (``names`` may be shorter)."""


@dataclass(frozen=True)
class DirectoryFacts:
    """Everything the directory checks need about one DC."""

    address: str
    root_dse: Observed[RootDse]
    other_settings: Observed[tuple[str, ...]]
    """``msDS-Other-Settings`` on the Directory Service object (MS-ADTS 3.1.1.3.4.7)."""
    max_temp_table_size: Observed[int]
    """``MaxTempTableSize`` from the default query policy's ``lDAPAdminLimits`` (10000 if not set)."""
    user_count: Observed[UserCount]
    cn_search_flags: Observed[int]
    """``searchFlags`` of ``CN=Common-Name`` in the schema (MS-ADTS 2.2.9)."""
    preauth: Observed[PreauthUsers]


# MS-ADTS 3.1.1.3.4.6 (LDAP policies): the documented default.
DEFAULT_MAX_TEMP_TABLE_SIZE = 10_000
