"""The head start of a plain TCP sweep: connects begun before the command line loads, taken over by
the sweep with the verdicts and deadlines it would have reached itself, and read from the command
line exactly as click reads it, or not at all. Loopback sockets only."""

from __future__ import annotations

import contextlib
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
from adprep.cli.plain import settings_for
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

    def __init__(self, app: Any, settings: Any, fmt: str, output: Any) -> None:
        self.app, self.settings, self.fmt, self.output = app, settings, fmt, output


def _click_plan(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, _Planned | None]:
    """(exit status, the settings, format and output click's parsing led to, or None) for ``argv``,
    nothing sent."""
    import adprep.cli.plain as plain
    from adprep.cli.main import main

    def planned(app: Any, settings: Any, *, fmt: str, output: Any) -> Any:
        raise _Planned(app, settings, fmt, output)

    monkeypatch.setattr(plain, "sweep_report", planned)
    try:
        return main(argv), None
    except _Planned as p:
        return 0, p


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
    st.just(["--no-rpc"]),  # the one flag the plain sweep reads: as often as an option
)
command_lines = st.builds(
    lambda front, shuffled: [*front, "ports", *[token for part in shuffled for token in part]],
    st.lists(st.sampled_from(["--debug", "-q", "--quiet"]), max_size=2),
    st.lists(parts, max_size=4).flatmap(
        lambda rest: st.permutations([["127.0.0.1"], ["--tcp", "53,88"], *rest])
    ),
)


environments = st.sampled_from([{}, {"ADPREP_VANTAGE": "aws-adc-subnet-a"}, {"ADPREP_VANTAGE": ""}])


@settings(max_examples=1000)
@given(argv=command_lines, environ=environments)
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout", "61"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout=60"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout", "1_0"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--timeout", "nan"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--concurrency", "4096"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--concurrency", "5000"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "53", "--concurrency", "+5"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "65535,1"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "65536"], environ={})
@example(argv=["ports", "127.0.0.1", "--tcp", "0"], environ={})
@example(argv=["ports", "127.1", "--tcp", "53"], environ={})
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
    ],
    environ={"ADPREP_VANTAGE": "aws-adc-subnet-a"},
)
def test_a_head_start_reads_exactly_what_click_reads(argv: list[str], environ: dict[str, str]) -> None:
    # Given any command line (and environment); when the head start reads a plan from it
    plan = hs.read_plan(argv, environ)
    if plan is None:
        return
    # Then click reads the same from it: no usage error, and the very settings the plain sweep
    # (adprep.cli.plain, which runs such a command line without click) reaches
    with pytest.MonkeyPatch.context() as mp:
        for name in ("ADPREP_VANTAGE", "ADPREP_CONFIG"):
            mp.delenv(name, raising=False)
        for name, value in environ.items():
            mp.setenv(name, value)
        status, planned = _click_plan(argv, mp)
    assert status == 0 and planned is not None, (argv, status)
    settings = planned.settings
    assert settings == settings_for(plan), argv
    assert settings.targets == tuple(plan.targets) and settings.tcp == tuple(plan.ports), argv
    assert not settings.udp and not settings.icmp and not settings.vantages, argv
    assert (planned.fmt, planned.output) == (plan.fmt, None), argv
    assert (planned.app.quiet, planned.app.debug) == (plan.quiet, False), argv


def test_a_plain_sweep_is_read() -> None:
    argv = ["ports", "10.0.0.10", "10.0.0.11", "--tcp", "53,88,53", "--timeout=1.5", "--no-rpc"]
    plan = hs.read_plan([*argv, "--format", "json"], {"ADPREP_VANTAGE": "lab"})
    assert plan is not None
    assert (plan.targets, plan.ports, plan.timeout, plan.concurrency) == (
        ["10.0.0.10", "10.0.0.11"],
        [53, 88],
        1.5,
        256,
    )
    assert (plan.fmt, plan.rpc, plan.vantage, plan.quiet) == ("json", False, "lab", False)
    quiet = hs.read_plan(["-q", *argv], {})
    assert quiet is not None and quiet.quiet and quiet.fmt == "table" and quiet.vantage is None


