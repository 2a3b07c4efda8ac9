"""Remote vantages against the routed lab: real OpenSSH servers in two "AD Connector subnet" network
namespaces, the lab DC dc4 on 198.18.0.2 and a FreeRADIUS on 198.18.0.5. subnet-b plays a security
group that drops TCP 389 and UDP 88 to the DC, and is not a registered RADIUS client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adprep.cli.main import main
from tests.conftest import LabDc, LabNet, LabRadius, _dc

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def dc4() -> LabDc:
    return _dc("dc4")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    status = main([*args, "--format", "json"])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in report["results"]}


def vias(net: LabNet, *, subnets: bool = True) -> list[str]:
    a, b = net.subnets["subnet-a"], net.subnets["subnet-b"]
    return [
        "--ssh-config", net.ssh_config, "--via", "local",
        "--via", f"subnet-a=ssh://{a.ssh}" + (f"?subnet={a.cidr}" if subnets else ""),
        "--via", f"subnet-b=ssh://{b.ssh}" + (f"?subnet={b.cidr}" if subnets else ""),
    ]  # fmt: skip


def test_ports_from_three_vantages_pinpoint_the_dropped_path(
    lab_net: LabNet, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the DC probed from this host and from both subnets at once
    status, report, _ = run(
        capsys, "ports", lab_net.dc, "--domain", "lab.example", "--timeout", "1.5", *vias(lab_net)
    )
    results = by_id(report)
    dc = lab_net.dc
    # Then subnet-b's dropped LDAP and Kerberos are failures, named with the AD Connector error
    assert status == 1
    assert results[f"ports.tcp.{dc}.389@subnet-b"]["facts"]["verdict"] == "filtered"
    assert results[f"ports.udp.{dc}.88@subnet-b"]["facts"]["verdict"] == "open|filtered"
    ldap = results[f"paths.ports.tcp.{dc}.389"]
    assert ldap["status"] == "fail"
    assert f"filtered from subnet-b (source {lab_net.subnets['subnet-b'].address})" in ldap["title"]
    assert f"a firewall or security group between subnet-b and {dc} drops it" in ldap["title"]
    assert "LDAP unavailable (TCP port 389)" in ldap["adc_error"]
    assert f"paths.ports.udp.{dc}.88" in results
    # And subnet-a passes everything, with the same verdicts as this host
    for proto, port in (("tcp", 53), ("tcp", 88), ("tcp", 389), ("udp", 53), ("udp", 88), ("udp", 389)):
        local = results[f"ports.{proto}.{dc}.{port}@local"]
        remote = results[f"ports.{proto}.{dc}.{port}@subnet-a"]
        assert remote["status"] == local["status"] == "pass"
        assert remote["facts"]["verdict"] == local["facts"]["verdict"] == "open"
        assert remote["vantage"] == "subnet-a"
    # And the report lists the vantages, with the relays' sources inside the subnets they stand in
    labels = {v["label"]: v for v in report["vantages"]}
    assert labels["subnet-a"]["source_addresses"] == {dc: lab_net.subnets["subnet-a"].address}
    assert labels["subnet-a"]["relay"]["impl"] == "python"
    assert results["vantage.subnet-a.subnet"]["status"] == "pass"
    assert results["vantage.subnet-b.subnet"]["status"] == "pass"
    assert results["vantage.subnet-a.relay"]["status"] == "pass"


def test_one_remote_vantage_keeps_plain_ids(lab_net: LabNet, capsys: pytest.CaptureFixture[str]) -> None:
    status, report, _ = run(
        capsys, "ports", lab_net.dc, "--tcp", "389", "--timeout", "1", "--ssh-config", lab_net.ssh_config,
        "--via", "ssh://subnet-a",
    )  # fmt: skip
    results = by_id(report)
    assert status == 0
    assert results[f"ports.tcp.{lab_net.dc}.389"]["vantage"] == "subnet-a"
    assert report["vantages"][0]["via"] == "ssh://subnet-a"


def test_a_relay_outside_its_subnet_did_not_prove_it(
    lab_net: LabNet, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = lab_net.subnets["subnet-b"].cidr
    status, report, _ = run(
        capsys, "ports", lab_net.dc, "--tcp", "53", "--timeout", "1", "--ssh-config", lab_net.ssh_config,
        "--via", f"subnet-a=ssh://subnet-a?subnet={wrong}",
    )  # fmt: skip
    result = by_id(report)["vantage.subnet-a.subnet"]
    assert status == 3
    assert result["status"] == "error" and "did not prove that subnet's path" in result["title"]


@pytest.mark.parametrize(
    ("alias", "reason", "fragment"),
    [
        ("nopython", "no_interpreter", "has no python3"),
        ("badauth", "auth", "refused the SSH login"),
        ("unknownkey", "host_key", "is not known"),
        ("changedkey", "host_key", "has changed"),
        ("closed", "unreachable", "could not be reached"),
    ],
)
def test_a_vantage_that_fails_is_data_and_the_others_go_on(
    lab_net: LabNet, capsys: pytest.CaptureFixture[str], alias: str, reason: str, fragment: str
) -> None:
    status, report, err = run(
        capsys, "ports", lab_net.dc, "--tcp", "53", "--timeout", "1", "--ssh-config", lab_net.ssh_config,
        "--via", "local", "--via", f"broken=ssh://{lab_net.aliases[alias]}",
    )  # fmt: skip
    results = by_id(report)
    failed = results["vantage.broken.relay"]
    assert status == 3
    assert failed["status"] == "error" and failed["facts"]["reason"] == reason
    assert fragment in failed["title"] and failed["remedy"]
    assert results[f"ports.tcp.{lab_net.dc}.53@local"]["status"] == "pass"
    assert "Traceback" not in err


def test_preflight_from_three_vantages(
    lab_net: LabNet, dc4: LabDc, radius_lab: LabRadius, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    # Given a preflight config with RADIUS on the routed address, run from this host and both subnets
    monkeypatch.setenv("ADPREP_PASSWORD", dc4.admin_password)
    monkeypatch.setenv("ADPREP_RADIUS_SECRET", radius_lab.secret)
    config = tmp_path / "preflight.toml"
    config.write_text(
        f'[radius]\nservers = ["{lab_net.radius_address}"]\nport = {lab_net.radius_port}\ntimeout = 1\n'
        'retries = 0\nprotocol = "PAP"\n'
    )
    status, report, _ = run(
        capsys, "preflight", "--domain", dc4.domain, "--dns-ip", lab_net.dc, "--user", "Administrator",
        "--ca-file", dc4.tls_ca, "--timeout", "1.5", "--config", str(config), *vias(lab_net),
    )  # fmt: skip
    results = by_id(report)
    dc, server = lab_net.dc, lab_net.radius_address
    assert status == 1
    # DNS/SRV was asked from every vantage, and found the DC everywhere
    for label in ("local", "subnet-a", "subnet-b"):
        assert any(i.startswith("dns.") and i.endswith(f"@{label}") for i in results)
    assert results["dcs.found"]["status"] == "pass"
    # The dropped path is named, and the directory checks ran from this host only, as the report says
    assert results[f"paths.ports.tcp.{dc}.389"]["status"] == "fail"
    assert results["vantage.directory_checks"]["status"] == "skip"
    assert results["account.bind"]["status"] == "pass"
    # RADIUS: subnet-a is a registered client, subnet-b is not, and the path says so
    assert results[f"radius.probe.{server}@subnet-a"]["status"] == "pass"
    assert results[f"radius.probe.{server}@subnet-b"]["facts"]["outcome"] == "no_response"
    radius_path = results[f"paths.radius.probe.{server}"]
    assert f"subnet-b's address is not a registered RADIUS client of {server}" in radius_path["title"]
    # The CLDAP reply says which AD site each subnet's address maps to
    assert f"dcs.site.{dc}@subnet-a" in results
    assert radius_lab.secret not in json.dumps(report)
    assert dc4.admin_password not in json.dumps(report)
