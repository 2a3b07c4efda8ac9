"""Benchmark: the whole preflight against the lab, healthy and with one DC filtered.

Goals (issue 5): healthy lab under 3 s of wall time; with one DC filtered (an extra --dc inside a
namespace of our own that drops everything) under one probe timeout + 1 s. Prints, never asserts.

    .venv/bin/python -m bench.preflight_speed [--timeout 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from adprep.jobs.preflight import preflight_settings, run_preflight
from adprep.model import Status
from adprep.secret import Secret
from bench.netns import filtered_peer

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    dc = json.loads((REPO / ".lab" / "lab.json").read_text())["dcs"]["dc1"]
    password = Secret(Path(dc["admin_password_file"]).read_text().strip(), "lab")

    def once(extra: list[str]) -> tuple[float, int, int]:
        settings = preflight_settings(
            domain=dc["domain"], dns_ips=[dc["address"]], username="Administrator", password=password,
            extra_dcs=extra, ca_file=dc["tls_ca"], timeout=args.timeout,
        )  # fmt: skip
        t0 = time.perf_counter()
        report = run_preflight(settings)
        elapsed = time.perf_counter() - t0
        failed = sum(r.status is Status.FAIL for r in report.results)
        return elapsed, len(report.results), failed

    healthy = [once([]) for _ in range(args.runs)]
    med = statistics.median(t for t, _, _ in healthy)
    print(f"healthy lab: median {med:.2f} s over {args.runs} runs ({healthy[0][1]} checks, {healthy[0][2]} failed); "
          f"goal < 3 s: {'met' if med < 3 else 'MISSED'}")  # fmt: skip
    with filtered_peer() as filtered:
        runs = [once([filtered]) for _ in range(args.runs)]
    med = statistics.median(t for t, _, _ in runs)
    budget = args.timeout + 1
    print(f"one DC filtered ({filtered}): median {med:.2f} s ({runs[0][1]} checks, {runs[0][2]} failed); "
          f"goal < timeout + 1 = {budget:.1f} s: {'met' if med < budget else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
