"""The WinRM vantage through pywinrm, against a WS-Management endpoint double on 127.0.0.1.

No Windows host runs here: ``tests/wsman_double.py`` speaks MS-WSMV's remote shell (NTLM, HTTPS or
encrypted HTTP) and stands in for powershell.exe by running the Python relay on the batch that came
with adprep's bootstrap and agent.ps1. What these tests prove is adprep's side: the pywinrm exchange,
the framing of script and batch on stdin, the concurrency, and every failure as a VantageError.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adprep.errors import VantageError
from adprep.secret import Secret
from adprep.transport.relay import winrm
from adprep.transport.relay.session import RelayNetwork
from adprep.transport.relay.winrm import WinrmChannel, WinrmEndpoint
from adprep.wire import relay as wire
from tests.loopback import tcp_listener, udp_echo, unused_port
from tests.wsman_double import Mode, TlsFiles, WsmanDouble, make_tls

RELAY = Path(winrm.__file__).parent
USER = "LAB\\adprep"
#: Distinctive, so that a leak anywhere is found by a plain substring search.
PASSWORD = "Pw-" + secrets.token_urlsafe(18)

DoubleFactory = Callable[..., WsmanDouble]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def double(tmp_path: Path, tls: TlsFiles) -> Iterator[DoubleFactory]:
    """Start WS-Management doubles (HTTPS by default); each must have seen nothing Windows would refuse."""
    started: list[WsmanDouble] = []
    with contextlib.ExitStack() as stack:

        def start(*, https: bool = True, mode: Mode = "ok", delay: float = 0.0) -> WsmanDouble:
            d = WsmanDouble(
                user=USER,
                password=PASSWORD,
                user_file=tmp_path / f"ntlm-users-{len(started)}",
                agent_ps1=RELAY / "agent.ps1",
                agent_py=RELAY / "agent.py",
                bootstrap=winrm.BOOTSTRAP,
                marker=winrm.MARKER,
                tls=tls if https else None,
                mode=mode,
                delay=delay,
            )
            started.append(stack.enter_context(d))
            return d

        yield start
    for d in started:
        assert d.problems == []
        assert not any(PASSWORD.encode() in seen for seen in d.seen), "the password went into argv or stdin"
        assert d.shells == {}, "a shell was left open on the host"


def endpoint(
    port: int,
    *,
    https: bool = True,
    ca: TlsFiles | None = None,
    password: str = PASSWORD,
    timeout: float = 5.0,
) -> WinrmEndpoint:
    return WinrmEndpoint(
        host="127.0.0.1",
        port=port,
        https=https,
        user=USER,
        password=Secret(password, "env:ADPREP_WINRM_PASSWORD"),
        ca_file=str(ca.ca) if ca is not None else None,
        timeout=timeout,
    )


def open_fails(channel: WinrmChannel) -> VantageError:
    async def run() -> None:
        try:
            await channel.open()
        finally:
            await channel.close()

    with pytest.raises(VantageError) as caught:
        asyncio.run(run())
    assert_no_password(caught.value)
    return caught.value


def assert_no_password(*things: object) -> None:
    """The password is in no message, repr, hint or cause of anything the channel hands out."""
    for thing in things:
        seen: set[int] = set()
        todo = [thing]
        while todo:
            item = todo.pop()
            if id(item) in seen or item is None:
                continue
            seen.add(id(item))
            for text in (str(item), repr(item)):
                assert PASSWORD not in text, f"the password leaked into {type(item).__name__}"
            if isinstance(item, BaseException):
                todo += [item.__cause__, item.__context__, *item.args, getattr(item, "hint", None)]


def results(line: bytes) -> tuple[int, list[dict[str, Any]]]:
    """A result line's batch id and its results in the order of the ops."""
    batch_id, pairs = wire.parse_results(line)
    assert [i for i, _ in pairs] == list(range(len(pairs)))
    return batch_id, [result for _, result in pairs]


# -- the relay through WinRM --------------------------------------------------------------------


