"""The SSH relay without an SSH server: the bootstrap and relay run here through a stand-in for ssh,
and ssh's own failure messages become sentences. (tests/integration/test_vantages_lab.py runs the
same through real OpenSSH servers in network namespaces.)"""

from __future__ import annotations

import asyncio
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from adprep.errors import VantageError
from adprep.transport.network import LocalNetwork
from adprep.transport.relay.agent import __file__ as AGENT
from adprep.transport.relay.session import RelayNetwork
from adprep.transport.relay.ssh import SshChannel, classify_ssh_failure

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_ssh(tmp_path: Path) -> Path:
    """An 'ssh' that runs the remote command (its last argument) on this host."""
    path = tmp_path / "ssh"
    path.write_text('#!/bin/sh\nfor last; do :; done\nexec sh -c "$last"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_relay_needs_only_python_3_7() -> None:
    # vermin reads the relay's source: nothing newer than 3.7 (Amazon Linux 2's python3).
    out = subprocess.run(
        [str(REPO / ".venv/bin/vermin"), "--no-tips", "--violations", "-t=3.7-", AGENT],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_probes_through_the_relay_equal_local_ones_in_one_batch(fake_ssh: Path, listener: int) -> None:
    async def run() -> tuple[list[str], list[str], int]:
        channel = SshChannel("far-end", ssh=str(fake_ssh), batch_mode=True)
        hello = await channel.open()
        assert hello.impl == "python"
        relay = RelayNetwork(channel, hello, label="far")
        local = LocalNetwork()
        try:
            targets = [("127.0.0.1", listener), ("127.0.0.1", 1)]
            remote = await asyncio.gather(*(relay.tcp_connect(a, p, timeout=1) for a, p in targets))
            here = await asyncio.gather(*(local.tcp_connect(a, p, timeout=1) for a, p in targets))
            return [r.outcome for r in remote], [r.outcome for r in here], relay.batches
        finally:
            await channel.close()

    remote, here, batches = asyncio.run(run())
    assert remote == here == ["open", "refused"]
    assert batches == 1


def test_udp_and_framed_tcp_through_the_relay(fake_ssh: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as echo:
        echo.bind(("127.0.0.1", 0))
        port = echo.getsockname()[1]

        async def run() -> tuple[bytes | None, str, str, str | None]:
            channel = SshChannel("far-end", ssh=str(fake_ssh), batch_mode=True)
            relay = RelayNetwork(channel, await channel.open(), label="far")
            try:
                loop = asyncio.get_running_loop()

                def answer() -> None:
                    data, peer = echo.recvfrom(100)
                    echo.sendto(b"re:" + data, peer)

                replier = loop.run_in_executor(None, answer)
                got = await relay.udp_exchange("127.0.0.1", port, [b"ping"], timeout=2)
                await replier
                refused = await relay.udp_exchange("127.0.0.1", 9, [b"x", b"y"], timeout=1)
                framed = await relay.tcp_exchange("127.0.0.1", 1, [b"\x00\x01x"], framing="u16", timeout=1)
                return got.reply, refused.outcome, framed.outcome, await relay.source_address("127.0.0.1")
            finally:
                await channel.close()

        reply, refused, framed, source = asyncio.run(run())
    assert reply == b"re:ping"
    assert refused == "refused"
    assert framed == "refused"
    assert source == "127.0.0.1"


def test_no_python3_is_a_vantage_error(tmp_path: Path) -> None:
    ssh = tmp_path / "ssh"
    ssh.write_text('#!/bin/sh\necho "sh: 1: python3: not found" >&2\nexit 127\n')
    ssh.chmod(0o755)
    with pytest.raises(VantageError) as caught:
        asyncio.run(SshChannel("h", ssh=str(ssh), batch_mode=True).open())
    assert caught.value.reason == "no_interpreter"
    assert "3.7" in caught.value.sentence()


def test_a_shell_that_prints_a_banner_is_a_protocol_error(tmp_path: Path) -> None:
    ssh = tmp_path / "ssh"
    ssh.write_text("#!/bin/sh\necho 'Welcome to the bastion'\ncat >/dev/null\n")
    ssh.chmod(0o755)
    with pytest.raises(VantageError) as caught:
        asyncio.run(SshChannel("h", ssh=str(ssh), batch_mode=True).open())
    assert caught.value.reason == "protocol"


@pytest.mark.parametrize(
    ("stderr", "status", "reason", "fragment"),
    [
        ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.", 255,
         "host_key", "has changed"),
        ("No ED25519 host key is known for h and you have requested strict checking.\n"
         "Host key verification failed.", 255, "host_key", "not known"),
        ("root@h: Permission denied (publickey).", 255, "auth", "refused the SSH login"),
        ("ssh: connect to host h port 22: Connection refused", 255, "unreachable", "could not be reached"),
        ("ssh: Could not resolve hostname h: Name or service not known", 255, "unreachable", "could not be reached"),
        ("bash: python3: command not found", 127, "no_interpreter", "no python3"),
        ("something odd", 3, "failed", "status 3"),
    ],
)  # fmt: skip
def test_ssh_failures_become_sentences(stderr: str, status: int, reason: str, fragment: str) -> None:
    error = classify_ssh_failure("ssh://h", status, stderr)
    assert error.reason == reason
    assert fragment in error.sentence()
    assert error.hint


def test_ssh_gets_no_secret_in_its_argv_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given every secret adprep reads set in its environment, and an ssh that records what it got
    from adprep.secrets import SECRET_ENV_VARS

    for i, name in enumerate(SECRET_ENV_VARS):
        monkeypatch.setenv(name, f"s3cret-{i}-value")
    seen = tmp_path / "seen"
    ssh = tmp_path / "ssh"
    ssh.write_text(
        f'#!/bin/sh\necho "$@" > {seen}.argv\nenv > {seen}.env\nfor last; do :; done\nexec sh -c "$last"\n'
    )
    ssh.chmod(0o755)

    async def run() -> None:
        channel = SshChannel("far-end", ssh=str(ssh), batch_mode=True)
        await channel.open()
        await channel.close()

    # When a relay starts
    asyncio.run(run())
    # Then neither the argv nor the environment of the child holds any of them
    both = Path(f"{seen}.argv").read_text() + Path(f"{seen}.env").read_text()
    assert "s3cret-" not in both
    assert "PATH=" in both
