"""Account state from ``userAccountControl`` and the FILETIME attributes beside it.

Owns the flag values (MS-ADTS 2.2.16), FILETIME conversion (MS-DTYP 2.3.3) and the verdict
"can this account bind, and if not why", as booleans plus one sentence per problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntFlag


class UserAccountControl(IntFlag):
    """``userAccountControl`` bits (MS-ADTS 2.2.16).

    AD does not keep ``LOCKOUT`` and ``PASSWORD_EXPIRED`` current in the stored attribute; read
    the constructed ``msDS-User-Account-Control-Computed`` for those (MS-ADTS 3.1.1.4.5.17).
    """

    SCRIPT = 0x1
    ACCOUNTDISABLE = 0x2
    HOMEDIR_REQUIRED = 0x8
    LOCKOUT = 0x10
    PASSWD_NOTREQD = 0x20
    PASSWD_CANT_CHANGE = 0x40
    ENCRYPTED_TEXT_PWD_ALLOWED = 0x80
    TEMP_DUPLICATE_ACCOUNT = 0x100
    NORMAL_ACCOUNT = 0x200
    INTERDOMAIN_TRUST_ACCOUNT = 0x800
    WORKSTATION_TRUST_ACCOUNT = 0x1000
    SERVER_TRUST_ACCOUNT = 0x2000
    DONT_EXPIRE_PASSWORD = 0x10000
    MNS_LOGON_ACCOUNT = 0x20000
    SMARTCARD_REQUIRED = 0x40000
    TRUSTED_FOR_DELEGATION = 0x80000
    NOT_DELEGATED = 0x100000
    USE_DES_KEY_ONLY = 0x200000
    DONT_REQ_PREAUTH = 0x400000
    PASSWORD_EXPIRED = 0x800000
    TRUSTED_TO_AUTH_FOR_DELEGATION = 0x1000000
    NO_AUTH_DATA_REQUIRED = 0x2000000
    PARTIAL_SECRETS_ACCOUNT = 0x4000000


# MS-DTYP 2.3.3: FILETIME counts 100-nanosecond intervals since 1601-01-01 UTC.
_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
#: accountExpires "never" (MS-ADA1 Account-Expires: 0 or 0x7FFFFFFFFFFFFFFF).
NEVER = 0x7FFFFFFFFFFFFFFF
#: The "none/forever" value of the negative interval attributes (maxPwdAge, lockoutDuration).
INTERVAL_NEVER = -0x8000000000000000


def filetime_to_datetime(value: int) -> datetime:
    """A FILETIME as an aware UTC datetime. Raises ``ValueError`` past year 9999 (use :func:`expiry`)."""
    if value < 0:
        raise ValueError(f"FILETIME {value} is negative")
    return _EPOCH + timedelta(microseconds=value // 10)


def datetime_to_filetime(when: datetime) -> int:
    """An aware datetime as a FILETIME (naive datetimes are refused: AD times are UTC)."""
    if when.tzinfo is None:
        raise ValueError("a naive datetime has no time zone; AD times are UTC")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def expiry(value: int) -> datetime | None:
    """``accountExpires`` as a datetime; ``None`` for never (0 or 0x7FFFFFFFFFFFFFFF, or beyond 9999)."""
    if value in (0, NEVER):
        return None
    try:
        return filetime_to_datetime(value)
    except (ValueError, OverflowError):
        return None


def interval_to_timedelta(value: int) -> timedelta | None:
    """A domain interval attribute (``maxPwdAge``, ``lockoutDuration``: negative 100 ns counts) as a
    positive timedelta; ``None`` for "never"/"forever" (0 or the most negative 64-bit value)."""
    if value in (0, INTERVAL_NEVER):
        return None
    return timedelta(microseconds=abs(value) // 10)


@dataclass(frozen=True)
class AccountState:
    """Whether an account can sign in, and why not."""

    disabled: bool
    locked: bool
    expired: bool
    password_expired: bool
    must_change_password: bool
    problems: tuple[str, ...]
    """One sentence per problem: disabled, locked, expired, must change, password expired."""
    expires_at: datetime | None = None
    password_expires_at: datetime | None = None
    locked_until: datetime | None = None
    """When a lockout ends by itself; ``None`` if not locked or locked until an admin unlocks it."""

    @property
    def usable(self) -> bool:
        return not self.problems


def _when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def account_state(
    uac: int,
    pwd_last_set: int,
    lockout_time: int,
    account_expires: int,
    now: datetime,
    max_pwd_age: timedelta | None = None,
    lockout_duration: timedelta | None = None,
    *,
    computed_uac: int | None = None,
) -> AccountState:
    """The account's state at ``now`` from its raw attribute values.

    ``max_pwd_age`` and ``lockout_duration`` come from the domain (or the resultant fine-grained
    password policy) via :func:`interval_to_timedelta`; ``None`` means "never expires" and "locked
    until an administrator unlocks it" respectively. ``computed_uac`` is
    ``msDS-User-Account-Control-Computed`` when the DC returned it: its LOCKOUT and
    PASSWORD_EXPIRED bits are the DC's own verdict and win over the arithmetic here.
    """
    flags = UserAccountControl(uac)
    computed = UserAccountControl(computed_uac or 0)
    problems: list[str] = []

    disabled = UserAccountControl.ACCOUNTDISABLE in flags
    if disabled:
        problems.append("The account is disabled.")

    # MS-ADTS 3.1.1.4.5.17: locked when lockoutTime + lockoutDuration is still in the future.
    locked_until: datetime | None = None
    locked = False
    if lockout_time > 0:
        since = filetime_to_datetime(lockout_time)
        if lockout_duration is None:
            locked = True
        elif since + lockout_duration > now:
            locked = True
            locked_until = since + lockout_duration
        if locked:
            until = f" until {_when(locked_until)}" if locked_until else " until an administrator unlocks it"
            problems.append(f"The account is locked out (since {_when(since)}){until}.")
    if UserAccountControl.LOCKOUT in computed and not locked:
        locked = True
        problems.append("The account is locked out.")

    expires_at = expiry(account_expires)
    expired = expires_at is not None and expires_at <= now
    if expired and expires_at is not None:
        problems.append(f"The account expired on {_when(expires_at)}.")

    # ADUC: with "Password never expires", pwdLastSet 0 no longer forces a change at next logon.
    never_expires = UserAccountControl.DONT_EXPIRE_PASSWORD in flags
    must_change = pwd_last_set == 0 and not never_expires
    if must_change:
        problems.append("The account must change its password at next logon, so it cannot bind over LDAP.")

    password_expires_at: datetime | None = None
    password_expired = False
    if not never_expires and pwd_last_set > 0 and max_pwd_age is not None:
        password_expires_at = filetime_to_datetime(pwd_last_set) + max_pwd_age
        password_expired = password_expires_at <= now
    if UserAccountControl.PASSWORD_EXPIRED in computed and not must_change:
        password_expired = True
    if password_expired:
        on = f" on {_when(password_expires_at)}" if password_expires_at else ""
        problems.append(f"The account's password expired{on}.")

    return AccountState(
        disabled=disabled,
        locked=locked,
        expired=expired,
        password_expired=password_expired,
        must_change_password=must_change,
        problems=tuple(problems),
        expires_at=expires_at,
        password_expires_at=password_expires_at,
        locked_until=locked_until,
    )
