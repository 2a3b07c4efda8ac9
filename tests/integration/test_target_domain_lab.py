"""``preflight --target-domain`` against the trust lab: ACCT.EXAMPLE (acct1, the account domain AD
Connector connects to) and RES.EXAMPLE (res1, the WorkSpaces target domain), with a real one-way
external trust in which RES trusts ACCT (``scripts/lab up trust``, started here on demand; dc1 is
never touched).

What Samba lets this lab prove, and what it does not: DNS through acct1's forwarder, the ports and
rootDSE of res1, and the trust read from acct1's trustedDomain object are real. A Samba DC does not
pass an LDAP simple bind of a trusted domain's user through the trust, so the rights in the target OU
are a skip that says why (a Windows DC would compute them).
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from adprep.jobs.preflight import preflight_settings, run_preflight
from adprep.model import CheckResult, Report, Status
from adprep.secret import Secret
from adprep.transport.ldap import LdapSession
from tests.conftest import REPO, LabDc, _dc, _facts, missing_peer
from tests.integration.test_account_lab import admin_session, service_account

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def trust_lab() -> tuple[LabDc, LabDc]:
    """(acct1, res1), the trust lab started if it is not running (about 7 s, 25 s on first use)."""
    if not (_facts().get("trust") or {}).get("validated"):
        res = subprocess.run([str(REPO / "scripts" / "lab"), "up", "trust"], capture_output=True, text=True,
                             timeout=300, check=False)  # fmt: skip
        if res.returncode != 0 or not _facts().get("trust"):
            missing_peer(f"the trust lab did not start (scripts/lab up trust): {res.stderr.strip()[-500:]}")
    return _dc("acct1"), _dc("res1")


@pytest.fixture(scope="module")
def ca_bundle(trust_lab: tuple[LabDc, LabDc], tmp_path_factory: pytest.TempPathFactory) -> str:
    """One CA file for both domains' DCs (each lab DC has its own self-signed CA)."""
    acct, res = trust_lab
    path = tmp_path_factory.mktemp("ca") / "both.pem"
    path.write_text(Path(acct.tls_ca).read_text() + Path(res.tls_ca).read_text())
    return str(path)


@contextlib.contextmanager
def res_ou(res: LabDc) -> Iterator[str]:
    """A fresh OU in RES.EXAMPLE, removed afterwards."""
    dn = f"OU=adp-ws-{secrets.token_hex(3)},{res.base_dn}"
    with admin_session(res) as admin:
        admin.add(dn, ("top", "organizationalUnit"), {})
        try:
            yield dn
        finally:
            admin.delete(dn)


