"""The event-loop-free TCP sweep: open, refused, timeout and error, each probe's own deadline, the
concurrency cap, and the same verdicts as the asyncio probe. Loopback sockets only, fast."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from adprep.transport.tcp import probe_tcp
from adprep.transport.tcp_sweep import sweep_tcp
from tests import loopback


@pytest.fixture
def listener() -> Iterator[int]:
    with loopback.tcp_listener() as port:
        yield port


@pytest.fixture
def dead_port() -> int:
    return loopback.unused_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    with loopback.silent_port() as port:
        yield port


def test_open_refused_and_order(listener: int, dead_port: int) -> None:
    # Given a listening port and a dead one, when both are swept (twice, interleaved)
    pairs = [("127.0.0.1", listener), ("127.0.0.1", dead_port), ("127.0.0.1", listener)]
    probes = sweep_tcp(pairs, timeout=2.0, concurrency=8)
    # Then one probe per pair, in order, with the kernel's answer
    assert [(p.port, p.outcome) for p in probes] == [
        (listener, "open"),
        (dead_port, "refused"),
        (listener, "open"),
    ]
    assert probes[0].source == "127.0.0.1" and probes[0].errno_name is None
    assert probes[1].errno_name == "ECONNREFUSED" and probes[1].source is None
    assert all(p.elapsed_ms < 1000 for p in probes)


def test_silence_costs_one_timeout_from_each_probes_own_start(silent_port: int, dead_port: int) -> None:
    # Given ports that never answer, when swept with room for all of them at once
    started = time.monotonic()
    probes = sweep_tcp(
        [("127.0.0.1", silent_port)] * 3 + [("127.0.0.1", dead_port)], timeout=0.3, concurrency=64
    )
    elapsed = time.monotonic() - started
    # Then each is a timeout after about the timeout, and the sweep costs one timeout, not three
    assert [p.outcome for p in probes] == ["timeout", "timeout", "timeout", "refused"]
    assert all(290 <= p.elapsed_ms < 600 for p in probes[:3])
    assert elapsed < 0.3 * 2


def test_concurrency_cap_runs_waves(silent_port: int) -> None:
    # Given room for one probe at a time, when three silent ports are swept
    started = time.monotonic()
    probes = sweep_tcp([("127.0.0.1", silent_port)] * 3, timeout=0.15, concurrency=1)
    # Then they run one after another: three timeouts in all, each measured from its own SYN
    assert time.monotonic() - started >= 0.15 * 3 * 0.95
    assert all(p.outcome == "timeout" and p.elapsed_ms < 400 for p in probes)


def test_a_probe_that_cannot_start_is_an_error_not_an_exception(listener: int) -> None:
    # Given a bind address this host does not have, when probing from it
    (probe,) = sweep_tcp([("127.0.0.1", listener)], timeout=0.5, concurrency=1, bind="192.0.2.77")
    # Then the probe is an error with the errno's name
    assert probe.outcome == "error" and probe.errno_name == "EADDRNOTAVAIL"


def test_progress_is_called_once_per_probe(listener: int, dead_port: int) -> None:
    ticks: list[None] = []
    sweep_tcp([("127.0.0.1", listener), ("127.0.0.1", dead_port)], timeout=1.0, concurrency=1,
              on_done=lambda: ticks.append(None))  # fmt: skip
    assert len(ticks) == 2


def test_same_verdicts_as_the_asyncio_probe(listener: int, dead_port: int, silent_port: int) -> None:
    # Given the three kinds of port, when probed by the sweep and by probe_tcp
    pairs = [
        ("127.0.0.1", listener),
        ("127.0.0.1", dead_port),
        ("127.0.0.1", silent_port),
        ("::1", dead_port),
    ]

    async def one_by_one() -> list[str]:
        return [(await probe_tcp(a, p, 0.2)).outcome for a, p in pairs]

    # Then the outcomes agree
    assert [p.outcome for p in sweep_tcp(pairs, timeout=0.2, concurrency=4)] == asyncio.run(one_by_one())


def test_the_lean_path_reports_what_the_event_loop_path_reports(listener: int, dead_port: int) -> None:
    # Given a TCP-only run from this host, when it takes the lean path and the event-loop path
    from adprep.jobs import ports as job

    settings = job.ports_settings(targets=["127.0.0.1", "::1"], profile=None, tcp=[listener, dead_port], udp=None,
                                  timeout=1.0, concurrency=8, vantage="here")  # fmt: skip
    lean = job.run_ports(settings)
    results, _ = asyncio.run(job._ports(settings, None))

    # Then the same checks, verdicts and sentences (timings aside)
    def seen(rs: object) -> list[tuple[str, str, str, object]]:
        return [(r.id, r.status.value, r.title, r.facts["verdict"]) for r in rs]  # type: ignore[attr-defined]

    assert seen(lean.results) == seen(results)
    assert lean.vantage.label == "here" and lean.vantage.source_addresses["127.0.0.1"] == "127.0.0.1"
