"""adprep preflight against the lab: healthy, and with DNS broken in the ways AD Connector trips on.

dc1 stays healthy (other tests use it); the DNS faults are built on dc2's zone and undone.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import jsonschema
import pytest

from adprep import requirements as req
from adprep.jobs.preflight import preflight_settings, run_preflight
from adprep.model import Report, Status
from adprep.render.json import render_json
from adprep.secret import Secret
from tests.conftest import REPO, LabDc

pytestmark = pytest.mark.lab


def preflight(dc: LabDc, dns_ips: list[str], **kw: object) -> Report:
    settings = preflight_settings(
        domain=dc.domain, dns_ips=dns_ips, username="Administrator", password=Secret(dc.admin_password, "lab"),
        ca_file=dc.tls_ca, timeout=1.0, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return run_preflight(settings)


def by_id(report: Report) -> dict[str, object]:
    return {r.id: r for r in report.results}


def samba_dns(dc: LabDc, verb: str, name: str, rtype: str, data: str) -> None:
    env = {**os.environ, "PASSWD": dc.admin_password}
    cmd = ["samba-tool", "dns", verb, dc.address, dc.domain, name, rtype, data, "-U", "Administrator"]
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)


@contextlib.contextmanager
def dns_change(
    dc: LabDc, remove: list[tuple[str, str, str]], add: list[tuple[str, str, str]]
) -> Iterator[None]:
    """Remove and add records in the DC's zone; put everything back afterwards."""
    done_rm: list[tuple[str, str, str]] = []
    done_add: list[tuple[str, str, str]] = []
    try:
        for rec in remove:
            samba_dns(dc, "delete", *rec)
            done_rm.append(rec)
        for rec in add:
            samba_dns(dc, "add", *rec)
            done_add.append(rec)
        yield
    finally:
        for rec in done_add:
            samba_dns(dc, "delete", *rec)
        for rec in done_rm:
            samba_dns(dc, "add", *rec)


def test_healthy_lab_has_no_failures(dc1: LabDc) -> None:
    report = preflight(dc1, [dc1.address])
    bad = [r for r in report.results if r.status in (Status.FAIL, Status.ERROR)]
    assert bad == []
    ids = by_id(report)
    for cid in (
        "dns.srv.ldap_tcp.127.0.0.2.tcp",
        "ports.udp.127.0.0.2.389",
        "account.bind",
        "directory.functional_level.forest",
    ):
        assert cid in ids
    # And its JSON form is valid against the committed schema
    schema = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())
    jsonschema.validate(json.loads(render_json(report, exit_status=0)), schema)


def test_deleted_ldap_srv_record(dc2: LabDc) -> None:
    srv = ("_ldap._tcp", "SRV", f"{dc2.fqdn} 389 0 100")
    with dns_change(dc2, remove=[srv], add=[]):
        report = preflight(dc2, [dc2.address])
    r = by_id(report)[f"dns.srv.ldap_tcp.{dc2.address}.udp"]
    assert r.status is Status.FAIL  # type: ignore[attr-defined]
    assert r.adc_error == f"SRV record for LDAP does not exist for IP: {dc2.address}"  # type: ignore[attr-defined]
    assert by_id(report)[f"dns.srv.ldap_tcp.{dc2.address}.tcp"].status is Status.FAIL  # type: ignore[attr-defined]


def test_no_dc_in_common_between_ldap_and_kerberos(dc2: LabDc) -> None:
    # Given Kerberos SRV records that point at a host that is not the LDAP DC
    krb = ("_kerberos._tcp", "SRV", f"{dc2.fqdn} 88 0 100")
    other = ("_kerberos._tcp", "SRV", f"kdc-only.{dc2.domain} 88 0 100")
    with dns_change(dc2, remove=[krb], add=[("kdc-only", "A", "127.0.0.68"), other]):
        report = preflight(dc2, [dc2.address])
    r = by_id(report)[f"dns.common_dc.{dc2.address}.udp"]
    assert r.status is Status.FAIL  # type: ignore[attr-defined]
    assert r.adc_error == req.ADC_INTERNAL_ERROR  # type: ignore[attr-defined]
    assert by_id(report)["dcs.found"].status is Status.FAIL  # type: ignore[attr-defined]


