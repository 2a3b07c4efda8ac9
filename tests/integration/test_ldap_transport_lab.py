"""The LDAP transport's TLS behaviour against the lab DC: verified by default, with errors that say the fix."""

from __future__ import annotations

import pytest

from adprep.errors import LdapError
from adprep.secret import Secret
from adprep.transport.ldap import LdapTarget, connect
from tests.conftest import LabDc

pytestmark = pytest.mark.lab


def test_certificate_checked_against_the_address_names_the_dc_name_to_pass(dc1: LabDc) -> None:
    # Given the right CA but no host name, when connecting by address
    with pytest.raises(LdapError) as e:
        connect(LdapTarget(dc1.address, ca_file=dc1.tls_ca), user=f"{dc1.admin_user}@{dc1.domain}",
                password=Secret(dc1.admin_password, "lab"))  # fmt: skip
    # Then the error says which name the certificate has and which flag to pass
    assert "--dc-name DC1.lab.example" in str(e.value)
    assert dc1.admin_password not in str(e.value)


def test_unknown_ca_is_refused_by_default(dc1: LabDc) -> None:
    with pytest.raises(LdapError, match="--ca-file"):
        connect(LdapTarget(dc1.address, server_name=dc1.fqdn), user=f"{dc1.admin_user}@{dc1.domain}",
                password=Secret(dc1.admin_password, "lab"))  # fmt: skip


def test_verified_connection_with_ca_and_name(dc1: LabDc) -> None:
    target = LdapTarget(dc1.address, server_name=dc1.fqdn, ca_file=dc1.tls_ca)
    with connect(
        target, user=f"{dc1.admin_user}@{dc1.domain}", password=Secret(dc1.admin_password, "lab")
    ) as s:
        assert s.exists(dc1.base_dn)