def preflight(acct: LabDc, ca: str, *, user: str | None, password: Secret | None, **kw: object) -> Report:
    settings = preflight_settings(
        domain=acct.domain, dns_ips=[acct.address], username=user, password=password,  # type: ignore[arg-type]
        ca_file=ca, timeout=1.0, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return run_preflight(settings)


def by_id(report: Report) -> dict[str, CheckResult]:
    return {r.id: r for r in report.results}


@pytest.fixture(scope="module")
def acct_admin(trust_lab: tuple[LabDc, LabDc]) -> Iterator[LdapSession]:
    with admin_session(trust_lab[0]) as s:
        yield s


def test_target_domain_through_a_one_way_trust(
    trust_lab: tuple[LabDc, LabDc], ca_bundle: str, acct_admin: LdapSession
) -> None:
    # Given an ordinary user of ACCT as the service account, and RES trusting ACCT
    acct, res = trust_lab
    with service_account(acct_admin, acct) as svc:
        # When the preflight runs for ACCT with RES as the target domain
        report = preflight(acct, ca_bundle, user=svc.name, password=svc.password, target_domain=res.domain)
    ids = by_id(report)
    # Then RES's names resolve through ACCT's DNS server (it forwards), over UDP and TCP
    for key in ("ldap_msdcs", "kerberos_tcp", "ldap_tcp"):
        for proto in ("udp", "tcp"):
            assert ids[f"target.dns.srv.{key}.{acct.address}.{proto}"].status is Status.PASS
    assert ids[f"target.dns.srv_targets.{acct.address}.udp"].status is Status.PASS
    assert ids["target.dcs.found"].status is Status.PASS
    # and res1's ports are tested under its own address, its rootDSE names RES
    assert ids[f"ports.tcp.{res.address}.389"].status is Status.PASS
    assert ids[f"ports.udp.{res.address}.88"].status is Status.PASS
    assert ids[f"target.directory.{res.address}"].status is Status.PASS
    # and the trust is read from ACCT's trustedDomain object: inbound, external, one-way
    trust = ids["target.trust"]
    assert trust.status is Status.PASS, trust
    assert trust.facts["trust_partner"] == res.domain
    assert trust.facts["trust_direction"] == 1
    assert trust.facts["trust_type"] == 2
    assert "one-way" in trust.title
    # and the rights in RES are a skip with the reason: Samba refuses the simple bind across the trust
    rights = ids["target.rights.create_computer"]
    assert rights.status is Status.SKIP
    assert rights.facts["result_code"] == 49
    assert rights.facts["bind_name"] == f"{svc.name}@{acct.domain}"
    # and ACCT's computers container, where the account may not create computers, is not judged: they go to RES
    assert ids["account.rights.create_computer"].status is Status.SKIP
    # and nothing fails
    assert [r.id for r in report.results if r.status in (Status.FAIL, Status.ERROR)] == []


def test_an_ou_of_the_target_domain_is_read_there_not_reported_missing(
    trust_lab: tuple[LabDc, LabDc], ca_bundle: str
) -> None:
    acct, res = trust_lab
    with res_ou(res) as ou:
        # When --ou names an OU of RES, without --target-domain
        report = preflight(
            acct, ca_bundle, user=acct.admin_user, password=Secret(acct.admin_password, "lab"), target_ou=ou
        )
    ids = by_id(report)
    # Then RES is the target domain, and ACCT's checks never look for the OU in ACCT
    assert ids["target.trust"].status is Status.PASS
    assert ids["account.rights.create_computer"].status is Status.SKIP
    assert "target.rights.create_computer" in ids["account.rights.create_computer"].title
    assert ids["gpo.scan"].status is Status.SKIP
    assert ids["target.rights.create_computer"].facts["container"] == ou
    assert [r.id for r in report.results if r.status in (Status.FAIL, Status.ERROR)] == []


def test_without_an_account_the_names_and_ports_are_checked_and_the_trust_is_a_skip(
    trust_lab: tuple[LabDc, LabDc], ca_bundle: str
) -> None:
    acct, res = trust_lab
    report = preflight(acct, ca_bundle, user=None, password=None, target_domain=res.domain)
    ids = by_id(report)
    assert ids[f"target.dns.srv.ldap_msdcs.{acct.address}.udp"].status is Status.PASS
    assert ids[f"target.directory.{res.address}"].status is Status.PASS
    assert ids["target.trust"].status is Status.SKIP
    assert "no service account" in ids["target.trust"].title
    assert ids["target.rights.create_computer"].status is Status.SKIP


def test_a_domain_without_a_trust_fails_with_the_direction_needed(
    trust_lab: tuple[LabDc, LabDc], ca_bundle: str
) -> None:
    # Given a target domain ACCT has no trust with (RES's DNS does not hold it either)
    acct, _ = trust_lab
    report = preflight(
        acct, ca_bundle, user=acct.admin_user, password=Secret(acct.admin_password, "lab"),
        target_domain="nowhere.example",
    )  # fmt: skip
    ids = by_id(report)
    assert ids["target.dcs.found"].status is Status.FAIL
    trust = ids["target.trust"]
    assert trust.status is Status.FAIL
    assert trust.remedy is not None and "nowhere.example (the target domain" in trust.remedy
    assert f"trusts {acct.domain}" in trust.remedy
    assert ids["target.rights.create_computer"].status is Status.SKIP
    # The account domain's own checks are untouched
    assert ids["account.bind"].status is Status.PASS
