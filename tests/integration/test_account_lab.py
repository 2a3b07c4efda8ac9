"""The service account checks against the lab's Samba DCs, healthy and broken.

Each broken state is built for a fresh account (``adp-<hex>``, created as Administrator over LDAPS)
and undone by deleting it; nothing domain-wide is changed (the lockout uses a fine-grained password
policy that applies to the test account only).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from adprep import requirements as req
from adprep.checks.account import check_state
from adprep.collect.account import collect_service_account
from adprep.errors import LdapError
from adprep.facts.directory import LdapMode
from adprep.jobs.directory_checks import run_directory_checks
from adprep.model import CheckResult, Status
from adprep.secret import Secret
from adprep.transport.ldap import LdapSession, LdapTarget, connect
from adprep.transport.ldap_settings import DirectorySettings
from tests.conftest import LabDc

pytestmark = pytest.mark.lab

NORMAL_ACCOUNT = 0x200
ACCOUNTDISABLE = 0x2
DONT_REQ_PREAUTH = 0x400000
#: accountExpires of 1970-01-01 (FILETIME): long past.
LONG_AGO = 116_444_736_000_000_000


@dataclass(frozen=True)
class LabAccount:
    name: str
    dn: str
    password: Secret


def admin_session(dc: LabDc) -> LdapSession:
    target = LdapTarget(dc.address, server_name=dc.fqdn, ca_file=dc.tls_ca)
    return connect(target, user=f"{dc.admin_user}@{dc.domain}", password=Secret(dc.admin_password, "lab"))


@contextlib.contextmanager
def service_account(
    admin: LdapSession, dc: LabDc, *, groups: tuple[str, ...] = (), uac: int = NORMAL_ACCOUNT
) -> Iterator[LabAccount]:
    """A fresh enabled user with a random name and password; deleted afterwards."""
    name = f"adp-{secrets.token_hex(4)}"
    dn = f"CN={name},CN=Users,{dc.base_dn}"
    password = Secret(f"Pw-{secrets.token_hex(10)}-aA1", "generated")
    admin.add(dn, ("top", "person", "organizationalPerson", "user"),
              {"sAMAccountName": name, "userPrincipalName": f"{name}@{dc.domain}",
               "userAccountControl": NORMAL_ACCOUNT | ACCOUNTDISABLE})  # fmt: skip
    try:
        admin.set_password(dn, password)
        admin.modify(dn, {"userAccountControl": [("replace", [uac])]})
        for group in groups:
            admin.modify(group, {"member": [("add", [dn])]})
        yield LabAccount(name, dn, password)
    finally:
        admin.delete(dn)  # group memberships go with it


@contextlib.contextmanager
def lockout_policy(admin: LdapSession, dc: LabDc, account: LabAccount, threshold: int = 2) -> Iterator[None]:
    """A fine-grained password policy (MS-ADTS 3.1.1.5.2.x, PSO) locking only ``account`` after
    ``threshold`` bad passwords, so the domain's own lockout policy stays untouched."""
    dn = f"CN={account.name}-pso,CN=Password Settings Container,CN=System,{dc.base_dn}"
    ten_minutes = -10 * 60 * 10_000_000
    admin.add(dn, ("msDS-PasswordSettings",), {
        "msDS-PasswordSettingsPrecedence": 1, "msDS-PasswordReversibleEncryptionEnabled": "FALSE",
        "msDS-PasswordHistoryLength": 0, "msDS-PasswordComplexityEnabled": "FALSE",
        "msDS-MinimumPasswordLength": 0, "msDS-MinimumPasswordAge": 0,
        "msDS-MaximumPasswordAge": -42 * 864_000_000_000, "msDS-LockoutThreshold": threshold,
        "msDS-LockoutObservationWindow": ten_minutes, "msDS-LockoutDuration": ten_minutes,
        "msDS-PSOAppliesTo": [account.dn],
    })  # fmt: skip
    try:
        yield
    finally:
        admin.delete(dn)


