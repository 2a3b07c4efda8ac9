"""Start adprep's PowerShell relay (``agent.ps1``) on a Windows host over WinRM, with pywinrm.

WS-Management's text-based command shell (MS-WSMV 3.1.4, resource ``windows/shell/cmd``): Create a shell,
Command ``powershell.exe`` with a small ``-EncodedCommand`` bootstrap, Send the relay script and the
batch lines as the command's stdin (the last Send with ``End="true"``), Receive its stdout and
stderr until ``CommandState/Done``, Signal terminate, and Delete the shell at the end.

pywinrm's API has no long-lived stdin stream, so each powershell.exe answers what it was given and
exits: :meth:`WinrmChannel.open` runs one with no batch (the hello only), :meth:`exchange` one per
batch, several at once, each in a shell of its own (a shell is bound to one pywinrm session, and an
NTLM session is bound to one HTTP connection). HTTPS with certificate verification by default; NTLM
(pywinrm's default) or Kerberos when pywinrm's kerberos extra is installed. The password goes from a
:class:`~adprep.secret.Secret` to pywinrm and nowhere else: never into argv, a message or a log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import math
import re
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import requests
    from winrm import exceptions as winrm_errors
    from winrm.protocol import Protocol
    from winrm.transport import HAVE_KERBEROS
except ImportError:  # the winrm extra is not installed: WinrmChannel says so
    HAVE_PYWINRM = False
else:
    HAVE_PYWINRM = True

from adprep.errors import VantageError, WireFormatError
from adprep.secret import Secret
from adprep.transport.relay.channel import RelayChannel
from adprep.transport.relay.session import batch_deadline
from adprep.wire.relay import MAX_LINE, Hello, parse_hello, parse_results

AGENT = Path(__file__).with_name("agent.ps1")
#: The line between the relay script and the batch lines on the command's stdin.
MARKER = "#adprep-batch"
#: Windows PowerShell 5.1, read by the bootstrap below: stdin (``$input``) is the relay script, the
#: marker line, then the batch lines. A script block built from text is not subject to the execution
#: policy (which governs script files); ConstrainedLanguage (AppLocker, WDAC) is, and is named.
BOOTSTRAP = "\n".join(
    [
        "$ProgressPreference = 'SilentlyContinue'",
        "$m = $ExecutionContext.SessionState.LanguageMode",
        "if ($m -ne 'FullLanguage') { throw \"adprep: PowerShell runs in $m mode on this host "
        '(an AppLocker or WDAC policy); the relay needs FullLanguage" }',
        '$p = (@($input) -join "`n") -split \'(?m)^' + MARKER + "$', 2",
        "if ($p.Count -ne 2) { throw 'adprep: the relay script did not arrive on stdin' }",
        '& ([ScriptBlock]::Create($p[0])) -Lines @($p[1] -split "`n" | Where-Object { $_ }) | Out-Null',
    ]
)
#: powershell.exe's arguments. -EncodedCommand is base64 of UTF-16LE; the whole command line stays far
#: below cmd.exe's 8191 characters because the relay itself comes on stdin.
POWERSHELL = "powershell.exe"
POWERSHELL_ARGS = (
    "-NoProfile",
    "-NonInteractive",
    "-ExecutionPolicy",
    "Bypass",
    "-EncodedCommand",
    base64.b64encode(BOOTSTRAP.encode("utf-16-le")).decode("ascii"),
)
#: One Send's stdin: base64 inflates it by 4/3, well within pywinrm's 150 KiB MaxEnvelopeSize.
STDIN_CHUNK = 32 * 1024
AUTHS = ("ntlm", "kerberos")

_POLICY = re.compile(
    r"execution ?polic|running scripts is disabled|is not digitally signed|AuthorizationManager", re.I
)
_LANGUAGE = re.compile(r"ConstrainedLanguage|RestrictedLanguage|language mode|only on core types", re.I)
_NO_POWERSHELL = re.compile(r"is not recognized as an internal or external command", re.I)


@dataclass(frozen=True)
class WinrmEndpoint:
    """Where the WinRM listener is and how to log in to it."""

    host: str
    port: int
    https: bool
    user: str
    """``DOMAIN\\user``, ``user@domain`` or a local account name."""
    password: Secret
    auth: str = "ntlm"
    """``ntlm`` or ``kerberos`` (needs pywinrm's kerberos extra and a ticket from kinit)."""
    ca_file: str | None = None
    """A PEM file with the CA that signed the listener's certificate (HTTPS)."""
    verify: bool = True
    """Verify the listener's certificate; False only when the user asked for it."""
    timeout: float = 30.0
    """Seconds to connect and to wait for any one HTTP answer."""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.https else 'http'}://{host}:{self.port}/wsman"

    @property
    def via(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'winrms' if self.https else 'winrm'}://{self.user}@{host}:{self.port}"


