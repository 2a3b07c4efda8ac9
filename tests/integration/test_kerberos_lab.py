"""Kerberos logins as an account against the lab KDC (Samba's), one per outcome."""

from __future__ import annotations

import secrets

import pytest

from adprep.secret import Secret
from adprep.transport.kerberos import kerberos_login
from adprep.transport.ldap import LdapTarget, connect
from tests.conftest import LabDc

pytestmark = pytest.mark.lab


def test_right_password_gets_a_ticket(dc1: LabDc) -> None:
    login = kerberos_login(
        dc1.address, dc1.realm, dc1.admin_user, Secret(dc1.admin_password, "lab"), timeout=5
    )
    assert login.ok and login.error_code is None


def test_wrong_password_and_unknown_account(dc1: LabDc) -> None:
    wrong = kerberos_login(dc1.address, dc1.realm, dc1.admin_user, Secret("not-the-password", "t"), timeout=5)
    assert (wrong.ok, wrong.error_code, wrong.error_name) == (False, 24, "KDC_ERR_PREAUTH_FAILED")
    unknown = kerberos_login(
        dc1.address, dc1.realm, f"adp-nobody-{secrets.token_hex(3)}", Secret("x", "t"), timeout=5
    )
    assert unknown.error_code == 6


def test_disabled_account_is_revoked(dc1: LabDc) -> None:
    # Given a disabled account with a known password
    name, password = f"adp-{secrets.token_hex(4)}", f"Aa1-{secrets.token_hex(8)}"
    target = LdapTarget(dc1.address, server_name=dc1.fqdn, ca_file=dc1.tls_ca)
    with connect(
        target, user=f"{dc1.admin_user}@{dc1.domain}", password=Secret(dc1.admin_password, "lab")
    ) as admin:
        dn = f"CN={name},CN=Users,{dc1.base_dn}"
        admin.add(dn, ["top", "person", "organizationalPerson", "user"],
                  {"sAMAccountName": name, "userAccountControl": "514",
                   "unicodePwd": f'"{password}"'.encode("utf-16-le")})  # fmt: skip
        try:
            # When it asks for a ticket, then the KDC says the client is revoked
            login = kerberos_login(dc1.address, dc1.realm, name, Secret(password, "t"), timeout=5)
            assert login.error_code == 18
        finally:
            admin.delete(dn)


def test_unreachable_kdc_is_a_problem_not_a_hang() -> None:
    login = kerberos_login("127.0.0.66", "LAB.EXAMPLE", "x", Secret("x", "t"), timeout=2)
    assert not login.ok and login.error_code is None and "TCP 88" in (login.problem or "")