def test_srv_target_with_nothing_listening(dc2: LabDc) -> None:
    # Given an extra LDAP+Kerberos SRV target whose address has no DC behind it
    ghost = [("ghost", "A", "127.0.0.67"), ("_ldap._tcp", "SRV", f"ghost.{dc2.domain} 389 0 100"),
             ("_kerberos._tcp", "SRV", f"ghost.{dc2.domain} 88 0 100")]  # fmt: skip
    with dns_change(dc2, remove=[], add=ghost):
        report = preflight(dc2, [dc2.address])
    ids = by_id(report)
    r = ids["ports.tcp.127.0.0.67.389"]
    assert r.status is Status.FAIL and r.facts["verdict"] == "closed"  # type: ignore[attr-defined]
    assert "LDAP unavailable (TCP port 389) for IP: 127.0.0.67" in r.adc_error  # type: ignore[attr-defined]
    assert ids["account.bind"].status is Status.PASS  # type: ignore[attr-defined]  # the real DC still serves


def test_two_dns_servers_that_disagree(dc1: LabDc, dc2: LabDc) -> None:
    report = preflight(dc1, [dc1.address, dc2.address])
    r = by_id(report)["dns.consistent"]
    assert r.status is Status.WARN  # type: ignore[attr-defined]
    assert set(r.facts["dcs"]) == {
        f"{dc1.address}/udp",
        f"{dc1.address}/tcp",
        f"{dc2.address}/udp",
        f"{dc2.address}/tcp",
    }  # type: ignore[attr-defined]


@contextlib.contextmanager
def udp_only_dns(upstream: str, listen: str) -> Iterator[str]:
    """A DNS forwarder on ``listen``:53 that relays UDP queries to the real DC and has no TCP
    listener: what a firewall that lets UDP 53 through but blocks TCP 53 looks like."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((listen, 53))
    sock.settimeout(0.2)
    stop = threading.Event()

    def relay() -> None:
        while not stop.is_set():
            try:
                data, client = sock.recvfrom(65535)
            except TimeoutError:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
                up.settimeout(2)
                up.sendto(data, (upstream, 53))
                with contextlib.suppress(TimeoutError):
                    sock.sendto(up.recv(65535), client)

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    try:
        yield listen
    finally:
        stop.set()
        thread.join()
        sock.close()


def test_tcp_53_blocked_while_udp_answers(dc1: LabDc) -> None:
    with udp_only_dns(dc1.address, "127.0.0.59") as dns_ip:
        started = time.monotonic()
        report = preflight(dc1, [dns_ip])
        elapsed = time.monotonic() - started
    ids = by_id(report)
    assert ids["dns.server.127.0.0.59.udp"].status is Status.PASS  # type: ignore[attr-defined]
    tcp = ids["dns.server.127.0.0.59.tcp"]
    assert tcp.status is Status.FAIL  # type: ignore[attr-defined]
    assert tcp.adc_error == "DNS unavailable (TCP port 53) for IP: 127.0.0.59"  # type: ignore[attr-defined]
    assert ids["account.bind"].status is Status.PASS  # type: ignore[attr-defined]
    assert elapsed < 5


def test_every_dc_gets_its_clock_checked(dc1: LabDc, dc2: LabDc) -> None:
    # Given an extra DC and an address with no DC behind it
    report = preflight(dc1, [dc1.address], extra_dcs=[dc2.address, "127.0.0.77"])
    ids = by_id(report)
    # Then both DCs' clocks are read, and the dead address is a skip that points at its port check
    assert ids[f"directory.time_skew.{dc1.address}"].status is Status.PASS  # type: ignore[attr-defined]
    assert ids[f"directory.time_skew.{dc2.address}"].status is Status.PASS  # type: ignore[attr-defined]
    dead = ids["directory.time_skew.127.0.0.77"]
    assert dead.status is Status.SKIP and "ports.tcp.127.0.0.77.389" in dead.remedy  # type: ignore[attr-defined]


def test_aaaa_records_of_srv_targets_are_used(dc2: LabDc) -> None:
    # Given an LDAP+Kerberos SRV target that has only an IPv6 address (the loopback ::1, where no DC listens)
    six = [("six", "AAAA", "::1"), ("_ldap._tcp", "SRV", f"six.{dc2.domain} 389 0 100"),
           ("_kerberos._tcp", "SRV", f"six.{dc2.domain} 88 0 100")]  # fmt: skip
    with dns_change(dc2, remove=[], add=six):
        report = preflight(dc2, [dc2.address])
    ids = by_id(report)
    # Then the target resolves through its AAAA record and the DC behind it is port-tested over IPv6
    targets = ids[f"dns.srv_targets.{dc2.address}.udp"]
    assert targets.facts["addresses"][f"six.{dc2.domain}"] == ["::1"]  # type: ignore[attr-defined]
    assert ids["ports.tcp.::1.389"].facts["verdict"] == "closed"  # type: ignore[attr-defined]