def test_open_over_https_verifies_the_certificate_with_the_ca_file(
    double: DoubleFactory, tls: TlsFiles
) -> None:
    # Given a WinRM listener over HTTPS whose certificate the given CA file signed
    d = double()
    channel = WinrmChannel(endpoint(d.port, ca=tls))

    # When the channel opens
    async def run() -> wire.Hello:
        try:
            return await channel.open()
        finally:
            await channel.close()

    hello = asyncio.run(run())

    # Then the relay said hello (the double runs the Python relay in powershell.exe's stead),
    # through one shell that is gone once the channel is closed
    assert hello.impl == "python" and hello.error is None
    assert channel.via == f"winrms://{USER}@127.0.0.1:{d.port}"
    assert d.stats.shells_created == 1 and d.stats.shells_deleted == 1
    assert_no_password(channel, channel.endpoint, hello)


def test_a_batch_runs_tcp_udp_and_route_ops_on_loopback(double: DoubleFactory, tls: TlsFiles) -> None:
    # Given a listening TCP port, a closed one and a UDP echo server on loopback
    d = double()
    channel = WinrmChannel(endpoint(d.port, ca=tls))
    datagram = b"adprep-" + secrets.token_bytes(8)
    with tcp_listener() as open_port, udp_echo() as echo_port:
        batch = wire.encode_batch(
            41,
            [
                wire.tcp_op("127.0.0.1", open_port, 2.0),
                wire.tcp_op("127.0.0.1", unused_port(), 2.0),
                wire.udp_op("127.0.0.1", echo_port, [datagram], timeout=2.0, interval=1.0),
                wire.route_op("127.0.0.1"),
            ],
            concurrency=256,
        )

        # When the batch goes through the channel
        async def run() -> bytes:
            try:
                await channel.open()
                return await channel.exchange(batch)
            finally:
                await channel.close()

        line = asyncio.run(run())

    # Then its result line answers each op, in order
    batch_id, (tcp_open, tcp_closed, udp, route) = results(line)
    assert batch_id == 41
    assert tcp_open["outcome"] == "open" and tcp_open["source"] == "127.0.0.1"
    assert tcp_closed["outcome"] == "refused" and tcp_closed["errno"] == "ECONNREFUSED"
    assert udp["outcome"] == "reply" and base64.b64decode(udp["reply"]) == datagram and udp["attempts"] == 1
    assert route == {"source": "127.0.0.1"}
    # and the open invocation and the batch's each ran in a powershell.exe of its own, in one shell
    assert d.stats.commands == 2 and d.stats.shells_created == 1


def test_batches_run_at_once_and_outlast_winrm_operation_timeouts(
    double: DoubleFactory, tls: TlsFiles
) -> None:
    # Given a host where powershell.exe takes longer to answer than WinRM's OperationTimeout (2 s with
    # a 3 s HTTP timeout), so that Receive times out and is asked again
    d = double(mode="slow", delay=2.5)
    channel = WinrmChannel(endpoint(d.port, ca=tls, timeout=3.0))
    batches = [wire.encode_batch(n, [wire.route_op("127.0.0.1")], concurrency=4) for n in (1, 2, 3)]

    # When three batches are exchanged at the same time
    async def run() -> list[bytes]:
        try:
            return await asyncio.gather(*(channel.exchange(b) for b in batches))
        finally:
            await channel.close()

    started = time.monotonic()
    lines = asyncio.run(run())
    elapsed = time.monotonic() - started

    # Then each gets its own answer, and they ran side by side (three shells), not one after another
    assert [results(line)[0] for line in lines] == [1, 2, 3]
    assert d.stats.max_running == 3 and d.stats.shells_created == 3
    assert d.stats.receive_timeouts >= 3
    # (one after another would take at least 3 x 2.5 s; the bound leaves room for a loaded machine's
    # three TLS and NTLM handshakes, while max_running above is the proof they overlapped)
    assert elapsed < 3 * 2.5, elapsed


def test_plain_http_is_sealed_with_the_ntlm_session(double: DoubleFactory) -> None:
    # Given a WinRM listener over plain HTTP (which accepts only encrypted messages, as Windows does)
    d = double(https=False)
    channel = WinrmChannel(endpoint(d.port, https=False))

    # When a batch goes through
    async def run() -> bytes:
        try:
            await channel.open()
            return await channel.exchange(wire.encode_batch(5, [wire.route_op("127.0.0.1")], concurrency=1))
        finally:
            await channel.close()

    line = asyncio.run(run())

    # Then it was answered, every SOAP message sealed (MS-WSMV 2.2.9.1.1)
    assert results(line) == (5, [{"source": "127.0.0.1"}])
    assert channel.via.startswith("winrm://") and d.stats.encrypted_messages > 0


