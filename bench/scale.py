"""Benchmark: 100 and 1,000 DC addresses x the workspaces-dc profile, as whole processes.

The lab DCs (dc1, dc2), dead loopback addresses, and 10 addresses dropped inside a namespace of our
own, so the sweep costs at least one timeout. Prints wall time (min and median of --runs) and peak
RSS of each size, the ratio of the peaks (goal: 1,000 addresses at most 1.5 x the memory of 100),
and the budget 2 x timeout + 1 s for 1,000 addresses. Prints, never asserts.

    .venv/bin/python -m bench.scale [--timeout 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.installed import installed_adprep
from bench.netns import filtered_peers
from bench.ports_vs_nmap import lab_dcs

REPO = Path(__file__).resolve().parent.parent


def run(program: str, targets: list[str], timeout: float) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``adprep ports`` process."""
    argv = [program, "ports", *targets, "--profile", "workspaces-dc",
            "--domain", "lab.example", "--timeout", f"{timeout:g}", "--concurrency", "4096", "--format", "json"]  # fmt: skip
    # Peak RSS of this child alone: wait4's rusage, not the running maximum of all children.
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = 0
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    program = installed_adprep()
    print(f"open-files limit: {resource.getrlimit(resource.RLIMIT_NOFILE)}")
    live = lab_dcs()
    peaks: dict[int, float] = {}
    walls: dict[int, float] = {}
    with filtered_peers(10) as dropped:
        for size in (100, 1000):
            dead = [f"127.1.{i // 240}.{10 + i % 240}" for i in range(size - len(live) - 10)]
            targets = [*live, *dead, *dropped]
            samples = [run(program, targets, args.timeout) for _ in range(args.runs)]
            times = [t for t, _ in samples]
            peaks[size] = max(m for _, m in samples)
            walls[size] = statistics.median(times)
            print(f"{size} addresses x workspaces-dc: wall min {min(times):.2f} s, median {walls[size]:.2f} s; "
                  f"peak RSS {peaks[size]:.0f} MB")  # fmt: skip
    budget = 2 * args.timeout + 1
    ratio = peaks[1000] / peaks[100]
    print(f"1,000 addresses: median {walls[1000]:.2f} s, budget 2 x timeout + 1 = {budget:.1f} s: "
          f"{'met' if walls[1000] <= budget else 'MISSED'}")  # fmt: skip
    print(f"peak RSS 1,000 / 100 = {ratio:.2f} (goal <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
