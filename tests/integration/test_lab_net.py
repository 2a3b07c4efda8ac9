"""The routed lab is what its facts claim (scripts/lab up net): dc4 and a FreeRADIUS on 198.18.0.0/15
addresses, two "AD Connector subnets" (network namespaces) behind real OpenSSH servers, a security group
in subnet-b, and ssh aliases that fail in named ways. Every probe here runs on the far side of an SSH
relay, the way adprep's relay will."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from tests.conftest import LabNet

pytestmark = pytest.mark.lab

# Runs on the relay (python3 -): TCP/UDP reachability of the DC and the RADIUS server, as JSON.
PROBE = r"""
import json, os, socket, sys
from concurrent.futures import ThreadPoolExecutor
dc, radius, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
out = {}
def tcp(port):
    try:
        with socket.create_connection((dc, port), timeout) as s:
            out["source"] = s.getsockname()[0]
            return "open"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return type(e).__name__
def udp(addr, port, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, (addr, port))
        return s.recv(4096).hex()
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return type(e).__name__
dns = os.urandom(2) + bytes.fromhex("01000001000000000000")
dns += b"".join(bytes([len(p)]) + p.encode() for p in "_ldap._tcp.lab.example".split(".")) + b"\0\0\x21\0\1"
checks = {
    "tcp/389": lambda: tcp(389),
    "tcp/53": lambda: tcp(53),
    "udp/53": lambda: udp(dc, 53, dns),
    "udp/88": lambda: udp(dc, 88, b"\0" * 8),  # not Kerberos: the KDC need not answer, but sendto works
    "radius": lambda: udp(radius, 1812, bytes.fromhex(sys.argv[4])),
}
with ThreadPoolExecutor(len(checks)) as pool:  # side by side: the test waits for one timeout, not five
    futures = {name: pool.submit(fn) for name, fn in checks.items()}
out.update({name: f.result() for name, f in futures.items()})
print(json.dumps(out))
"""


def access_request(ident: int) -> bytes:
    """An Access-Request with only a User-Name: a registered client gets an Access-Reject back."""
    name = b"adprep-lab-test"
    attrs = bytes([1, len(name) + 2]) + name
    return bytes([1, ident]) + (20 + len(attrs)).to_bytes(2, "big") + os.urandom(16) + attrs


def ssh(lab: LabNet, alias: str, *command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*lab.ssh(alias), *command], input=stdin, text=True, capture_output=True, timeout=30, check=False
    )


def probe(lab: LabNet, subnet: str, timeout: float = 1.0) -> dict[str, str]:
    args = [lab.dc, lab.radius_address, str(timeout), access_request(7).hex()]
    res = ssh(lab, lab.subnets[subnet].ssh, "python3", "-", *args, stdin=PROBE)
    assert res.returncode == 0, res.stderr
    out: dict[str, str] = json.loads(res.stdout)
    return out


def test_subnet_a_runs_python3_and_reaches_the_dc_from_its_own_address(lab_net: LabNet) -> None:
    a = lab_net.subnets["subnet-a"]
    got = probe(lab_net, "subnet-a")
    assert got["source"] == a.address == "198.18.1.10"
    assert got["tcp/389"] == "open" and got["tcp/53"] == "open"
    assert len(got["udp/53"]) > 24  # a DNS answer (hex), not "timeout" or an error name
    assert a.radius_client and got["radius"][:4] == "0307"  # Access-Reject to our identifier 7


def test_subnet_b_security_group_drops_ldap_and_kerberos_udp_only(lab_net: LabNet) -> None:
    b = lab_net.subnets["subnet-b"]
    assert set(b.filtered) == {"tcp/389", "udp/88"}
    got = probe(lab_net, "subnet-b")
    assert got["source"] == b.address == "198.18.2.10"
    assert got["tcp/389"] == "timeout"  # filtered, not refused
    assert got["tcp/53"] == "open" and got["udp/53"] != "timeout"
    if b.filter_hook == "egress":
        assert got["udp/88"] == "timeout"  # a silent drop, as from an AWS security group
    # Not a registered RADIUS client: FreeRADIUS ignores the request.
    assert not b.radius_client and got["radius"] == "timeout"


def test_routed_radius_answers_the_admin_host(lab_net: LabNet) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2.0)
        s.sendto(access_request(9), (lab_net.radius_address, lab_net.radius_port))
        reply = s.recv(4096)
    assert reply[:2] == bytes([3, 9])


def test_dc4_dns_names_itself_on_the_routed_address(lab_net: LabNet) -> None:
    res = ssh(
        lab_net,
        "subnet-a",
        f"dig +short +time=2 +tries=1 @{lab_net.dc} SRV _ldap._tcp.lab.example;"
        f" dig +short +time=2 +tries=1 @{lab_net.dc} A {lab_net.dc_fqdn}",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["0", "100", "389", f"{lab_net.dc_fqdn}.", lab_net.dc]


def test_nopython_alias_has_a_shell_but_no_python3(lab_net: LabNet) -> None:
    alias = lab_net.aliases["nopython"]
    res = ssh(lab_net, alias, "python3", "-c", "'print(1)'")
    assert res.returncode == 127 and "python3: not found" in res.stderr
    res = ssh(lab_net, alias, "command -v cat; command -v python3 || echo none")
    assert res.returncode == 0 and res.stdout.splitlines()[-1] == "none"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("badauth", "Permission denied (publickey)"),
        ("unknownkey", "Host key verification failed."),
        ("changedkey", "REMOTE HOST IDENTIFICATION HAS CHANGED"),
        ("closed", "Connection refused"),
    ],
)
def test_failing_alias(lab_net: LabNet, kind: str, message: str) -> None:
    res = ssh(lab_net, lab_net.aliases[kind], "python3", "-c", "'print(1)'")
    assert res.returncode == 255 and message in res.stderr
    assert res.stdout == ""
