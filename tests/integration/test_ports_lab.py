"""adprep ports against the real lab DC, a dead loopback address and a filtering namespace."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from adprep.jobs.ports import ports_settings, run_ports
from adprep.model import Status
from tests.conftest import REPO, LabDc

pytestmark = pytest.mark.lab


def _settings(targets: list[str], tcp: tuple[int, ...], timeout: float = 2.0):  # type: ignore[no-untyped-def]
    return ports_settings(
        targets=targets, profile=None, tcp=tcp, udp=None, timeout=timeout, concurrency=64, vantage="test"
    )


def test_dc_ports_are_open(dc1: LabDc) -> None:
    # Given the lab DC, when its AD ports are probed
    report = run_ports(_settings([dc1.address], (53, 88, 135, 389, 445, 636, 3268)))
    # Then every one is open, with the time it took
    by_id = {r.id: r for r in report.results}
    for port in (53, 88, 135, 389, 445, 636, 3268):
        result = by_id[f"ports.tcp.{dc1.address}.{port}"]
        assert result.status is Status.PASS, result
        assert isinstance(result.facts["elapsed_ms"], float)
    assert report.vantage.label == "test"
    assert report.vantage.source_addresses[dc1.address].startswith("127.")


def test_port_with_no_listener_is_closed_at_once() -> None:
    # 127.0.0.66 has nothing listening: the kernel refuses at once
    started = time.monotonic()
    report = run_ports(_settings(["127.0.0.66"], (389,), timeout=2.0))
    (result,) = report.results
    assert result.facts["verdict"] == "closed"
    assert result.status is Status.FAIL
    assert (
        result.adc_error is not None
        and "LDAP unavailable (TCP port 389) for IP: 127.0.0.66" in result.adc_error
    )
    assert time.monotonic() - started < 1.0


def test_filtered_port_in_a_namespace_costs_one_timeout(netns: str) -> None:
    # Given a namespace that drops traffic to 127.0.1.0/24, when several filtered and closed ports are probed
    cmd = [
        "ip", "netns", "exec", netns, sys.executable, "-m", "adprep.cli.main", "ports",
        "--tcp", "53,88,389", "--timeout", "1", "--format", "json", "127.0.1.7", "127.0.1.8", "127.0.0.7",
    ]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=30)
    elapsed = time.monotonic() - started
    # Then the dropped ones are filtered, the refused one closed, and the whole run costs one timeout
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    verdicts = {r["id"]: r["facts"]["verdict"] for r in data["results"]}
    assert verdicts["ports.tcp.127.0.1.7.389"] == "filtered"
    assert verdicts["ports.tcp.127.0.1.8.53"] == "filtered"
    assert verdicts["ports.tcp.127.0.0.7.88"] == "closed"
    filtered = [r for r in data["results"] if r["facts"]["verdict"] == "filtered"]
    assert all(950 <= r["facts"]["elapsed_ms"] < 1500 for r in filtered)
    assert elapsed < 1.0 + 2.5  # one timeout plus interpreter start-up, not 6 timeouts


def test_second_dc_answers_too(dc2: LabDc) -> None:
    report = run_ports(_settings([dc2.address], (53, 88, 389)))
    assert all(r.status is Status.PASS for r in report.results)


def _udp_settings(targets: list[str], udp: tuple[int, ...], domain: str | None, timeout: float = 2.0):  # type: ignore[no-untyped-def]
    return ports_settings(targets=targets, profile=None, tcp=(135,), udp=udp, timeout=timeout, concurrency=64,
                          vantage=None, domain=domain)  # fmt: skip


def test_udp_services_answer_real_protocol_probes(dc1: LabDc) -> None:
    # Given the lab DC, when UDP 53, 88, 389, 123 and 138 are probed with the domain known
    report = run_ports(_udp_settings([dc1.address], (53, 88, 123, 138, 389), dc1.domain))
    r = {x.id: x for x in report.results}
    a = dc1.address
    # Then DNS, Kerberos and CLDAP are open because they answered their protocols
    assert r[f"ports.udp.{a}.53"].status is Status.PASS
    assert r[f"ports.udp.{a}.53"].facts["rcode"] == "NOERROR"
    assert r[f"ports.udp.{a}.88"].facts["error_code"] == 6  # KDC_ERR_C_PRINCIPAL_UNKNOWN: a KDC answered
    cldap = r[f"ports.udp.{a}.389"]
    assert cldap.status is Status.PASS
    assert cldap.facts["dns_domain_name"] == dc1.domain
    assert cldap.facts["dns_host_name"] == dc1.fqdn
    assert cldap.facts["dc_site_name"] == "Default-First-Site-Name"
    assert {"DS_KDC_FLAG", "DS_LDAP_FLAG", "DS_WRITABLE_FLAG"} <= set(cldap.facts["flag_names"])  # type: ignore[arg-type]
    # Samba serves no NTP: the kernel answers ICMP port unreachable, so 123 is closed (seen on this lab)
    assert r[f"ports.udp.{a}.123"].facts["verdict"] == "closed"
    # NetBIOS datagrams have no reply: unverifiable, with the reason
    assert r[f"ports.udp.{a}.138"].status is Status.SKIP
    assert "NetBIOS datagrams have no reply" in (r[f"ports.udp.{a}.138"].remedy or "")


def test_rpc_endpoint_mapper_ports_found_and_open(dc1: LabDc) -> None:
    report = run_ports(_udp_settings([dc1.address], (), None))
    rpc = {x.id: x for x in report.results if x.id.startswith("ports.rpc.")}
    assert set(rpc) == {f"ports.rpc.{dc1.address}.{i}" for i in ("lsa", "samr", "netlogon", "drsuapi")}
    for result in rpc.values():
        assert result.status is Status.PASS, result
        assert int(result.facts["port"]) >= 1024  # type: ignore[arg-type]


def test_udp_silence_in_a_dropping_namespace_is_open_filtered(netns: str) -> None:
    cmd = [
        "ip", "netns", "exec", netns, sys.executable, "-m", "adprep.cli.main", "ports",
        "--udp", "53,88,389", "--tcp", "389", "--timeout", "1", "--format", "json", "127.0.1.9", "127.0.0.9",
    ]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=30)
    elapsed = time.monotonic() - started
    data = json.loads(proc.stdout)
    v = {x["id"]: x["facts"]["verdict"] for x in data["results"]}
    assert v["ports.udp.127.0.1.9.53"] == "open|filtered"
    assert v["ports.udp.127.0.1.9.389"] == "open|filtered"
    assert v["ports.tcp.127.0.1.9.389"] == "filtered"
    assert v["ports.udp.127.0.0.9.88"] == "closed"
    silent = next(x for x in data["results"] if x["id"] == "ports.udp.127.0.1.9.88")
    assert silent["facts"]["attempts"] == 3  # the retries are spread over the one timeout
    assert elapsed < 1.0 + 2.5


def test_second_dc_answers_udp_too(dc2: LabDc) -> None:
    report = run_ports(_udp_settings([dc2.address], (53, 88, 389), dc2.domain))
    udp = [r for r in report.results if r.id.startswith("ports.udp.")]
    assert len(udp) == 3 and all(r.status is Status.PASS for r in udp)
    cldap = next(r for r in udp if r.id.endswith(".389"))
    assert cldap.facts["dns_host_name"] == dc2.fqdn
