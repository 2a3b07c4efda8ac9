"""Bench: adprep's RADIUS probe of 10 servers (the lab FreeRADIUS + 9 silent ones) against radclient.

The silent servers are UDP sockets this script binds on 127.0.0.x:<lab port> and never answers (a
bare loopback address with no listener would send ICMP port unreachable at once, which is "closed",
not silence). Same work for each tool: one PAP Access-Request for 'fakeusername' with
Message-Authenticator to each server, timeout 1 s, 2 attempts. Prints wall times and ratios; asserts
nothing. Needs `scripts/lab up radius` and radclient (Debian freeradius-utils).

    .venv/bin/python bench/radius_probe.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from adprep.collect.radius import collect_radius
from adprep.secret import Secret
from adprep.transport.network import LocalNetwork

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 1
ATTEMPTS = 2  # adprep: retries=1; radclient: -r 2 (its count includes the first send)
SILENT = 9


def lab() -> tuple[str, int, str]:
    facts = json.loads((REPO / ".lab" / "lab.json").read_text())["radius"]
    return facts["address"], int(facts["port"]), Path(facts["secret_file"]).read_text().strip()


def silent_sockets(port: int, count: int) -> list[socket.socket]:
    """UDP sockets on 127.0.0.200+ that receive and never answer."""
    socks: list[socket.socket] = []
    for last in range(200, 255):
        if len(socks) == count:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((f"127.0.0.{last}", port))
        except OSError:
            s.close()
            continue
        socks.append(s)
    if len(socks) < count:
        sys.exit(f"could bind only {len(socks)} silent sockets on port {port}")
    return socks


def drain(socks: list[socket.socket]) -> int:
    """Datagrams the silent servers received since the last call: proof each tool did the same work."""
    count = 0
    for s in socks:
        s.setblocking(False)
        while True:
            try:
                s.recv(4096)
            except BlockingIOError:
                break
            count += 1
    return count


def run_adprep(servers: list[str], port: int, secret: str) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    facts = asyncio.run(
        collect_radius(
            LocalNetwork(),
            servers,
            port=port,
            protocol="PAP",
            secret=Secret(secret, "bench"),
            user="fakeusername",
            password=None,
            timeout=TIMEOUT_S,
            retries=ATTEMPTS - 1,
        )
    )
    return time.perf_counter() - t0, [p.exchange.outcome for p in facts.probes]


#: radclient reads the secret from a file (-S), so it stays out of argv like adprep's.
RADCLIENT = ("radclient", "-t", str(TIMEOUT_S), "-r", str(ATTEMPTS))
REQUEST = 'User-Name = "fakeusername"\nUser-Password = "x-random-pw"\nMessage-Authenticator = 0x00\n'


def run_radclient_each(servers: list[str], port: int, secret_file: str) -> float:
    """One radclient per server, in turn: how a shell loop (and AD Connector's failover) goes."""
    t0 = time.perf_counter()
    for server in servers:
        subprocess.run(
            [*RADCLIENT, "-q", "-S", secret_file, f"{server}:{port}", "auth"],
            input=REQUEST,
            text=True,
            capture_output=True,
            check=False,
        )
    return time.perf_counter() - t0


def run_radclient_parallel(servers: list[str], port: int, secret_file: str) -> tuple[float, str]:
    """One radclient, 10 packets in flight (-p), each sent to its server by Packet-Dst-IP-Address."""
    with tempfile.NamedTemporaryFile("w", suffix=".radclient") as f:
        f.write("\n".join(f"{REQUEST}Packet-Dst-IP-Address = {s}\n" for s in servers))
        f.flush()
        t0 = time.perf_counter()
        res = subprocess.run(
            [
                *RADCLIENT,
                "-p",
                str(len(servers)),
                "-f",
                f.name,
                "-S",
                secret_file,
                f"{servers[0]}:{port}",
                "auth",
            ],
            text=True,
            capture_output=True,
            check=False,
        )
        elapsed = time.perf_counter() - t0
    received = res.stdout.count("Received Access-")
    return elapsed, f"{received} repl{'y' if received == 1 else 'ies'}, exit {res.returncode}"


def main() -> None:
    if shutil.which("radclient") is None:
        sys.exit("radclient not found (apt-get install freeradius-utils)")
    address, port, secret = lab()
    socks = silent_sockets(port, SILENT)
    try:
        servers = [address] + [str(s.getsockname()[0]) for s in socks]
        worst = TIMEOUT_S * ATTEMPTS
        print(
            f"10 servers: {address} (lab FreeRADIUS) + {SILENT} silent; timeout {TIMEOUT_S} s x {ATTEMPTS} attempts"
        )
        print(f"one server's worst case: {worst} s; budget for all 10 (issue #8): {worst + 0.5} s")
        a, outcomes = run_adprep(servers, port, secret)
        summary = {o: outcomes.count(o) for o in dict.fromkeys(outcomes)}
        print(f"adprep probe (concurrent)       : {a:6.2f} s  {summary}, silent got {drain(socks)} datagrams")
        secret_file = str(REPO / ".lab" / "secrets" / "radius-secret")
        p, said = run_radclient_parallel(servers, port, secret_file)
        print(
            f"radclient -p 10, one invocation : {p:6.2f} s  ({said}, silent got {drain(socks)} datagrams)"
            f"  ratio {p / a:.2f}x"
        )
        s = run_radclient_each(servers, port, secret_file)
        print(
            f"radclient per server, in turn   : {s:6.2f} s  (silent got {drain(socks)} datagrams)  ratio {s / a:.2f}x"
        )
    finally:
        for sock in socks:
            sock.close()


if __name__ == "__main__":
    main()
