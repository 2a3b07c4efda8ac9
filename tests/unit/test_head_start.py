"""The head start of a plain TCP sweep: connects begun before the command line loads, taken over by
the sweep with the verdicts and deadlines it would have reached itself, and read from the command
line exactly as click reads it, or not at all. Loopback sockets only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adprep.cli import head_start as hs
from adprep.transport.early_tcp import EarlyConnects
from adprep.transport.tcp_sweep import sweep_tcp
from tests import loopback
from tests.loopback import tcp_listener, unused_port

ADPREP = Path(sys.executable).parent / "adprep"


@pytest.fixture
def silent_port() -> Iterator[int]:
    with loopback.silent_port() as port:
        yield port


# -- the sweep takes over early connects -------------------------------------------------------------


def test_a_sweep_takes_over_early_connects_with_their_answers(silent_port: int) -> None:
    with tcp_listener() as open_port:
        dead = unused_port()
        pairs = [("127.0.0.1", open_port), ("127.0.0.1", dead), ("127.0.0.1", silent_port)]
        # Given connects begun early, and the loading of adprep (a pause) before the sweep
        early = EarlyConnects(0.8)
        began = time.monotonic()
        early.start(pairs)
        time.sleep(0.3)
        # When the sweep runs with them
        probes = sweep_tcp(pairs, timeout=0.8, concurrency=8, early=early)
        ended = time.monotonic()
    # Then the verdicts are the kernel's, each probe was taken over (none left), the answers kept
    # their own time (not the pause), and the silent port timed out from its own early start
    assert [p.outcome for p in probes] == ["open", "refused", "timeout"]
    assert len(early) == 0
    assert probes[0].elapsed_ms < 200 and probes[1].elapsed_ms < 200, probes
    assert probes[0].source == "127.0.0.1" and probes[1].errno_name == "ECONNREFUSED"
    assert 780 <= probes[2].elapsed_ms < 1100, probes
    assert ended - began < 0.8 + 0.3  # one timeout from the early start, not from the sweep's


def test_a_sweep_with_another_timeout_starts_its_own_connects() -> None:
    dead = unused_port()
    early = EarlyConnects(2.0)
    early.start([("127.0.0.1", dead)])
    probes = sweep_tcp([("127.0.0.1", dead)], timeout=1.0, concurrency=8, early=early)
    assert [p.outcome for p in probes] == ["refused"]
    # the early connect was not taken: close() ends it
    assert len(early) == 1
    early.close()
    assert len(early) == 0


def test_pairs_no_sweep_takes_are_closed(silent_port: int) -> None:
    early = EarlyConnects(2.0)
    early.start([("127.0.0.1", silent_port)])
    (probe,) = early._probes.values()
    assert probe.sock is not None
    early.close()
    assert probe.sock.fileno() == -1


# -- the command line, read as click reads it -------------------------------------------------------


class _Planned(BaseException):
    """Raised instead of probing: what the command would have run."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings


def _click_plan(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    """(exit status, the ports settings click's parsing led to, or None) for ``argv``, nothing sent."""
    import adprep.jobs.ports as job
    from adprep.cli.main import main

    def planned(settings: Any, **_: Any) -> Any:
        raise _Planned(settings)

    monkeypatch.setattr(job, "run_ports", planned)
    try:
        return main(argv), None
    except _Planned as p:
        return 0, p.settings


TARGETS = [
    "127.0.0.1",
    "127.0.0.2",
    "10.1.2.3",
    "127.1",
    "010.0.0.1",
    "::1",
    "dc1.example.com",
    "1.2.3.4,5.6.7.8",
]
VALUES = {
    "--tcp": ["53,88", "389", "53,88,53", "0", "65536", "1-3", "53,,88", " 53", "x"],
    "--timeout": ["2", "0.5", "0", "60", "61", "-1", "nan", "inf", "1e1", "1_0", " 2"],
    "--concurrency": ["10", "1", "4096", "5000", "0", "+5", "2.5"],
    "--format": ["json", "table", "openmetrics", "xml", "JSON"],
}
OTHERS = ["--no-rpc", "--no-rpc=1", "--udp", "53", "--profile", "legacy-2016", "-o", "out.json", "--vantage",
          "lab", "--via", "local", "--debug", "-q", "--", "-h", "--redact", "--domain"]  # fmt: skip


def _option(name: str) -> st.SearchStrategy[list[str]]:
    value = st.sampled_from(VALUES[name])
    return st.one_of(value.map(lambda v: [name, v]), value.map(lambda v: [f"{name}={v}"]), st.just([name]))


parts = st.one_of(
    st.sampled_from(TARGETS).map(lambda t: [t]),
    *(_option(name) for name in VALUES),
    *(_option(name) for name in VALUES),  # options twice as often as another token
    st.sampled_from(OTHERS).map(lambda t: [t]),
)
command_lines = st.builds(
    lambda front, shuffled: [*front, "ports", *[token for part in shuffled for token in part]],
    st.lists(st.sampled_from(["--debug", "-q", "--quiet"]), max_size=2),
    st.lists(parts, max_size=4).flatmap(
        lambda rest: st.permutations([["127.0.0.1"], ["--tcp", "53,88"], *rest])
    ),
)


@settings(max_examples=400)
@given(argv=command_lines)
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout", "61"])
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout=60"])
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout", "1_0"])
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout", "nan"])
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--concurrency", "4096"])
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--concurrency", "5000"])
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--concurrency", "+5"])
@example(argv=["ports", "127.0.0.1", "--tcp", "65535,1"])
@example(argv=["ports", "127.0.0.1", "--tcp", "65536"])
@example(argv=["ports", "127.0.0.1", "--tcp", "0"])
@example(argv=["ports", "127.1", "--tcp", "53"])
@example(
    argv=[
        "-q",
        "--debug",
        "ports",
        "127.0.0.1",
        "127.0.0.1",
        "--tcp=53,53",
        "--format=openmetrics",
        "--no-rpc",
    ]
)
def test_a_head_start_reads_exactly_what_click_reads(argv: list[str]) -> None:
    # Given any command line; when the head start reads a plan from it
    plan = hs.read_plan(argv, {})
    if plan is None:
        return
    # Then click reads the same one from it: no usage error, the same pairs, timeout, concurrency
    with pytest.MonkeyPatch.context() as mp:
        status, settings = _click_plan(argv, mp)
    assert status == 0 and settings is not None, (argv, status)
    targets, ports, timeout, concurrency = plan
    assert settings.targets == tuple(targets) and settings.tcp == tuple(ports), argv
    assert not settings.udp and not settings.icmp and not settings.vantages, argv
    assert settings.timeout == timeout and settings.concurrency == concurrency, argv


def test_a_plain_sweep_is_read() -> None:
    argv = ["-q", "ports", "10.0.0.10", "10.0.0.11", "--tcp", "53,88,53", "--timeout=1.5", "--no-rpc"]
    assert hs.read_plan([*argv, "--format", "json"], {}) == (["10.0.0.10", "10.0.0.11"], [53, 88], 1.5, 256)


@pytest.mark.parametrize(
    "argv",
    [
        ["ports", "10.0.0.10"],  # the profile: UDP and ICMP too, the event loop's path
        ["ports", "dc1.example.com", "--tcp", "53"],  # a name: DNS first
        ["ports", "10.0.0.10", "--tcp", "53", "-o", "out.json"],  # click checks the file
        ["ports", "10.0.0.10", "--tcp", "53", "--via", "local"],
        ["ports", "10.0.0.10", "--tcp", "53", "--timeout", "2", "--timeout", "3"],
        ["preflight", "10.0.0.10", "--tcp", "53"],
    ],
)
def test_anything_else_gets_no_head_start(argv: list[str]) -> None:
    assert hs.read_plan(argv, {}) is None


def test_a_config_file_gets_no_head_start() -> None:
    assert hs.read_plan(["ports", "10.0.0.10", "--tcp", "53"], {"ADPREP_CONFIG": "adprep.toml"}) is None


def test_more_pairs_than_the_concurrency_get_no_head_start() -> None:
    argv = ["ports", "127.0.0.1", "--tcp", "1-3".replace("1-3", "1,2,3"), "--concurrency", "2"]
    assert hs.read_plan(argv, {}) is not None
    assert hs.head_start(argv, {}) is None


def test_the_formats_are_clicks() -> None:
    import click

    from adprep.cli.main import cli

    ports = cli.get_command(click.Context(cli), "ports")
    assert ports is not None
    (option,) = [p for p in ports.params if p.name == "fmt"]
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == hs.FORMATS


# -- the program ---------------------------------------------------------------------------------------


def test_the_program_takes_its_head_start(silent_port: int) -> None:
    # Given an open, a refused and a silent port; when the installed program sweeps them
    with tcp_listener() as open_port:
        dead = unused_port()
        began = time.monotonic()
        proc = subprocess.run(
            [str(ADPREP), "ports", "127.0.0.1", "--tcp", f"{open_port},{dead},{silent_port}", "--timeout", "1",
             "--no-rpc", "--format", "json"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        took = time.monotonic() - began
    # Then the report is the sweep's, and the whole run costs one timeout and the start-up
    assert proc.returncode == 1, proc.stderr
    verdicts = {r["facts"]["port"]: r["facts"]["verdict"] for r in json.loads(proc.stdout)["results"]}
    assert verdicts == {open_port: "open", dead: "closed", silent_port: "filtered"}, verdicts
    assert took < 1.0 + 1.5, took


def test_a_command_line_click_refuses_sends_nothing() -> None:
    # Given a listening port, when a command line with a bad --format names it
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        proc = subprocess.run(
            [str(ADPREP), "ports", "127.0.0.1", "--tcp", str(port), "--format", "xml"],
            capture_output=True, text=True, timeout=30, check=False, env={**os.environ, "ADPREP_CONFIG": ""},
        )  # fmt: skip
        # Then exit 2, and no connection reached the port
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()


def test_ctrl_c_before_the_command_line_loads_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a Ctrl-C while the head start runs (before click, which handles it later, has loaded)
    from adprep.cli import launch

    def interrupted(argv: object, environ: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(hs, "head_start", interrupted)
    monkeypatch.setattr(sys, "argv", ["adprep", "ports", "127.0.0.1", "--tcp", "9"])
    # Then the program says so in one line and exits 130, no traceback
    assert launch.main() == 130
    assert capsys.readouterr().err == "adprep: interrupted.\n"