def run(
    dc: LabDc,
    account: LabAccount,
    *,
    password: Secret | None = None,
    mode: LdapMode = "ldaps",
    join_probe: bool = False,
    target_ou: str | None = None,
) -> dict[str, CheckResult]:
    results = run_directory_checks(
        dc_address=dc.address, dc_name=dc.fqdn, domain=dc.domain, username=account.name,
        password=password or account.password, mode=mode, ca_file=dc.tls_ca, verify=True, target_ou=target_ou,
        join_probe=join_probe, timeout=5.0,
    )  # fmt: skip
    by_id = {r.id: r for r in results}
    assert len(by_id) == len(results), "check ids must be unique"
    return by_id


@pytest.fixture(scope="module")
def admin(dc1: LabDc) -> Iterator[LdapSession]:
    with admin_session(dc1) as session:
        yield session


def account_operators(dc: LabDc) -> str:
    # Samba's default ACL on CN=Computers lets Account Operators create and delete computers.
    return f"CN=Account Operators,CN=Builtin,{dc.base_dn}"


def test_healthy_service_account_has_no_failures(dc1: LabDc, admin: LdapSession) -> None:
    # Given an enabled account allowed to create computers
    with service_account(admin, dc1, groups=(account_operators(dc1),)) as account:
        # When every directory and account check runs, with the join probe
        results = run(dc1, account, join_probe=True)
    # Then nothing fails and nothing errors
    bad = {i: (r.status, r.title) for i, r in results.items() if r.status in (Status.FAIL, Status.ERROR)}
    assert bad == {}
    assert results["account.bind"].status is Status.PASS
    assert results["account.state"].status is Status.PASS
    assert results["account.rights.create_computer"].status is Status.PASS
    assert results["account.rights.create_computer"].facts["container_source"] == "wellKnownObjects"
    assert results["account.rights.read_users"].status is Status.PASS
    probe = results["account.join_probe"]
    assert probe.status is Status.PASS and probe.facts["created"] and probe.facts["deleted"]
    assert str(probe.facts["dn"]).startswith("CN=adprep-probe-")
    assert not admin.exists(str(probe.facts["dn"]))
    assert results["directory.vlv.search"].status is Status.PASS
    assert results[f"directory.time_skew.{dc1.address}"].status is Status.PASS


def test_wrong_password_is_invalid_credentials(dc1: LabDc, admin: LdapSession) -> None:
    with service_account(admin, dc1) as account:
        results = run(dc1, account, password=Secret("Not-the-password-1", "test"))
    bind = results["account.bind"]
    assert bind.status is Status.FAIL
    assert bind.facts["result_code"] == 49 and bind.facts["subcode"] == "52e"
    assert bind.adc_error == req.ADC_INVALID_CREDENTIALS.format(ip=dc1.address)
    assert "Invalid credentials (bad username/password)" in bind.title
    assert "Not-the-password-1" not in repr(results)
    # The dependent checks are skipped, and the directory reads say why instead of guessing
    assert results["account.state"].status is Status.SKIP
    assert results["directory.vlv.setting"].status is Status.ERROR
    assert "did not bind" in str(results["directory.vlv.setting"].facts["reason"])
    # The anonymous rootDSE still gives levels and the clock
    assert results["directory.functional_level.forest"].status is Status.PASS


@pytest.mark.parametrize(("state", "subcode", "words"), [
    ("disabled", "533", "The account is disabled."),
    ("expired", "701", "The account has expired."),
    ("must_change", "773", "must change its password"),
])  # fmt: skip
def test_unusable_account_states_come_from_the_bind_subcode(
    dc1: LabDc, admin: LdapSession, state: str, subcode: str, words: str
) -> None:
    with service_account(admin, dc1) as account:
        # Given the broken state
        if state == "disabled":
            admin.modify(account.dn, {"userAccountControl": [("replace", [NORMAL_ACCOUNT | ACCOUNTDISABLE])]})
        elif state == "expired":
            admin.modify(account.dn, {"accountExpires": [("replace", [LONG_AGO])]})
        else:
            admin.modify(account.dn, {"pwdLastSet": [("replace", [0])]})
        # When the checks run as the account
        results = run(dc1, account)
    # Then the bind fails with Samba's AD sub-code and the state says which state
    assert results["account.bind"].status is Status.FAIL
    assert results["account.bind"].facts["subcode"] == subcode
    st = results["account.state"]
    assert st.status is Status.FAIL
    assert st.facts["state"] == state and st.facts["subcode"] == subcode
    assert words in st.title
    assert st.adc_error == req.ADC_INVALID_CREDENTIALS.format(ip=dc1.address)


