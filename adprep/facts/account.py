"""Facts about the service account: its bind, its object, the domain policy, its rights on the computers'
container, what it reads of users, a VLV search and a join probe as it, and a Kerberos login."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from adprep.facts.directory import LdapMode, Observed
from adprep.model import ErrorReason
from adprep.wire.ldap_vlv import VlvResponse

#: Attributes every user object holds (MS-ADTS 3.1.1.5.2.2: SAM objects get both on creation).
ALWAYS_PRESENT_USER_ATTRIBUTES = ("sAMAccountName", "userAccountControl")


@dataclass(frozen=True)
class BindOutcome:
    """How the simple bind as the service account went."""

    ok: bool
    mode: LdapMode
    bind_name: str
    """The name sent (UPN form for a bare account name); never the password."""
    connected: bool = True
    """False when TCP or TLS failed before the DC judged the credentials."""
    code: int | None = None
    """LDAP result code (RFC 4511 4.1.9), e.g. 49 invalidCredentials."""
    result_name: str | None = None
    subcode: str | None = None
    """AD's sub-code from the diagnostic message (``"52e"``, ``"775"``, ``"00002028"``...)."""
    diagnostic: str | None = None
    """The DC's diagnostic message, as sent (the transport scrubs any echoed password)."""
    sentence: str | None = None
    hint: str | None = None
    strong_auth_required: bool = False
    """A plain-LDAP simple bind refused because the DC wants TLS or signing (not a credential verdict)."""
    error_reason: ErrorReason | None = None
    """When not ``connected``: why (unreachable, timeout, tls)."""


@dataclass(frozen=True)
class AccountObject:
    """The account's own object, raw values as stored."""

    dn: str
    sam_account_name: str | None
    user_account_control: int
    pwd_last_set: int
    lockout_time: int
    account_expires: int
    computed_uac: int | None
    """``msDS-User-Account-Control-Computed`` (MS-ADTS 3.1.1.4.5.17), when the DC returned it."""
    read_by: Literal["self", "admin"] = "self"


@dataclass(frozen=True)
class DomainPolicy:
    """Raw interval values from the domain head (negative 100 ns counts; see account_flags)."""

    max_pwd_age: int | None
    lockout_duration: int | None


@dataclass(frozen=True)
class ContainerRights:
    """``allowedChildClassesEffective`` (MS-ADTS 3.1.1.4.5.4) on the container for new computers."""

    dn: str
    source: Literal["given", "wellKnownObjects", "default"]
    exists: bool
    child_classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserRead:
    """What the account could read of users (see the module docstring for what it proves)."""

    self_readable: tuple[str, ...]
    """Attributes of :data:`USER_READ_ATTRIBUTES` with a value on the account's own object."""
    sampled: int
    """Other users seen."""
    present: Mapping[str, int] = field(default_factory=dict)
    """Per attribute of :data:`USER_READ_ATTRIBUTES`: how many sampled users had a value."""


@dataclass(frozen=True)
class VlvProbe:
    """A real VLV search as the account."""

    response: VlvResponse | None
    """The VLV response control; None if the DC answered without one."""
    entries: int = 0
    code: int | None = None
    """LDAP result code when the DC refused the search (12 unavailableCriticalExtension...)."""
    sentence: str | None = None


@dataclass(frozen=True)
class JoinProbe:
    """The scratch computer object: what was tried and what happened."""

    dn: str
    created: bool
    deleted: bool
    create_code: int | None = None
    create_error: str | None = None
    delete_error: str | None = None


@dataclass(frozen=True)
class AccountFacts:
    """Everything the account checks need, from one DC."""

    address: str
    bind: BindOutcome
    now: datetime
    """This host's clock when the facts were read (the state's reference time)."""
    account: Observed[AccountObject] | None = None
    """None: not tried (the account did not bind and no admin session was given)."""
    policy: Observed[DomainPolicy] | None = None
    container: Observed[ContainerRights] | None = None
    user_read: Observed[UserRead] | None = None
    vlv: Observed[VlvProbe] | None = None
    join_probe_requested: bool = False
    join_probe: Observed[JoinProbe] | None = None


@dataclass(frozen=True)
class KerberosLogin:
    """What one AS exchange for an account ended with."""

    kdc: str
    principal: str
    ok: bool
    elapsed_ms: float
    error_code: int | None = None
    error_name: str | None = None
    problem: str | None = None
    """Why no exchange happened (unreachable KDC, timeout), when it did not."""
    problem_reason: ErrorReason | None = None
    """With ``problem``: its kind (the ``reason`` of the check's ``error`` result)."""
