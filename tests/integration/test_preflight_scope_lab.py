"""What a preflight covers, against the lab: without a service account, with WorkSpaces' whole port
list (ICMP echo included), and ICMP where a host or a relay cannot send it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from adprep.cli.main import main
from adprep.jobs.preflight import preflight_settings, run_preflight
from adprep.model import Report, Status
from adprep.secret import Secret
from tests.conftest import REPO, LabDc, LabNet

pytestmark = pytest.mark.lab


def by_id(report: Report) -> dict[str, Any]:
    return {r.id: r for r in report.results}


def json_run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main([*args, "--format", "json"])
    return status, {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}


def test_a_preflight_without_an_account_reports_the_functional_levels(dc1: LabDc) -> None:
    # Given only the domain and a DNS server, and a password source that must never be asked
    def no_password() -> Secret:
        raise AssertionError("a preflight without --user asked for a password")

    settings = preflight_settings(
        domain=dc1.domain, dns_ips=[dc1.address], username=None, password=no_password, timeout=1.0
    )
    # When the preflight runs
    report = run_preflight(settings)
    ids = by_id(report)
    # Then the functional levels come from the anonymous rootDSE, like DirectoryServicePortTest's
    forest, domain = ids["directory.functional_level.forest"], ids["directory.functional_level.domain"]
    assert forest.status is Status.PASS and forest.facts["level"] == 4
    assert domain.status is Status.PASS and domain.facts["level"] == 4
    # And DNS/SRV, ports, CLDAP and the clock ran as usual
    for cid in ("dns.srv.ldap_tcp.127.0.0.2.udp", "ports.tcp.127.0.0.2.389", "ports.udp.127.0.0.2.389",
                f"directory.time_skew.{dc1.address}"):  # fmt: skip
        assert ids[cid].status is Status.PASS, cid
    # And every check that needs the account is a skip with the reason, summed up once
    for cid in ("account.bind", "account.kerberos", "account.rights.create_computer", "directory.vlv.search",
                "directory.preauth", "gpo.scan"):  # fmt: skip
        assert ids[cid].status is Status.SKIP and "--user" in ids[cid].title, cid
    assert ids["account.scope"].status is Status.SKIP
    assert [r.id for r in report.scope] == ["ports.scope", "account.scope"]
    assert not [r for r in report.results if r.status in (Status.FAIL, Status.ERROR)]


def test_the_table_summary_says_what_was_left_out(dc1: LabDc, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # Given no password anywhere and no --user
    monkeypatch.delenv("ADPREP_PASSWORD", raising=False)
    # When the default preflight runs
    status = main(["preflight", "--domain", dc1.domain, "--dns-ip", dc1.address, "--timeout", "1"])
    out = capsys.readouterr().out
    # Then it passes, and its footer names the profile, what it left untested, and the skipped account
    assert status == 0
    footer = out[out.index(" passed, ") :]
    assert (
        "Scope: Ports: profile adc-minimum (AD Connector's minimum); not tested of WorkSpaces' list: TCP 135"
        in footer
    )
    assert "dynamic RPC, ICMP echo" in footer
    assert "Scope: Service account checks skipped: no service account given (--user)" in footer


def test_the_workspaces_profile_tests_the_whole_list(dc1: LabDc, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the preflight run for WorkSpaces, with the account
    settings = preflight_settings(
        domain=dc1.domain, dns_ips=[dc1.address], username="Administrator",
        password=Secret(dc1.admin_password, "lab"), ca_file=dc1.tls_ca, timeout=1.0, profile="workspaces",
    )  # fmt: skip
    report = run_preflight(settings)
    ids = by_id(report)
    dc = dc1.address
    # Then every port of WorkSpaces' list was tested on the DC, and the dynamic RPC ports through the mapper
    for port in (53, 88, 135, 139, 389, 445, 464, 636, 3268, 3269):
        assert ids[f"ports.tcp.{dc}.{port}"].status is Status.PASS, port
    for port in (53, 88, 389, 464):
        assert ids[f"ports.udp.{dc}.{port}"].status is Status.PASS, port
    assert ids[f"ports.rpc.{dc}.netlogon"].status is Status.PASS
    # And UDP 138/445 are unverifiable, and the lab's Samba serves neither NTP nor NetBIOS names: honest failures
    assert (
        ids[f"ports.udp.{dc}.138"].status is Status.SKIP and ids[f"ports.udp.{dc}.445"].status is Status.SKIP
    )
    assert (
        ids[f"ports.udp.{dc}.123"].status is Status.FAIL
        and ids[f"ports.udp.{dc}.123"].facts["verdict"] == "closed"
    )
    assert ids[f"ports.udp.{dc}.137"].status is Status.FAIL
    # And the DC answered an ICMP echo (these tests run as root, which may open a raw socket)
    echo = ids[f"ports.icmp.{dc}"]
    assert echo.status is Status.PASS and echo.facts["socket"] in ("raw", "ping")
    # And the scope says nothing was left out
    scope = ids["ports.scope"]
    assert (
        scope.status is Status.PASS and scope.facts["untested"] == [] and "profile workspaces" in scope.title
    )


ECHO = "import asyncio, sys; from adprep.transport.icmp import echo_icmp; " \
       "r = asyncio.run(echo_icmp(sys.argv[1], timeout=0.6)); print(r.outcome, r.socket_kind)"  # fmt: skip


def echo_in(netns: str, address: str, *prefix: str) -> str:
    proc = subprocess.run(
        ["ip", "netns", "exec", netns, *prefix, sys.executable, "-c", ECHO, address],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return proc.stdout.strip()


def test_icmp_echo_outcomes_in_a_namespace_of_our_own(netns: str) -> None:
    # Given a namespace whose firewall drops everything to 127.0.1.0/24
    # Then a live address answers, and a dropped one is silent
    assert echo_in(netns, "127.0.0.9") in ("reply raw", "reply ping")
    assert echo_in(netns, "127.0.1.9").split()[0] == "silent"
    # And without CAP_NET_RAW, and outside net.ipv4.ping_group_range (the default "1 0"), ICMP is not allowed
    no_raw = ("setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw")
    assert echo_in(netns, "127.0.0.9", *no_raw) == "not_allowed None"
    # And with the group in ping_group_range, the unprivileged ping socket is used
    subprocess.run(
        ["ip", "netns", "exec", netns, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 0"], check=True
    )
    assert echo_in(netns, "127.0.0.9", *no_raw) == "reply ping"


def test_a_relay_reports_icmp_as_not_tested(lab_net: LabNet, capsys: pytest.CaptureFixture[str]) -> None:
    # Given WorkSpaces' list probed from this host and through the SSH relay in subnet-a
    a = lab_net.subnets["subnet-a"]
    status, ids = json_run(
        capsys, "ports", lab_net.dc, "--profile", "workspaces", "--domain", "lab.example", "--timeout", "1",
        "--ssh-config", lab_net.ssh_config, "--via", "local", "--via", f"subnet-a=ssh://{a.ssh}",
    )  # fmt: skip
    # Then this host's echo is answered, and the relay's is a skip that says why (no ICMP in its protocol)
    assert ids[f"ports.icmp.{lab_net.dc}@local"]["status"] == "pass"
    remote = ids[f"ports.icmp.{lab_net.dc}@subnet-a"]
    assert remote["status"] == "skip" and "relay" in remote["title"]
    # And a skip is no path difference
    assert f"paths.ports.icmp.{lab_net.dc}" not in ids
    assert status == 1  # dc4 serves no NTP (UDP 123), like every lab DC
