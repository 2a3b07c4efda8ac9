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
