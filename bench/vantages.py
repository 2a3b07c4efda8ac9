"""Benchmark: one preflight from three vantages at once against the same three runs one after another.

Whole processes, as a user waits for them (start-up included): ``adprep preflight`` against the
routed lab's DC (dc4, 198.18.0.2) from this host and from the two "AD Connector subnet" namespaces
through their real OpenSSH servers, plus one filtered DC (``--dc 198.18.0.9``: a route into the
lab's dummy interface, where packets vanish, so every vantage waits out the timeout; nothing leaves
the machine). subnet-b's security group also drops TCP 389 and UDP 88 to dc4. Goals (issue 11): the
combined run at most 0.5 × the three runs' sum, and at most one probe timeout + 1.5 s beyond the
SSH set-up. The same without the filtered DC is printed too. Prints, never asserts.

    scripts/lab up net && .venv/bin/python -m bench.vantages [--timeout 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADPREP = str(REPO / ".venv" / "bin" / "adprep")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    done = subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 1, 3):
        sys.exit(f"bench: {' '.join(argv[:3])} … failed with {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed, done.returncode


def stats(values: list[float]) -> str:
    return f"min {min(values):.2f} s, median {statistics.median(values):.2f} s"


FILTERED_DC = "198.18.0.9"


@contextlib.contextmanager
def filtered_dc(interface: str) -> Iterator[str]:
    """A DC address whose packets vanish: routed into the lab's dummy interface (removed after)."""
    subprocess.run(["ip", "route", "replace", f"{FILTERED_DC}/32", "dev", interface], check=True)
    try:
        yield FILTERED_DC
    finally:
        subprocess.run(["ip", "route", "del", f"{FILTERED_DC}/32", "dev", interface], check=False)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    facts = json.loads((REPO / ".lab" / "lab.json").read_text())
    net, dc = facts.get("net"), facts["dcs"].get("dc4")
    if not net or not dc:
        sys.exit("bench: the routed lab is not running (scripts/lab up net)")
    env = dict(os.environ, ADPREP_PASSWORD=Path(dc["admin_password_file"]).read_text().strip())
    base = [ADPREP, "preflight", "--domain", dc["domain"], "--dns-ip", net["dc"], "--user", "Administrator",
            "--ca-file", dc["tls_ca"], "--timeout", str(args.timeout), "--format", "json",
            "--ssh-config", net["ssh_config"]]  # fmt: skip
    vantages = ["local", "subnet-a=ssh://subnet-a", "subnet-b=ssh://subnet-b"]
    ssh = ["ssh", "-F", net["ssh_config"], "subnet-a", "true"]

    def scenario(title: str, extra: list[str]) -> None:
        setup, combined, separate = [], [], []
        for _ in range(args.runs):
            setup.append(timed(ssh, env)[0])
            combined.append(timed([*base, *extra, *(a for v in vantages for a in ("--via", v))], env)[0])
            separate.append(sum(timed([*base, *extra, "--via", v], env)[0] for v in vantages))
        med_c, med_s, med_ssh = (statistics.median(x) for x in (combined, separate, setup))
        ratio = med_c / med_s
        beyond = med_c - med_ssh
        budget = args.timeout + 1.5
        print(f"== {title} ({args.runs} runs, timeout {args.timeout:g} s)")
        print(f"SSH set-up (ssh subnet-a true):           {stats(setup)}")
        print(f"three vantages in one run:                {stats(combined)}")
        print(f"the same three runs one after another:    {stats(separate)}")
        print(f"combined / sum = {ratio:.2f} (goal <= 0.5: {'met' if ratio <= 0.5 else 'MISSED'})")
        print(f"combined - SSH set-up = {beyond:.2f} s (goal <= timeout + 1.5 = {budget:.1f} s: "
              f"{'met' if beyond <= budget else 'MISSED'})")  # fmt: skip

    with filtered_dc(net.get("interface", "adplab0")) as filtered:
        scenario(f"one filtered DC ({filtered}) and subnet-b's dropped path", ["--dc", filtered])
    scenario("subnet-b's dropped path only", [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