def test_locked_account_after_real_bad_binds(dc1: LabDc, admin: LdapSession) -> None:
    target = LdapTarget(dc1.address, server_name=dc1.fqdn, ca_file=dc1.tls_ca)
    with service_account(admin, dc1) as account, lockout_policy(admin, dc1, account, threshold=2):
        # Given two bad passwords against a lockout threshold of 2
        for _ in range(2):
            with pytest.raises(LdapError):
                connect(target, user=f"{account.name}@{dc1.domain}", password=Secret("wrong-Pw-1", "test"))
        # When the checks run with the right password
        results = run(dc1, account)
    # Then Samba answers data 775 and the account is reported locked
    st = results["account.state"]
    assert results["account.bind"].facts["subcode"] == "775"
    assert st.status is Status.FAIL and st.facts["state"] == "locked"
    assert "locked out" in st.title
    assert st.adc_error == req.ADC_INVALID_CREDENTIALS.format(ip=dc1.address)


def test_account_without_create_computer_rights(dc1: LabDc, admin: LdapSession) -> None:
    # Given a plain user (the lab's default ACL lets it read users, not create computers)
    with service_account(admin, dc1) as account:
        results = run(dc1, account, join_probe=True)
    create = results["account.rights.create_computer"]
    assert create.status is Status.FAIL
    assert create.facts["allowed_child_classes"] == 0
    assert create.remedy and "Create Computer objects" in create.remedy
    assert create.adc_error is None
    probe = results["account.join_probe"]
    assert probe.status is Status.FAIL
    assert probe.facts["create_code"] == 50 and not probe.facts["created"]
    assert "The account is not allowed to do this." in probe.title
    # Reading users still works for any authenticated account
    assert results["account.rights.read_users"].status is Status.PASS
    assert results["account.bind"].status is Status.PASS


def test_missing_target_ou_fails(dc1: LabDc, admin: LdapSession) -> None:
    with service_account(admin, dc1) as account:
        results = run(dc1, account, target_ou=f"No-Such-OU-{secrets.token_hex(3)}", join_probe=True)
    create = results["account.rights.create_computer"]
    assert create.status is Status.FAIL and "does not exist" in create.title
    assert results["account.join_probe"].status is Status.ERROR


def test_plain_simple_bind_on_a_hardened_dc_says_so(dc1: LabDc, admin: LdapSession) -> None:
    # Given dc1 (ldap server require strong auth = yes) and plain LDAP
    with service_account(admin, dc1) as account:
        results = run(dc1, account, mode="plain")
    bind = results["account.bind"]
    # Then the bind is an error with the specific sentence, not "invalid credentials"
    assert bind.status is Status.ERROR
    assert bind.facts["result_code"] == 8
    assert "requires TLS or signing" in bind.title
    assert bind.remedy and "--ldap-mode ldaps" in bind.remedy
    assert bind.adc_error is None


def test_plain_simple_bind_works_on_a_dc_that_allows_it(dc2: LabDc) -> None:
    # dc2 accepts plain simple binds, like an older Windows DC; its accounts are its own
    with admin_session(dc2) as admin2, service_account(admin2, dc2) as account:
        results = run(dc2, account, mode="plain")
    assert results["account.bind"].status is Status.PASS
    assert "plain LDAP" in results["account.bind"].title
    assert results["account.state"].status is Status.PASS


def test_admin_session_reads_the_state_of_an_account_that_cannot_bind(dc1: LabDc, admin: LdapSession) -> None:
    # Given a disabled account and an optional administrator session
    with service_account(admin, dc1, uac=NORMAL_ACCOUNT | ACCOUNTDISABLE) as account:
        settings = DirectorySettings(dc=dc1.address, domain=dc1.domain, user=account.name, password=account.password,
                                     dc_name=dc1.fqdn, ca_file=dc1.tls_ca)  # fmt: skip
        facts = collect_service_account(settings, admin_session_factory=lambda: admin_session(dc1))
    # Then the object was read as the administrator and the state lists the problem too
    assert facts.account is not None and facts.account.value is not None
    assert facts.account.value.read_by == "admin"
    st = check_state(facts)
    assert st.status is Status.FAIL and st.facts["subcode"] == "533"
    assert st.facts["problems"] == ["The account is disabled."]
