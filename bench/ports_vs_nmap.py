"""Benchmark: adprep's port sweep against nmap on the same targets, ports and timeouts.

First, whole processes as a user waits for them (start-up included; adprep installed from its wheel
as a user's pip does, see :mod:`bench.installed`), several runs, min and median, the ratio nmap/adprep (1.0 or more: adprep at
least as fast): 100 addresses (the lab DCs, dead
loopback addresses, 10 addresses dropped inside a namespace of our own) x the 8 legacy-2016 TCP
ports, then the refused-only sweep (90 addresses, nothing dropped), where the interpreter's own
start-up is most of nmap's whole time.

Then in-process timings: the lab DCs (dc1, dc2), 50 (or --dead N) loopback addresses with nothing
listening, and one filtered address; where the verdicts differ; and the budget: 100 DC addresses x
the legacy-2016 profile within 2 x timeout + 1 s. Run as root after ``scripts/lab up dc1 dc2``:

    .venv/bin/python -m bench.ports_vs_nmap [--timeout 2] [--dead 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from adprep import requirements as req
from adprep.jobs.ports import ports_settings, run_ports
from bench.installed import installed_adprep
from bench.netns import filtered_peer, filtered_peers

REPO = Path(__file__).resolve().parent.parent


def lab_dcs() -> list[str]:
    facts = json.loads((REPO / ".lab" / "lab.json").read_text())
    return [d["address"] for d in facts["dcs"].values() if d["address"].startswith("127.")]


def nmap_argv(kind: str, targets: list[str], ports: tuple[int, ...], timeout: float) -> list[str]:
    ms = int(timeout * 1000)
    return [
        "nmap", kind, "-Pn", "-n", "-oG", "-", "--max-retries", "0" if kind == "-sT" else "1",
        "--initial-rtt-timeout", f"{ms}ms", "--max-rtt-timeout", f"{ms}ms", "--min-rtt-timeout", f"{ms}ms",
        "--min-parallelism", "256", "-p", ",".join(map(str, ports)), *targets,
    ]  # fmt: skip


def adprep_argv(program: str, targets: list[str], ports: tuple[int, ...], timeout: float) -> list[str]:
    return [program, "ports", *targets, "--tcp", ",".join(map(str, ports)),
            "--timeout", f"{timeout:g}", "--concurrency", "1024", "--no-rpc", "--format", "json"]  # fmt: skip


def process_time(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def process_sweep(
    program: str, title: str, targets: list[str], ports: tuple[int, ...], timeout: float, runs: int
) -> None:
    """adprep (``program``) and nmap as whole processes, alternating, ``runs`` times each."""
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(process_time(adprep_argv(program, targets, ports, timeout)))
        theirs.append(process_time(nmap_argv("-sT", targets, ports, timeout)))
    a_min, a_med = min(ours), statistics.median(ours)
    n_min, n_med = min(theirs), statistics.median(theirs)
    print(f"{title}: adprep min {a_min:.3f} s, median {a_med:.3f} s; nmap -sT min {n_min:.3f} s, median {n_med:.3f} s; "
          f"nmap/adprep {n_min / a_min:.3f} (min), {n_med / a_med:.3f} (median)")  # fmt: skip


def nmap(
    kind: str, targets: list[str], ports: tuple[int, ...], timeout: float
) -> tuple[float, dict[tuple[str, int], str]]:
    cmd = nmap_argv(kind, targets, ports, timeout)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - t0
    verdicts: dict[tuple[str, int], str] = {}
    for line in out.splitlines():
        m = re.match(r"Host: (\S+) .*Ports: (.*)", line)
        if not m:
            continue
        for entry in m.group(2).split(", "):
            port, state = entry.split("/")[:2]
            verdicts[(m.group(1), int(port))] = state
    return elapsed, verdicts


def adprep(
    targets: list[str], tcp: tuple[int, ...], udp: tuple[int, ...], timeout: float
) -> tuple[float, dict[tuple[str, str, int], str]]:
    settings = ports_settings(targets=targets, profile=None, tcp=tcp or None, udp=udp or None, timeout=timeout,
                              concurrency=1024, vantage="bench", domain="lab.example", rpc=False)  # fmt: skip
    t0 = time.perf_counter()
    report = run_ports(settings)
    elapsed = time.perf_counter() - t0
    out: dict[tuple[str, str, int], str] = {}
    for r in report.results:
        _, proto, rest = r.id.split(".", 2)
        addr, port = rest.rsplit(".", 1)
        out[(proto, addr, int(port))] = str(r.facts["verdict"])
    return elapsed, out


def compare(
    proto: str, ours: dict[tuple[str, str, int], str], theirs: dict[tuple[str, int], str], *, show: int
) -> int:
    """Print the first ``show`` verdicts that differ between adprep and nmap; return how many differ."""
    diff = 0
    for (_proto, addr, port), verdict in sorted(ours.items()):
        other = theirs.get((addr, port), "?")
        if verdict != other:
            diff += 1
            if diff <= show:
                print(f"  differ: {proto} {addr}:{port} adprep={verdict} nmap={other}")
    return diff


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--dead", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    program = installed_adprep()
    dead = [f"127.0.2.{i}" for i in range(1, args.dead + 1)]
    tcp = req.PORT_PROFILES["legacy-2016"].tcp
    udp = req.PORT_PROFILES["adc-minimum"].udp
    live = lab_dcs()
    refused = [*live, *[f"127.0.4.{i}" for i in range(1, 91 - len(live))]]
    with filtered_peers(10) as dropped:
        process_sweep(program, f"processes, {len(refused) + len(dropped)} addresses ({len(dropped)} dropped) x {len(tcp)} TCP",
                      [*refused, *dropped], tcp, args.timeout, args.runs)  # fmt: skip
    process_sweep(program, f"processes, refused-only: {len(refused)} addresses x {len(tcp)} TCP", refused, tcp, args.timeout,
                  args.runs)  # fmt: skip
    with filtered_peer() as filtered:
        targets = [*lab_dcs(), *dead, filtered]
        print(f"targets: {len(targets)} ({len(lab_dcs())} lab DCs, {len(dead)} dead loopback, 1 filtered {filtered}); "
              f"timeout {args.timeout:g} s")  # fmt: skip

        a_tcp, v_tcp = adprep(targets, tcp, (), args.timeout)
        n_tcp, nv_tcp = nmap("-sT", targets, tcp, args.timeout)
        print(
            f"TCP {len(tcp)} ports: adprep {a_tcp:.2f} s, nmap -sT {n_tcp:.2f} s, ratio nmap/adprep {n_tcp / a_tcp:.1f}x"
        )
        print(f"  TCP verdicts that differ: {compare('tcp', v_tcp, nv_tcp, show=5)}")

        reachable = targets[:-1]
        a2, _ = adprep(reachable, tcp, (), args.timeout)
        n2, _ = nmap("-sT", reachable, tcp, args.timeout)
        print(
            f"TCP without the filtered address: adprep {a2:.2f} s, nmap -sT {n2:.2f} s, ratio nmap/adprep {n2 / a2:.1f}x"
        )

        a_udp, v_udp = adprep(targets, (), udp, args.timeout)
        n_udp, nv_udp = nmap("-sU", targets, udp, args.timeout)
        print(
            f"UDP {len(udp)} ports: adprep {a_udp:.2f} s, nmap -sU {n_udp:.2f} s, ratio nmap/adprep {n_udp / a_udp:.1f}x"
        )
        diff = compare("udp", v_udp, nv_udp, show=8)
        print(
            f"  UDP verdicts that differ: {diff} (nmap sends no Kerberos/CLDAP request, so it cannot tell open)"
        )

        live = lab_dcs()
        hundred = [*live, *[f"127.0.3.{i}" for i in range(1, 100 - len(live))], filtered]
        prof = req.PORT_PROFILES["legacy-2016"]
        settings = ports_settings(targets=hundred, profile="legacy-2016", tcp=None, udp=None, timeout=args.timeout,
                                  concurrency=2048, vantage="bench", domain="lab.example")  # fmt: skip
        t0 = time.perf_counter()
        report = run_ports(settings)
        full = time.perf_counter() - t0
        budget = 2 * args.timeout + 1
        print(f"full preflight, {len(hundred)} addresses x legacy-2016 ({len(prof.tcp)} TCP + {len(prof.udp)} UDP "
              f"+ RPC): {full:.2f} s for {len(report.results)} checks; budget 2 x timeout + 1 = {budget:.1f} s: "
              f"{'within' if full <= budget else 'OVER'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
