"""Account state from userAccountControl and FILETIMEs: Given / When / Then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.ad.account_flags import (
    INTERVAL_NEVER,
    NEVER,
    UserAccountControl,
    account_state,
    datetime_to_filetime,
    expiry,
    filetime_to_datetime,
    interval_to_timedelta,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
NORMAL = int(UserAccountControl.NORMAL_ACCOUNT)


def ft(when: datetime) -> int:
    return datetime_to_filetime(when)


def test_filetime_known_value() -> None:
    # The Unix epoch is FILETIME 116444736000000000 (MS-DTYP 2.3.3); 2024-06-01 12:00 UTC is 1717243200 s later
    assert filetime_to_datetime(116444736000000000) == datetime(1970, 1, 1, tzinfo=UTC)
    assert filetime_to_datetime(133617168000000000) == NOW
    assert datetime_to_filetime(NOW) == 116444736000000000 + 1717243200 * 10_000_000


@given(st.datetimes(min_value=datetime(1601, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))
def test_filetime_round_trips(when: datetime) -> None:
    assert filetime_to_datetime(datetime_to_filetime(when)) == when


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError):
        datetime_to_filetime(datetime(2024, 1, 1))


@pytest.mark.parametrize("value", [0, NEVER])
def test_account_expires_never(value: int) -> None:
    assert expiry(value) is None


def test_intervals() -> None:
    assert interval_to_timedelta(-36288000000000) == timedelta(days=42)
    assert interval_to_timedelta(INTERVAL_NEVER) is None
    assert interval_to_timedelta(0) is None


def test_healthy_account() -> None:
    # Given a normal enabled account with a recent password / When judged / Then no problems
    state = account_state(NORMAL, ft(NOW - timedelta(days=1)), 0, NEVER, NOW, max_pwd_age=timedelta(days=42))
    assert state.usable and state.problems == ()
    assert state.password_expires_at == NOW + timedelta(days=41)


def test_every_problem_has_a_sentence() -> None:
    # Given a disabled, locked, expired account that must change its password
    state = account_state(
        NORMAL | UserAccountControl.ACCOUNTDISABLE,
        0,
        ft(NOW - timedelta(minutes=5)),
        ft(NOW - timedelta(days=1)),
        NOW,
        lockout_duration=timedelta(minutes=30),
    )
    # Then each flag is set and each has a sentence
    assert (state.disabled, state.locked, state.expired, state.must_change_password) == (
        True,
        True,
        True,
        True,
    )
    assert not state.password_expired
    assert len(state.problems) == 4
    assert state.locked_until == NOW + timedelta(minutes=25)
    assert "disabled" in state.problems[0]
    assert "locked out" in state.problems[1] and "until 2024-06-01 12:25 UTC" in state.problems[1]
    assert "expired on 2024-05-31" in state.problems[2]
    assert "must change its password" in state.problems[3]


def test_lockout_that_has_passed_is_not_a_lock() -> None:
    state = account_state(
        NORMAL, 1, ft(NOW - timedelta(hours=1)), 0, NOW, lockout_duration=timedelta(minutes=30)
    )
    assert not state.locked


def test_lockout_without_duration_lasts_until_unlocked() -> None:
    state = account_state(NORMAL, 1, ft(NOW - timedelta(days=300)), 0, NOW)
    assert state.locked and "until an administrator unlocks it" in state.problems[0]


def test_password_expiry_and_never_expires() -> None:
    old = ft(NOW - timedelta(days=50))
    expired = account_state(NORMAL, old, 0, 0, NOW, max_pwd_age=timedelta(days=42))
    assert expired.password_expired and "password expired on 2024-05-24 12:00 UTC" in expired.problems[0]
    never = account_state(
        NORMAL | UserAccountControl.DONT_EXPIRE_PASSWORD, old, 0, 0, NOW, timedelta(days=42)
    )
    assert never.usable


def test_dont_expire_password_overrides_must_change() -> None:
    # ADUC: "Password never expires" means pwdLastSet 0 no longer forces a change
    state = account_state(NORMAL | UserAccountControl.DONT_EXPIRE_PASSWORD, 0, 0, 0, NOW)
    assert not state.must_change_password and state.usable


def test_computed_flags_win() -> None:
    # Given the DC's msDS-User-Account-Control-Computed says locked and password expired
    computed = UserAccountControl.LOCKOUT | UserAccountControl.PASSWORD_EXPIRED
    state = account_state(NORMAL, 1, 0, 0, NOW, computed_uac=int(computed))
    assert state.locked and state.password_expired
    assert len(state.problems) == 2


def test_preauth_flag_value() -> None:
    assert UserAccountControl.DONT_REQ_PREAUTH == 0x400000
    assert UserAccountControl.WORKSTATION_TRUST_ACCOUNT == 0x1000