def test_a_large_batch_is_sent_in_pieces_within_the_envelope_size(
    double: DoubleFactory, tls: TlsFiles
) -> None:
    # Given a batch far larger than one WS-Management envelope (150 KiB)
    d = double()
    channel = WinrmChannel(endpoint(d.port, ca=tls))
    with udp_echo() as echo_port:
        datagrams = [secrets.token_bytes(3000) for _ in range(60)]
        batch = wire.encode_batch(9, [wire.udp_op("127.0.0.1", echo_port, datagrams, timeout=2.0, interval=0.5)],
                                  concurrency=1)  # fmt: skip
        assert len(batch) > 200_000

        # When it is exchanged
        async def run() -> bytes:
            try:
                return await channel.exchange(batch)
            finally:
                await channel.close()

        line = asyncio.run(run())

    # Then stdin went in several Sends, each envelope within the limit, and the relay got it whole
    (udp,) = results(line)[1]
    assert base64.b64decode(udp["reply"]) == datagrams[0]
    assert d.stats.sends >= 6 and d.stats.largest_envelope < 153600


def test_probes_through_the_session_mean_what_local_ones_do(double: DoubleFactory, tls: TlsFiles) -> None:
    # Given the relay network over WinRM, and a listening port, a closed one and a UDP echo server
    d = double()
    channel = WinrmChannel(endpoint(d.port, ca=tls))
    with tcp_listener() as open_port, udp_echo() as echo_port:
        shut = unused_port()

        # When collectors probe through it, all in the same turn of the event loop
        async def run() -> tuple[Any, ...]:
            try:
                net = RelayNetwork(channel, await channel.open(), label="win")
                probes = await asyncio.gather(
                    net.tcp_connect("127.0.0.1", open_port, timeout=2.0),
                    net.tcp_connect("127.0.0.1", shut, timeout=2.0),
                    net.udp_exchange("127.0.0.1", echo_port, [b"q1", b"q2"], timeout=2.0),
                )
                return (*probes, net.batches)
            finally:
                await channel.close()

        tcp_open, tcp_closed, udp, batches = asyncio.run(run())

    # Then they went as one batch (one powershell.exe) and say what local probes would
    assert batches == 1 and d.stats.commands == 2
    assert (tcp_open.outcome, tcp_closed.outcome) == ("open", "refused")
    assert (udp.outcome, udp.reply, udp.attempts) == ("reply", b"q1", 1)


def test_close_never_raises_when_the_host_is_gone(double: DoubleFactory, tls: TlsFiles) -> None:
    # Given an open channel whose host then goes away
    d = double()
    channel = WinrmChannel(endpoint(d.port, ca=tls, timeout=2.0))
    asyncio.run(channel.open())
    d.__exit__(None, None, None)
    # When it is closed, then nothing is raised; and the channel takes no more batches
    asyncio.run(channel.close())
    with pytest.raises(VantageError) as caught:
        asyncio.run(channel.exchange(wire.encode_batch(1, [], concurrency=1)))
    assert caught.value.reason == "failed"


# -- a vantage that fails is data ---------------------------------------------------------------


def test_a_wrong_password_is_an_auth_error(double: DoubleFactory, tls: TlsFiles) -> None:
    # Given a listener that knows the account with another password
    d = double()
    # When the channel opens with a wrong one
    error = open_fails(WinrmChannel(endpoint(d.port, ca=tls, password=PASSWORD + "-wrong")))
    # Then the error is "auth", and says what to check
    assert error.reason == "auth"
    assert "Remote Management Users" in str(error) and USER in str(error)


def test_a_listener_that_refuses_every_login_is_an_auth_error(double: DoubleFactory, tls: TlsFiles) -> None:
    d = double(mode="reject_auth")
    error = open_fails(WinrmChannel(endpoint(d.port, ca=tls)))
    assert error.reason == "auth"


def test_an_untrusted_certificate_is_a_tls_error(double: DoubleFactory) -> None:
    # Given a listener whose certificate no CA this host trusts signed, when opened without a CA file
    d = double()
    error = open_fails(WinrmChannel(endpoint(d.port)))
    # Then the error is "tls", points at the CA file option, and nothing was exchanged
    assert error.reason == "tls"
    assert "CA file" in str(error) and "verify" in str(error)
    assert d.stats.shells_created == 0


