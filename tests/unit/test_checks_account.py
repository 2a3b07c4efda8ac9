"""Service account verdicts from hand-built facts (pure), and the collector's pure helpers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adprep import requirements as req
from adprep.ad.account_flags import NEVER, datetime_to_filetime
from adprep.checks.account import (
    check_account,
    check_bind,
    check_create_computer,
    check_join_probe,
    check_read_users,
    check_state,
)
from adprep.collect.account import bind_outcome, computers_container, probe_computer_name
from adprep.errors import LdapError, TransportError
from adprep.facts.account import (
    AccountFacts,
    AccountObject,
    BindOutcome,
    ContainerRights,
    DomainPolicy,
    JoinProbe,
    UserRead,
)
from adprep.facts.directory import Observed
from adprep.model import Status

DC = "10.0.0.10"
NOW = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)
INVALID = req.ADC_INVALID_CREDENTIALS.format(ip=DC)
DAY = 864_000_000_000  # 100 ns intervals


def ad_error(code: int, subcode: str) -> LdapError:
    diagnostic = (
        f"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data {subcode}, v1db1"
    )
    return LdapError("Binding failed", code=code, diagnostic=diagnostic, result="invalidCredentials")


def account(**changes: object) -> AccountObject:
    base = AccountObject(
        dn="CN=svc-adc,CN=Users,DC=corp,DC=example",
        sam_account_name="svc-adc",
        user_account_control=0x200,
        pwd_last_set=datetime_to_filetime(NOW - timedelta(days=10)),
        lockout_time=0,
        account_expires=NEVER,
        computed_uac=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def healthy(**changes: object) -> AccountFacts:
    base = AccountFacts(
        address=DC,
        bind=BindOutcome(True, "ldaps", "svc-adc@corp.example"),
        now=NOW,
        account=Observed(account()),
        policy=Observed(DomainPolicy(max_pwd_age=-42 * DAY, lockout_duration=-DAY // 48)),
        container=Observed(
            ContainerRights(
                "CN=Computers,DC=corp,DC=example",
                "wellKnownObjects",
                True,
                ("computer", "contact", "group", "user"),
            )
        ),
        user_read=Observed(
            UserRead(
                ("sAMAccountName", "userAccountControl"),
                3,
                {
                    "sAMAccountName": 3,
                    "userAccountControl": 3,
                    "givenName": 2,
                    "sn": 2,
                    "mail": 1,
                    "userPrincipalName": 3,
                    "memberOf": 0,
                },
            )
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def refused(error: TransportError, mode: str = "ldaps") -> AccountFacts:
    return AccountFacts(DC, bind_outcome(error, mode=mode, bind_name="svc-adc@corp.example"), NOW)  # type: ignore[arg-type]


# --- bind --------------------------------------------------------------------------------------------


def test_bind_passes_over_ldaps() -> None:
    result = check_bind(healthy())
    assert result.id == "account.bind"
    assert result.status is Status.PASS
    assert "LDAPS" in result.title


def test_wrong_password_fails_with_the_invalid_credentials_text() -> None:
    # Given AD's answer to a wrong password (49, data 52e)
    result = check_bind(refused(ad_error(49, "52e")))
    # Then the bind fails with AD Connector's own text, for this DC's address
    assert result.status is Status.FAIL
    assert result.adc_error == INVALID
    assert "Invalid credentials (bad username/password)" in result.title
    assert "The user name or password is wrong." in result.title
    assert result.facts["subcode"] == "52e" and result.facts["result_code"] == 49


@pytest.mark.parametrize(("mode", "code", "diagnostic"), [
    ("plain", 8, "BindSimple: Transport encryption required."),
    ("plain", 8, "00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity "
                 "checking if SSL\\TLS are not already active on the connection, data 0, v4563"),
])  # fmt: skip
def test_plain_bind_refused_by_a_hardened_dc_says_so(mode: str, code: int, diagnostic: str) -> None:
    facts = refused(LdapError("Binding failed", code=code, diagnostic=diagnostic), mode=mode)
    result = check_bind(facts)
    assert facts.bind.strong_auth_required
    # An error (credentials not checked), not a failure, and not AD Connector's problem
    assert result.status is Status.ERROR
    assert result.adc_error is None
    assert "requires TLS or signing" in result.title
    assert (
        result.remedy
        and "--ldap-mode ldaps" in result.remedy
        and "AD Connector signs its binds" in result.remedy
    )


def test_strong_auth_over_tls_is_not_the_plain_case() -> None:
    facts = refused(LdapError("Binding failed", code=8, diagnostic="x"), mode="ldaps")
    assert not facts.bind.strong_auth_required
    result = check_bind(facts)
    assert result.status is Status.FAIL and result.adc_error == req.ADC_SERVICE_ACCOUNT


def test_unreachable_dc_is_an_error() -> None:
    result = check_bind(refused(TransportError("Cannot connect to LDAP at 10.0.0.10:636", hint="Check TCP.")))
    assert result.status is Status.ERROR
    assert result.remedy and "Cannot connect" in result.remedy


# --- state -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("subcode", "state", "words"), [
    ("533", "disabled", "disabled"),
    ("775", "locked", "locked out"),
    ("701", "expired", "has expired"),
    ("532", "password_expired", "password has expired"),
    ("773", "must_change", "must change its password"),
])  # fmt: skip
def test_state_from_the_bind_subcode(subcode: str, state: str, words: str) -> None:
    facts = refused(ad_error(49, subcode))
    result = check_state(facts)
    assert result.id == "account.state"
    assert result.status is Status.FAIL
    assert result.facts["state"] == state and result.facts["source"] == "bind"
    assert words in result.title
    assert result.adc_error == INVALID
    # and the bind itself failed with the same AD Connector text
    assert check_bind(facts).adc_error == INVALID


def test_state_is_skipped_after_a_wrong_password() -> None:
    assert check_state(refused(ad_error(49, "52e"))).status is Status.SKIP


def test_healthy_account_state_passes() -> None:
    result = check_state(healthy())
    assert result.status is Status.PASS
    assert result.facts["problems"] == []


def test_state_read_by_admin_disabled_fails() -> None:
    facts = healthy(
        bind=BindOutcome(False, "ldaps", "x", code=49), account=Observed(account(user_account_control=0x202))
    )
    result = check_state(facts)
    assert result.status is Status.FAIL
    assert "disabled" in result.title


def test_password_expiring_soon_warns() -> None:
    # 42-day maximum age, password set 35 days ago: 7 days left
    facts = healthy(account=Observed(account(pwd_last_set=datetime_to_filetime(NOW - timedelta(days=35)))))
    result = check_state(facts)
    assert result.status is Status.WARN
    assert "password expires on" in result.title


def test_password_past_max_age_fails() -> None:
    facts = healthy(account=Observed(account(pwd_last_set=datetime_to_filetime(NOW - timedelta(days=50)))))
    result = check_state(facts)
    assert result.status is Status.FAIL
    assert result.adc_error == INVALID


def test_state_unreadable_while_bound_is_an_error() -> None:
    assert check_state(healthy(account=Observed.failed("not found"))).status is Status.ERROR


# --- rights ------------------------------------------------------------------------------------------


def test_computer_in_allowed_child_classes_passes() -> None:
    result = check_create_computer(healthy())
    assert result.id == "account.rights.create_computer"
    assert result.status is Status.PASS


def test_no_computer_class_fails_with_delegation_remedy() -> None:
    facts = healthy(
        container=Observed(ContainerRights("CN=Computers,DC=corp,DC=example", "default", True, ()))
    )
    result = check_create_computer(facts)
    assert result.status is Status.FAIL
    assert result.remedy and "Create Computer objects" in result.remedy


def test_missing_target_container_fails() -> None:
    facts = healthy(container=Observed(ContainerRights("OU=Nope,DC=corp,DC=example", "given", False)))
    result = check_create_computer(facts)
    assert result.status is Status.FAIL
    assert "does not exist" in result.title


def test_rights_skip_when_unbound_and_error_when_unreadable() -> None:
    unbound = refused(ad_error(49, "52e"))
    assert check_create_computer(unbound).status is Status.SKIP
    assert check_read_users(unbound).status is Status.SKIP
    assert check_create_computer(healthy(container=Observed.failed("boom"))).status is Status.ERROR
    assert check_read_users(healthy(user_read=Observed.failed("boom"))).status is Status.ERROR


def test_reading_users_passes_and_names_what_is_not_proven() -> None:
    result = check_read_users(healthy())
    assert result.id == "account.rights.read_users"
    assert result.status is Status.PASS
    assert result.facts["not_proven"] == ["memberOf"]


def test_users_without_sam_account_name_prove_a_missing_read_right() -> None:
    facts = healthy(user_read=Observed(UserRead((), 3, {"sAMAccountName": 1, "userAccountControl": 3})))
    result = check_read_users(facts)
    assert result.status is Status.FAIL
    assert "sAMAccountName" in result.title and "1 of 3" in result.title


def test_seeing_no_users_fails() -> None:
    assert check_read_users(healthy(user_read=Observed(UserRead((), 0, {})))).status is Status.FAIL


# --- join probe --------------------------------------------------------------------------------------


def test_join_probe_not_asked_is_a_skip() -> None:
    result = check_join_probe(healthy())
    assert result.id == "account.join_probe"
    assert result.status is Status.SKIP


def test_join_probe_created_and_deleted_passes() -> None:
    probe = JoinProbe("CN=adprep-probe-1a2b,CN=Computers,DC=corp,DC=example", True, True)
    result = check_join_probe(healthy(join_probe_requested=True, join_probe=Observed(probe)))
    assert result.status is Status.PASS


def test_join_probe_refused_fails_with_the_ldap_sentence() -> None:
    probe = JoinProbe("CN=adprep-probe-1a2b,CN=Computers,DC=corp,DC=example", False, False, 50,
                      "The account is not allowed to do this.")  # fmt: skip
    result = check_join_probe(healthy(join_probe_requested=True, join_probe=Observed(probe)))
    assert result.status is Status.FAIL
    assert "The account is not allowed to do this." in result.title


def test_join_probe_left_behind_warns_with_the_dn() -> None:
    probe = JoinProbe("CN=adprep-probe-1a2b,CN=Computers,DC=corp,DC=example", True, False,
                      delete_error="The account is not allowed to do this.")  # fmt: skip
    result = check_join_probe(healthy(join_probe_requested=True, join_probe=Observed(probe)))
    assert result.status is Status.WARN
    assert result.remedy and "CN=adprep-probe-1a2b" in result.remedy


def test_join_probe_unbound_or_broken() -> None:
    unbound = replace(refused(ad_error(49, "52e")), join_probe_requested=True)
    assert check_join_probe(unbound).status is Status.SKIP
    broken = healthy(join_probe_requested=True, join_probe=Observed.failed("The container does not exist"))
    assert check_join_probe(broken).status is Status.ERROR


def test_check_account_ids_in_order() -> None:
    assert [r.id for r in check_account(healthy())] == [
        "account.bind",
        "account.state",
        "account.rights.create_computer",
        "account.rights.read_users",
        "account.join_probe",
    ]


def test_no_secret_in_any_result() -> None:
    # The password never enters the facts: only the bind name and the DC's message do.
    for result in check_account(refused(ad_error(49, "52e"))):
        assert "hunter2" not in repr(result)


# --- pure helpers ------------------------------------------------------------------------------------


def test_computers_container_from_well_known_objects() -> None:
    values = [
        "B:32:A9D1CA15768811D1ADED00C04FD8D5CD:CN=Users,DC=corp,DC=example",
        "B:32:AA312825768811D1ADED00C04FD8D5CD:OU=Workstations,DC=corp,DC=example",
    ]
    assert computers_container(values, "DC=corp,DC=example") == ("OU=Workstations,DC=corp,DC=example",
                                                                  "wellKnownObjects")  # fmt: skip
    assert computers_container([], "DC=corp,DC=example") == ("CN=Computers,DC=corp,DC=example", "default")


def test_probe_computer_name_fits_sam_account_name() -> None:
    name = probe_computer_name()
    assert name.startswith("adprep-probe-")
    assert len(name) + 1 <= req.SAM_ACCOUNT_NAME_MAX


# --- Kerberos login ------------------------------------------------------------------------------------


def test_kerberos_ticket_passes() -> None:
    from adprep.checks.account import check_kerberos
    from adprep.facts.account import KerberosLogin

    r = check_kerberos(KerberosLogin(DC, "svc-adc@CORP.EXAMPLE", True, 12.0), healthy())
    assert r.id == "account.kerberos" and r.status is Status.PASS


@pytest.mark.parametrize(
    ("code", "adc"),
    [(24, req.ADC_INVALID_CREDENTIALS), (18, req.ADC_INVALID_CREDENTIALS), (37, req.ADC_SERVICE_ACCOUNT),
     (23, req.ADC_SERVICE_ACCOUNT), (14, req.ADC_SERVICE_ACCOUNT), (99, req.ADC_SERVICE_ACCOUNT)],
)  # fmt: skip
def test_kdc_errors_fail_with_the_adc_text(code: int, adc: str) -> None:
    from adprep.checks.account import check_kerberos
    from adprep.facts.account import KerberosLogin
    from adprep.transport.kerberos import KDC_ERRORS

    login = KerberosLogin(
        DC, "svc-adc@CORP.EXAMPLE", False, 5.0, error_code=code, error_name=KDC_ERRORS.get(code)
    )
    r = check_kerberos(login, healthy())
    assert r.status is Status.FAIL and r.adc_error == adc.format(ip=DC) and r.remedy


def test_kerberos_unreachable_is_an_error_and_unbound_is_a_skip() -> None:
    from adprep.checks.account import check_kerberos
    from adprep.facts.account import KerberosLogin

    r = check_kerberos(KerberosLogin(DC, "svc@X", False, 1.0, problem="TCP 88 refused"), healthy())
    assert r.status is Status.ERROR and "TCP 88" in (r.remedy or "")
    assert check_kerberos(None, refused(LdapError("bad", code=49))).status is Status.SKIP
