"""Write commands find their DC by host name, or from the domain and a DNS server alone, as the
Windows DC locator does (SRV _ldap._tcp.dc._msdcs, then an LDAP ping for a writable DC)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from adprep.cli.main import main
from adprep.collect.dc_locator import locate_writable_dc, order_srv
from adprep.transport.dns import query
from adprep.transport.network import LocalNetwork
from tests.conftest import LabDc
from tests.integration.test_preflight_lab import dns_change

pytestmark = pytest.mark.lab


@contextlib.contextmanager
def msdcs_srv(dc: LabDc, remove: str, add: list[str]) -> Iterator[None]:
    """Replace the DC's _ldap._tcp.dc record in its _msdcs zone by ``add``; put it back afterwards."""

    def samba(verb: str, data: str) -> None:
        cmd = ["samba-tool", "dns", verb, dc.address, f"_msdcs.{dc.domain}", "_ldap._tcp.dc", "SRV", data,
               "-U", dc.admin_user]  # fmt: skip
        env = {**os.environ, "PASSWD": dc.admin_password}
        subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)

    samba("delete", remove)
    added: list[str] = []
    try:
        for data in add:
            samba("add", data)
            added.append(data)
        yield
    finally:
        for data in added:
            samba("delete", data)
        samba("add", remove)


def admin(dc: LabDc, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("ADPREP_PASSWORD", dc.admin_password)
    return ["--domain", dc.domain, "--user", dc.admin_user, "--ca-file", dc.tls_ca]


def test_a_write_command_finds_its_dc_with_only_the_domain_and_the_dns_server(
    dc1: LabDc, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no --dc, only the domain and dc1's DNS server
    status = main(
        ["delegate", "--dry-run", "--format", "json", "--dns-ip", dc1.address, *admin(dc1, monkeypatch)]
    )
    out, err = capsys.readouterr()
    # Then dc1 was found, its certificate verified against the name it was found by, and the plan made
    assert status == 0, err
    plan = json.loads(out)
    assert plan["command"] == "delegate" and plan["dry_run"] is True


def test_a_dc_named_by_host_name_is_resolved_through_the_dns_server(
    dc1: LabDc, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given --dc as a host name (no --dc-name), resolved through --dns-ip
    args = ["--dc", dc1.fqdn, "--dns-ip", dc1.address, *admin(dc1, monkeypatch)]
    status = main(["delegate", "--dry-run", "--format", "json", *args])
    out, err = capsys.readouterr()
    # Then TLS is verified against that name and the plan is made
    assert status == 0, err
    assert json.loads(out)["command"] == "delegate"


def test_a_host_name_that_does_not_resolve_is_one_sentence(
    dc1: LabDc, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--dc", f"nosuchdc.{dc1.domain}", "--dns-ip", dc1.address, *admin(dc1, monkeypatch)]
    assert main(["delegate", "--dry-run", *args]) == 3
    err = capsys.readouterr().err
    assert f"nosuchdc.{dc1.domain} does not resolve (from {dc1.address})" in err and err.count("\n") == 1


def test_the_locator_takes_the_dc_that_answers_the_ldap_ping_as_writable(dc1: LabDc) -> None:
    # When the locator runs against dc1's zone
    found = asyncio.run(
        locate_writable_dc(LocalNetwork(), dc1.domain, [dc1.address], timeout=1.0, ldap_port=636)
    )
    # Then it names dc1 by the host name its LDAP ping reply gives, as writable
    assert (found.address, found.host) == (dc1.address, dc1.fqdn)
    assert "writable" in found.how and "_ldap._tcp.dc._msdcs.lab.example" in found.how


def test_a_dead_dc_ahead_in_the_srv_order_is_passed_over(dc2: LabDc) -> None:
    # Given dc2's DC locator record moved behind (priority 10) a DC whose address has nothing behind it
    srv = [f"ghostdc.{dc2.domain} 389 0 100", f"{dc2.fqdn} 389 10 100"]
    with (
        dns_change(dc2, remove=[], add=[("ghostdc", "A", "127.0.0.66")]),
        msdcs_srv(dc2, f"{dc2.fqdn} 389 0 100", srv),
    ):
        qname = f"_ldap._tcp.dc._msdcs.{dc2.domain}"
        listed = asyncio.run(query(LocalNetwork(), dc2.address, qname, "SRV", "udp", timeout=1.0))
        assert order_srv(listed.srv)[0].target == f"ghostdc.{dc2.domain}"
        found = asyncio.run(
            locate_writable_dc(LocalNetwork(), dc2.domain, [dc2.address], timeout=1.0, ldap_port=636)
        )
    # Then the first DC that answers the LDAP ping as writable is taken: dc2
    assert (found.address, found.host) == (dc2.address, dc2.fqdn)