def test_https_to_a_plain_http_listener_is_a_tls_error(double: DoubleFactory, tls: TlsFiles) -> None:
    # Given WinRM's HTTP listener, when winrms:// (HTTPS) is used against it
    d = double(https=False)
    error = open_fails(WinrmChannel(endpoint(d.port, https=True, ca=tls)))
    # Then the handshake failure says which listener to use
    assert error.reason == "tls" and "5985" in str(error)


def test_an_execution_policy_refusal_is_refused_script(double: DoubleFactory, tls: TlsFiles) -> None:
    # Given a host where PowerShell's execution policy refuses scripts (stderr in CLIXML, exit 1)
    d = double(mode="policy")
    error = open_fails(WinrmChannel(endpoint(d.port, ca=tls)))
    # Then the error is "refused_script", quotes PowerShell and names the policy to change
    assert error.reason == "refused_script"
    assert "running scripts is disabled" in error.message
    assert "Get-ExecutionPolicy -List" in str(error)


def test_constrained_language_mode_is_refused_script(double: DoubleFactory, tls: TlsFiles) -> None:
    d = double(mode="constrained")
    error = open_fails(WinrmChannel(endpoint(d.port, ca=tls)))
    assert error.reason == "refused_script"
    assert "ConstrainedLanguage" in str(error)


def test_output_that_is_not_the_relay_is_a_protocol_error(double: DoubleFactory, tls: TlsFiles) -> None:
    d = double(mode="garbage")
    error = open_fails(WinrmChannel(endpoint(d.port, ca=tls)))
    assert error.reason == "protocol"


def test_a_closed_port_is_unreachable() -> None:
    # Given nothing listening on the port, when the channel opens
    error = open_fails(WinrmChannel(endpoint(unused_port())))
    # Then the error is "unreachable" and says how to get WinRM listening
    assert error.reason == "unreachable"
    assert "refused the connection" in error.message and "5986" in str(error)


def test_a_listener_that_never_answers_is_unreachable() -> None:
    # Given a port that accepts connections (the kernel's backlog) but never answers
    with socket.create_server(("127.0.0.1", 0)) as silent:
        started = time.monotonic()
        error = open_fails(WinrmChannel(endpoint(silent.getsockname()[1], timeout=2.0)))
    # Then the error is "unreachable" after the timeout, not a hang
    assert error.reason == "unreachable"
    assert "did not answer within 2 s" in error.message
    assert time.monotonic() - started < 10


def test_kerberos_without_pywinrm_kerberos_support_is_said_before_any_traffic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(winrm, "HAVE_KERBEROS", False)
    with pytest.raises(VantageError) as caught:
        WinrmChannel(WinrmEndpoint("127.0.0.1", 5986, True, USER, Secret(PASSWORD, "test"), auth="kerberos"))
    assert caught.value.reason == "auth" and "pywinrm[kerberos]" in str(caught.value)
    assert_no_password(caught.value)


def test_the_cli_probes_through_a_winrm_vantage(
    double: DoubleFactory, tls: TlsFiles, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a WinRM listener (the double), the password in the environment, and a port that listens
    import json

    from adprep.cli.main import main

    host = double()
    monkeypatch.setenv("ADPREP_WINRM_PASSWORD", PASSWORD)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        # When adprep ports runs from this host and through the WinRM vantage
        status = main([
            "ports", "127.0.0.1", "--tcp", str(port), "--format", "json", "--winrm-ca-file", str(tls.ca),
            "--via", "local", "--via", f"win=winrms://LAB%5Cadprep@127.0.0.1:{host.port}",
        ])  # fmt: skip
    out, err = capsys.readouterr()
    # Then both vantages see the port open, the report names the relay, and the password is nowhere
    results = {r["id"]: r for r in json.loads(out)["results"]}
    assert status == 0, err
    assert results[f"ports.tcp.127.0.0.1.{port}@win"]["status"] == "pass"
    assert results[f"ports.tcp.127.0.0.1.{port}@local"]["status"] == "pass"
    assert results["vantage.win.relay"]["status"] == "pass"
    assert PASSWORD not in out + err