@dataclass
class _Shell:
    """One pywinrm session (its own HTTP connection and NTLM context) and the shell it created."""

    protocol: Protocol
    shell_id: str


class WinrmChannel(RelayChannel):
    """The PowerShell relay through pywinrm: one powershell.exe per batch, up to ``max_shells`` at once."""

    def __init__(self, endpoint: WinrmEndpoint, *, max_shells: int = 4) -> None:
        self.endpoint = endpoint
        self.via = endpoint.via
        if not HAVE_PYWINRM:
            raise VantageError(
                f"adprep cannot reach {self.via}: pywinrm is not installed",
                reason="failed",
                hint="Install adprep's WinRM support: pip install 'adprep[winrm]'.",
            )
        if endpoint.auth not in AUTHS:
            raise VantageError(
                f"adprep cannot log in to {self.via} with {endpoint.auth!r}",
                reason="auth",
                hint="Use ntlm (the default) or kerberos.",
            )
        if endpoint.auth == "kerberos" and not HAVE_KERBEROS:
            raise VantageError(
                f"Kerberos logins to {self.via} need pywinrm's kerberos support, which is not installed",
                reason="auth",
                hint="Install it (pip install 'pywinrm[kerberos]') and get a ticket with kinit, or use NTLM.",
            )
        self._script = AGENT.read_text(encoding="ascii")
        self._slots = asyncio.Semaphore(max(1, max_shells))
        self._idle: list[_Shell] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def __repr__(self) -> str:
        return f"WinrmChannel({self.via!r})"

    # -- RelayChannel ----------------------------------------------------------------------------

    async def open(self) -> Hello:
        try:
            async with self._slots:
                hello, _ = await asyncio.to_thread(self._invoke, None)
        except VantageError:
            await self.close()  # the caller keeps only the error: leave no shell behind
            raise
        return hello

    async def exchange(self, batch: bytes) -> bytes:
        if self._closed.is_set():
            raise VantageError(f"The relay at {self.via} is closed", reason="failed")
        async with self._slots:
            _, line = await asyncio.to_thread(self._invoke, batch)
        assert line is not None
        return line

    async def close(self) -> None:
        self._closed.set()
        with self._lock:
            shells, self._idle = self._idle, []
        if shells:
            with contextlib.suppress(BaseException):
                await asyncio.gather(*(asyncio.to_thread(_close_shell, s) for s in shells))

    # -- one powershell.exe ----------------------------------------------------------------------

    def _invoke(self, batch: bytes | None) -> tuple[Hello, bytes | None]:
        """Run the relay once on ``batch`` (None: hello only); its hello and the batch's result line."""
        stdin = (self._script.rstrip("\n") + "\n" + MARKER + "\n").encode("ascii") + (batch or b"")
        deadline = self.endpoint.timeout
        if batch is not None:
            request = json.loads(batch)
            ops, concurrency = request.get("ops", []), int(request.get("concurrency") or 256)
            deadline = batch_deadline(ops, concurrency, slack=self.endpoint.timeout)
        shell: _Shell | None = None
        try:
            shell = self._take_shell()
            stdout, stderr, status = self._run(shell, stdin, deadline)
        except (
            OSError,  # requests' errors too
            ValueError,
            KeyError,
            StopIteration,  # pywinrm looking for an element the answer does not have
            ET.ParseError,
            winrm_errors.WinRMError,
            winrm_errors.WinRMTransportError,
            winrm_errors.WinRMOperationTimeoutError,
        ) as e:
            if shell is not None:
                _close_shell(shell)
                shell = None
            raise self._transport_error(e) from e
        finally:
            if shell is not None:
                self._give_back(shell)
        return self._read_output(batch, stdout, stderr, status)

    def _take_shell(self) -> _Shell:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        endpoint = self.endpoint
        read_timeout = max(2, math.ceil(endpoint.timeout))
        protocol = Protocol(
            endpoint.url,
            transport=endpoint.auth,  # type: ignore[arg-type]
            username=endpoint.user,
            password=endpoint.password.reveal(),
            # 'validate' unless the user asked otherwise; None: requests' own CA bundle, no environment.
            server_cert_validation="validate" if endpoint.verify else "ignore",
            ca_trust_path=endpoint.ca_file,  # type: ignore[arg-type]
            read_timeout_sec=read_timeout,
            # Receive blocks on the server up to this long; it must end before the HTTP read timeout.
            operation_timeout_sec=max(1, min(read_timeout - 1, round(read_timeout * 2 / 3))),
            # No proxy from the environment: the WinRM host is on the admin's own network.
            proxy=None,
        )
        return _Shell(protocol, protocol.open_shell(codepage=437, noprofile=True))

    def _give_back(self, shell: _Shell) -> None:
        with self._lock:
            if not self._closed.is_set():
                self._idle.append(shell)
                return
        _close_shell(shell)

    def _run(self, shell: _Shell, stdin: bytes, deadline: float) -> tuple[bytes, bytes, int]:
        protocol = shell.protocol
        # WINRS_CONSOLEMODE_STDIN false: stdin is a pipe that ends, not a console (MS-WSMV 3.1.4.11).
        command_id = protocol.run_command(
            shell.shell_id, POWERSHELL, POWERSHELL_ARGS, console_mode_stdin=False
        )
        try:
            for at in range(0, len(stdin), STDIN_CHUNK):
                chunk = stdin[at : at + STDIN_CHUNK]
                protocol.send_command_input(
                    shell.shell_id, command_id, chunk, end=at + STDIN_CHUNK >= len(stdin)
                )
            out: list[bytes] = []
            err: list[bytes] = []
            size = 0
            end = time.monotonic() + deadline
            while True:
                if self._closed.is_set():
                    raise VantageError(f"The relay at {self.via} was closed", reason="failed")
                if time.monotonic() >= end:
                    raise VantageError(
                        f"The relay at {self.via} did not answer within {deadline:g} s",
                        reason="failed",
                        hint="Run again; if it repeats, check the host's load and its WinRM quotas.",
                    )
                try:
                    stdout, stderr, status, done = protocol.get_command_output_raw(shell.shell_id, command_id)
                except winrm_errors.WinRMOperationTimeoutError:
                    continue  # WinRM's Receive waited OperationTimeout with nothing to say: ask again
                out.append(stdout)
                err.append(stderr)
                size += len(stdout) + len(stderr)
                if size > MAX_LINE:
                    raise VantageError(
                        f"The relay at {self.via} sent more than adprep accepts", reason="protocol"
                    )
                if done:
                    return b"".join(out), b"".join(err), status
        finally:
            with contextlib.suppress(Exception):
                protocol.cleanup_command(shell.shell_id, command_id)

    # -- what came back --------------------------------------------------------------------------

    def _read_output(
        self, batch: bytes | None, stdout: bytes, stderr: bytes, status: int
    ) -> tuple[Hello, bytes | None]:
        lines = [line.strip() for line in stdout.split(b"\n") if line.strip()]
        errors = clixml_text(stderr)
        if not lines:
            raise self._refusal(status, errors)
        try:
            hello = parse_hello(lines[0])
        except WireFormatError as e:
            if status != 0:
                raise self._refusal(status, errors) from e
            raise VantageError(
                f"{self.via} answered something that is not adprep's relay ({e.message})",
                reason="protocol",
                hint="Something on the host prints to stdout before the relay (a logon script or a "
                "PowerShell host wrapper); adprep runs powershell.exe -NoProfile.",
            ) from e
        if hello.error:
            raise VantageError(
                f"adprep's relay cannot run at {self.via}: {hello.error}",
                reason="no_interpreter",
                hint="Windows PowerShell 5.1 (Windows Server 2016 and later) is needed.",
            )
        if batch is None:
            return hello, None
        # The PowerShell relay answers a batch in one line ({"id", "results"}); a relay that answers op by
        # op ({"id", "i", "result"}) is read too. Either way the batch's answer is one "results" line.
        request = json.loads(batch)
        wanted, count = request["id"], len(request.get("ops", []))
        found: dict[int, dict[str, Any]] = {}
        for line in lines[1:]:
            try:
                batch_id, pairs = parse_results(line)
            except WireFormatError as e:
                raise VantageError(
                    f"The relay at {self.via} sent a line adprep cannot read ({e.message})", reason="protocol"
                ) from e
            if batch_id == wanted:
                found.update(pairs)
        if sorted(found) == list(range(count)):
            answer = {"id": wanted, "results": [found[i] for i in range(count)]}
            return hello, json.dumps(answer, separators=(",", ":")).encode() + b"\n"
        last = errors.splitlines()[-1] if errors else f"exit status {status}"
        raise VantageError(
            f"The relay at {self.via} stopped before it answered ({last})",
            reason="failed",
            hint="Run again; if it repeats, check the host's memory and its WinRM quotas (MaxMemoryPerShellMB).",
        )

    def _refusal(self, status: int, errors: str) -> VantageError:
        """powershell.exe ended without the relay's hello: why, from its status and error text."""
        first = next((line.strip() for line in errors.splitlines() if line.strip()), "")
        said = f" ({first.rstrip('.')})" if first else ""
        if _LANGUAGE.search(errors):
            return VantageError(
                f"PowerShell on {self.via} refused to run adprep's relay: it runs in constrained language mode{said}",
                reason="refused_script",
                hint="An AppLocker or Windows Defender Application Control policy puts this account's PowerShell "
                "in ConstrainedLanguage mode; ask for the relay to be allowed (FullLanguage) for it, or use "
                "another vantage.",
            )
        if _POLICY.search(errors):
            return VantageError(
                f"PowerShell on {self.via} refused to run adprep's relay: its execution policy forbids it{said}",
                reason="refused_script",
                hint="An execution policy set by Group Policy (MachinePolicy or UserPolicy in "
                "Get-ExecutionPolicy -List) overrides -ExecutionPolicy Bypass; ask for RemoteSigned or "
                "Unrestricted there, or use another vantage.",
            )
        if status == 9009 or _NO_POWERSHELL.search(errors):
            return VantageError(
                f"{self.via} has no powershell.exe to run adprep's relay{said}",
                reason="no_interpreter",
                hint="The relay needs Windows PowerShell 5.1 (Windows Server 2016 and later).",
            )
        if status != 0:
            return VantageError(
                f"PowerShell on {self.via} ended with status {status} before adprep's relay started{said}",
                reason="refused_script",
                hint="Check what stops powershell.exe -NoProfile -ExecutionPolicy Bypass for this account there "
                "(an execution or AppLocker policy, an antivirus rule).",
            )
        return VantageError(
            f"{self.via} ran PowerShell but adprep's relay printed nothing{said}",
            reason="protocol",
            hint="Run 'powershell.exe -NoProfile' over WinRM by hand (Enter-PSSession) to see what happens.",
        )

    def _transport_error(self, e: BaseException) -> VantageError:
        """A pywinrm/requests failure as one sentence and what to do; never the password."""
        if isinstance(e, VantageError):
            return e
        where = f"WinRM at {self.endpoint.host}:{self.endpoint.port}"
        causes = list(_causes(e))
        # requests_ntlm raises PermissionError when the server answers no NTLM challenge.
        no_challenge = any(isinstance(c, PermissionError) and "NTLM" in str(c) for c in causes)
        if no_challenge or any(isinstance(c, winrm_errors.AuthenticationError) for c in causes):
            return VantageError(
                f"{where} refused the login of {self.endpoint.user}",
                reason="auth",
                hint="Check the user name (DOMAIN\\user or user@domain), the password, and that the account may "
                "use WinRM there (a member of Remote Management Users or Administrators).",
            )
        cert = next((c for c in causes if isinstance(c, ssl.SSLCertVerificationError)), None)
        if cert is not None:
            return VantageError(
                f"The TLS certificate of {where} did not verify ({self._scrub(cert.verify_message or str(cert))})",
                reason="tls",
                hint="Pass the CA certificate that signed the WinRM listener's certificate with the WinRM CA file "
                "option, and connect by the name the certificate holds; adprep verifies certificates by "
                "default and never turns that off on its own.",
            )
        tls = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
        if tls is not None or any(isinstance(c, requests.exceptions.SSLError) for c in causes):
            detail = getattr(tls, "reason", None) or type(tls or e).__name__
            return VantageError(
                f"The TLS handshake with {where} failed ({self._scrub(str(detail))})",
                reason="tls",
                hint="Check that this port is WinRM's HTTPS listener (5986; 5985 is plain HTTP: use winrm:// "
                "for it) and that it has a certificate bound (winrm enumerate winrm/config/listener).",
            )
        if any(isinstance(c, socket.gaierror) or type(c).__name__ == "NameResolutionError" for c in causes):
            return VantageError(
                f"The name {self.endpoint.host} does not resolve",
                reason="unreachable",
                hint="Check the host name, or give the host's address.",
            )
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return VantageError(
                f"{where} refused the connection",
                reason="unreachable",
                hint="Check that WinRM listens on that port (HTTPS 5986: winrm quickconfig -transport:https; "
                "HTTP 5985) and that no firewall rejects it.",
            )
        if any(isinstance(c, requests.exceptions.Timeout | TimeoutError) for c in causes):
            return VantageError(
                f"{where} did not answer within {self.endpoint.timeout:g} s",
                reason="unreachable",
                hint="Check the address, the port (5986 for HTTPS, 5985 for HTTP) and the firewalls on the way.",
            )
        if any(isinstance(c, requests.exceptions.ConnectionError | ConnectionError) for c in causes):
            return VantageError(
                f"{where} could not be reached ({self._scrub(str(e))})",
                reason="unreachable",
                hint="Check the address, the port (5986 for HTTPS, 5985 for HTTP) and the firewalls on the way.",
            )
        fault = next((c for c in causes if isinstance(c, winrm_errors.WSManFaultError)), None)
        if fault is not None:
            if fault.wsman_fault_code == 5:  # ERROR_ACCESS_DENIED
                return VantageError(
                    f"{where} denied {self.endpoint.user} the use of a remote shell",
                    reason="auth",
                    hint="The account must be in Remote Management Users or Administrators on that host.",
                )
            return VantageError(
                f"{where} refused the request ({self._scrub(fault.reason)})",
                reason="failed",
                hint="Check the WinRM service's quotas and its event log (Microsoft-Windows-WinRM/Operational).",
            )
        if isinstance(e, winrm_errors.WinRMTransportError):
            return VantageError(
                f"{where} answered HTTP {e.code}, not WS-Management",
                reason="protocol",
                hint="Check the port: 5986 for WinRM over HTTPS, 5985 for HTTP.",
            )
        return VantageError(
            f"{where} answered something that is not WS-Management ({type(e).__name__})",
            reason="protocol",
            hint="Check the port: 5986 for WinRM over HTTPS, 5985 for HTTP.",
        )

    def _scrub(self, text: str) -> str:
        """``text`` without the password, should a library ever echo it."""
        secret = self.endpoint.password.reveal()
        return text.replace(secret, "***") if secret else text


def _close_shell(shell: _Shell) -> None:
    """Delete the shell (WS-Transfer Delete) and drop the session's connections; never raises."""
    with contextlib.suppress(Exception):
        shell.protocol.close_shell(shell.shell_id)


def _causes(e: BaseException) -> Iterator[BaseException]:
    """``e`` and what lies under it: causes, contexts, and urllib3's ``reason`` and wrapped errors."""
    seen: set[int] = set()
    todo: list[BaseException] = [e]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nested in (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            *current.args,
        ):
            if isinstance(nested, BaseException):
                todo.append(nested)


_CLIXML_STRING = re.compile(r'<S S="Error">(.*?)</S>', re.S)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def clixml_text(stderr: bytes) -> str:
    """powershell.exe's stderr as text: with -EncodedCommand it writes errors as CLIXML (``#< CLIXML``)."""
    text = stderr.decode("utf-8", "replace")
    if "#< CLIXML" not in text:
        return text.strip()
    plain = re.sub(r"#< CLIXML\r?\n?|<Objs.*?</Objs>", "", text, flags=re.S).strip()
    strings = "".join(_CLIXML_STRING.findall(text))
    decoded = html.unescape(_CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), strings))
    return "\n".join(part for part in (decoded.strip(), plain) if part)
