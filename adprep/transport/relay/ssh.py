"""Start adprep's relay at a remote vantage over SSH, with the system's OpenSSH client.

The admin's ~/.ssh/config, ProxyJump, a ProxyCommand (SSM Session Manager's, say), agent and keys
work as they already do: adprep runs ``ssh`` with nothing but ``-T``, ``BatchMode`` when no
terminal can answer a prompt, a connect timeout, and the remote command. Host keys are checked as
OpenSSH checks them (never switched off). The remote command is a one-line bootstrap for the far
end's ``python3`` that reads the relay's source from stdin: nothing is installed or written there.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from adprep.errors import VantageError, WireFormatError
from adprep.secrets import child_environment
from adprep.transport.relay.channel import RelayChannel
from adprep.wire.relay import MAX_LINE, Hello, parse_hello, parse_results

AGENT = Path(__file__).with_name("agent.py")
#: Runs in the remote user's shell (sh, bash, zsh, csh alike): reads one base64 line (the relay) and runs it.
BOOTSTRAP = (
    "python3 -u -c 'import sys,base64;"
    'exec(compile(base64.b64decode(sys.stdin.buffer.readline()),"adprep-relay","exec"))\''
)


class SshChannel(RelayChannel):
    """``ssh [-F config] [-p port] [-l user] -T host BOOTSTRAP`` with the relay on stdin."""

    def __init__(
        self,
        host: str,
        *,
        user: str | None = None,
        port: int | None = None,
        ssh_config: str | None = None,
        connect_timeout: float = 10.0,
        batch_mode: bool | None = None,
        ssh: str = "ssh",
    ) -> None:
        self.host, self.user, self.port = host, user, port
        self.via = f"ssh://{user + '@' if user else ''}{host}{':' + str(port) if port else ''}"
        self._connect_timeout = connect_timeout
        interactive = sys.stdin.isatty() if batch_mode is None else not batch_mode
        self.argv = [ssh, "-T", "-o", f"ConnectTimeout={max(1, round(connect_timeout))}",
                     "-o", "ServerAliveInterval=15"]  # fmt: skip
        if not interactive:
            self.argv += ["-o", "BatchMode=yes"]
        if ssh_config:
            self.argv += ["-F", ssh_config]
        if port:
            self.argv += ["-p", str(port)]
        if user:
            self.argv += ["-l", user]
        self.argv += ["--", host, BOOTSTRAP]
        self._proc: asyncio.subprocess.Process | None = None
        self._waiting: dict[int, asyncio.Queue[bytes | VantageError]] = {}
        self._ended: VantageError | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stderr = bytearray()
        self._stderr_task: asyncio.Task[None] | None = None

    async def open(self) -> Hello:
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=MAX_LINE,
                # ssh inherits no secret (ADPREP_PASSWORD…): the environment of a child is readable
                # by the same user in /proc, and a SendEnv could forward it.
                env=child_environment(),
                # Its own session: Ctrl-C reaches adprep, which then closes the relays in order.
                start_new_session=True,
            )
        except FileNotFoundError as e:
            raise VantageError("The OpenSSH client (ssh) is not installed on this host", reason="failed",
                               hint="Install it (Debian: apt-get install openssh-client).") from e  # fmt: skip
        assert self._proc.stdin and self._proc.stdout and self._proc.stderr
        self._stderr_task = asyncio.create_task(self._drain_stderr(self._proc.stderr))
        source = base64.b64encode(AGENT.read_bytes()) + b"\n"
        try:
            self._proc.stdin.write(source)
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # ssh already gave up: its exit status and stderr say why
        try:
            async with asyncio.timeout(self._connect_timeout + 20):
                line = await self._proc.stdout.readline()
        except TimeoutError as e:
            await self.close()
            raise VantageError(f"{self.via} did not start adprep's relay within {self._connect_timeout + 20:g} s",
                               reason="unreachable",
                               hint="Check that you can run 'ssh HOST python3 -V' by hand.") from e  # fmt: skip
        if not line:
            code = await self._proc.wait()
            if self._stderr_task is not None:
                await self._stderr_task
            raise classify_ssh_failure(self.via, code, self._stderr.decode("utf-8", "replace"))
        try:
            hello = parse_hello(line)
        except WireFormatError as e:
            await self.close()
            raise VantageError(f"{self.via} answered something that is not adprep's relay ({e.message})",
                               reason="protocol",
                               hint="A login banner or shell start-up file that prints to stdout gets in the way; "
                               "make it print only on a terminal.") from e  # fmt: skip
        if hello.error:
            await self.close()
            raise VantageError(f"adprep's relay cannot run at {self.via}: {hello.error}", reason="no_interpreter",
                               hint="Install Python 3.7 or newer there.")  # fmt: skip
        self._reader = asyncio.create_task(self._read(self._proc.stdout))
        return hello

    async def exchange(self, batch: bytes) -> bytes:
        results: list[dict[str, Any]] = []
        count = len(json.loads(batch)["ops"])
        stream = self.stream(batch)
        try:
            async for line in stream:
                results.extend(r for _, r in sorted(parse_results(line)[1], key=lambda p: p[0]))
                if len(results) >= count:
                    break
        finally:
            await stream.aclose()
        return json.dumps({"id": _batch_id(batch), "results": results}).encode() + b"\n"

    async def stream(self, batch: bytes) -> AsyncGenerator[bytes, None]:
        if self._proc is None or self._proc.stdin is None:
            raise VantageError(f"The relay at {self.via} is not running", reason="failed")
        if self._ended is not None:
            raise self._ended
        batch_id = _batch_id(batch)
        queue: asyncio.Queue[bytes | VantageError] = asyncio.Queue()
        self._waiting[batch_id] = queue
        try:
            try:
                self._proc.stdin.write(batch)
                await self._proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the reader sees the end and fails every waiting batch with the reason
            while True:
                item = await queue.get()
                if isinstance(item, VantageError):
                    raise item
                yield item
        finally:
            self._waiting.pop(batch_id, None)

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        error: VantageError | None = None
        try:
            while True:
                line = await stdout.readline()
                if not line:
                    break
                try:
                    batch_id, _ = parse_results(line)
                except WireFormatError as e:
                    error = VantageError(f"The relay at {self.via} sent a line adprep cannot read ({e.message})",
                                         reason="protocol")  # fmt: skip
                    break
                queue = self._waiting.get(batch_id)
                if queue is not None:
                    queue.put_nowait(line)
        except (ValueError, asyncio.LimitOverrunError):
            error = VantageError(
                f"The relay at {self.via} sent a line longer than adprep accepts", reason="protocol"
            )
        if error is None:
            tail = self._stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            error = VantageError(f"The relay at {self.via} stopped ({tail[0]})", reason="failed",
                                 hint="Run again; if it repeats, check the host's memory and its SSH server's logs.")  # fmt: skip
        self._ended = error
        for queue in self._waiting.values():
            queue.put_nowait(error)

    async def _drain_stderr(self, stderr: asyncio.StreamReader) -> None:
        while chunk := await stderr.read(4096):
            if len(self._stderr) < 65536:
                self._stderr.extend(chunk)

    async def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(Exception):
            if proc.stdin is not None:
                proc.stdin.close()  # EOF: the relay finishes and exits
            try:
                async with asyncio.timeout(3):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        for task in (self._reader, self._stderr_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


def _batch_id(batch: bytes) -> int:
    return int(json.loads(batch)["id"])


def classify_ssh_failure(via: str, status: int, stderr: str) -> VantageError:
    """What ssh's exit status and messages mean, as one sentence and what to do. Pure."""
    text = stderr.strip()
    lower = text.lower()
    last = next((line for line in reversed(text.splitlines()) if line.strip()), "no message")
    if "remote host identification has changed" in lower:
        return VantageError(
            f"The SSH host key of {via} has changed since it was recorded in known_hosts",
            reason="host_key",
            hint="If the host was rebuilt, remove the old key (ssh-keygen -R HOST), connect once with ssh and "
            "check the new fingerprint; otherwise someone may be intercepting the connection.",
        )
    if "host key verification failed" in lower or "no matching host key" in lower:
        return VantageError(
            f"The SSH host key of {via} is not known to this host",
            reason="host_key",
            hint="Connect once with ssh by hand and check the fingerprint it shows (or add the key to "
            "known_hosts); adprep never accepts an unknown host key on its own.",
        )
    if "permission denied" in lower or "too many authentication failures" in lower:
        return VantageError(
            f"{via} refused the SSH login ({last})",
            reason="auth",
            hint="Check the user name and that your key (or SSH agent) is accepted there: "
            "'ssh HOST true' must work without a password prompt.",
        )
    if status == 127 or "python3: not found" in lower or "python3: command not found" in lower:
        return VantageError(
            f"{via} has no python3 to run adprep's relay",
            reason="no_interpreter",
            hint="Install Python 3.7 or newer there (Amazon Linux 2: yum install python3), or use a "
            "Windows instance over winrms://.",
        )
    unreachable = ("connection refused", "timed out", "no route to host", "could not resolve",
                   "network is unreachable", "connection closed by", "connection reset", "kex_exchange")  # fmt: skip
    if any(word in lower for word in unreachable):
        return VantageError(
            f"{via} could not be reached over SSH ({last})",
            reason="unreachable",
            hint="Check the host name, that its SSH server runs, and the path to it (bastion, ProxyJump or "
            "ProxyCommand in ~/.ssh/config).",
        )
    if "traceback" in lower or "syntaxerror" in lower:
        return VantageError(f"adprep's relay failed to start at {via} ({last})", reason="no_interpreter",
                            hint="The far end's python3 must be 3.7 or newer.")  # fmt: skip
    return VantageError(
        f"ssh to {via} ended with status {status} before the relay started ({last})",
        reason="failed",
        hint="Run 'ssh HOST python3 -V' by hand to see what goes wrong.",
    )