@pytest.mark.parametrize(
    "argv",
    [
        ["ports", "10.0.0.10"],  # the profile: UDP and ICMP too, the event loop's path
        ["ports", "dc1.example.com", "--tcp", "53"],  # a name: DNS first
        ["ports", "10.0.0.10", "--tcp", "53", "-o", "out.json"],  # click checks the file
        ["ports", "10.0.0.10", "--tcp", "53", "--via", "local"],
        ["ports", "10.0.0.10", "--tcp", "53", "--timeout", "2", "--timeout", "3"],
        ["preflight", "10.0.0.10", "--tcp", "53"],
        ["--debug", "ports", "10.0.0.10", "--tcp", "53"],  # a traceback's run: through click, not timed
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


# -- the plain sweep: such a command line runs without click, to the same end -----------------------


def _normalised(report_text: str) -> dict[str, Any]:
    """A JSON report without what differs from run to run (times)."""
    report = json.loads(report_text)
    for key in ("started_at", "finished_at", "duration_s"):
        report.pop(key)
    for result in report["results"]:
        result["facts"].pop("elapsed_ms", None)
    return dict(report)


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_the_plain_sweep_writes_what_the_command_line_writes(fmt: str) -> None:
    # Given an open and a refused port, and the same command line run by the program (the plain
    # sweep, no click) and through click's command line (python -m adprep.cli.main)
    with tcp_listener() as open_port:
        dead = unused_port()
        args = ["ports", "127.0.0.1", "--tcp", f"{open_port},{dead}", "--timeout", "1", "--format", fmt]
        env = {**os.environ, "ADPREP_VANTAGE": "lab", "ADPREP_CONFIG": ""}
        run = {"capture_output": True, "text": True, "timeout": 30, "check": False, "env": env}
        plain = subprocess.run([str(ADPREP), *args], **run)  # type: ignore[call-overload]
        clicks = subprocess.run([sys.executable, "-m", "adprep.cli.main", *args], **run)  # type: ignore[call-overload]
    # Then both exit 1 (a closed port) with the same report and nothing on stderr
    assert (plain.returncode, plain.stderr) == (clicks.returncode, clicks.stderr) == (1, ""), plain.stderr
    if fmt == "json":
        assert _normalised(plain.stdout) == _normalised(clicks.stdout)
        assert json.loads(plain.stdout)["vantage"]["label"] == "lab"
    else:
        assert plain.stdout.split("\n")[:6] == clicks.stdout.split("\n")[:6]  # the table, before the times


def test_the_plain_sweep_loads_no_click() -> None:
    # Given a plain sweep run by the program's entry point, when it ends (just before its fast exit)
    dead = unused_port()
    code = (
        "import sys; from adprep.cli import launch; "
        "launch._fast_exit = lambda status: print(status, 'click' in sys.modules, file=sys.stderr); "
        f"sys.argv = ['adprep', 'ports', '127.0.0.1', '--tcp', '{dead}', '--format', 'json']; launch.main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    # Then it reported (exit 1: the port is closed) and click never loaded
    assert proc.stderr.split() == ["1", "False"], proc.stderr
    assert json.loads(proc.stdout)["results"][0]["facts"]["verdict"] == "closed"


def test_the_plain_sweep_ends_quietly_when_its_reader_goes_away() -> None:
    # Given 250 open ports (a report of ~95 KB, half again what a pipe holds; a sweep of only open
    # ports exits 0) and a reader that stops after one byte (| head -c 1)
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(tcp_listener()) for _ in range(250)]
        argv = [str(ADPREP), "ports", "127.0.0.1", "--tcp", ",".join(map(str, ports)), "--format", "json"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(1)
        proc.stdout.close()
        # Then it exits 1 (a write failed), as click's command line does, without a word
        assert proc.wait(timeout=30) == 1
        assert proc.stderr.read() == b""
        proc.stderr.close()


def test_the_plain_sweep_ends_an_error_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a plain sweep whose run stops on an adprep error and one on a bug
    from adprep.cli import plain
    from adprep.errors import AdprepError

    plan = hs.read_plan(["ports", "127.0.0.1", "--tcp", "9"], {})
    assert plan is not None
    for error, status, says in [
        (AdprepError("The sweep could not start", hint="Try again."), 3, "adprep: could not run: The sweep"),
        (KeyError("surprise"), 4, "adprep: internal error (KeyError); this is a bug in adprep."),
        (KeyboardInterrupt(), 130, "adprep: interrupted."),
    ]:

        def stopped(*_: object, error: BaseException = error, **__: object) -> None:
            raise error

        monkeypatch.setattr(plain, "sweep_report", stopped)
        err: list[str] = []
        monkeypatch.setattr(plain, "echo", lambda text, err_list=err, **_: err_list.append(text))
        # When it runs; then the exit status and the one sentence are those of click's command line
        assert plain.run(plan, EarlyConnects(1.0)) == status
        assert len(err) == 1 and err[0].startswith(says) and err[0].endswith("\n") and err[0].count("\n") == 1
