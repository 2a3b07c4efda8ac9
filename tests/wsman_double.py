"""A WS-Management endpoint double: just enough of a Windows WinRM listener for pywinrm, on 127.0.0.1.

Built from the documented messages of MS-WSMV (3.1.4, the text-based command shell, resource
``windows/shell/cmd``): Create → a ShellId; Command → a CommandId; Send → the command's stdin;
Receive → stdout/stderr (base64 streams) and ``CommandState`` Running or Done with an ExitCode, or the
OperationTimeout fault (WSManFault 2150858793) when nothing came in time; Signal terminate; Delete.
Every answer carries ``a:RelatesTo`` the request's MessageID, as WS-Addressing asks.

HTTP authentication is NTLM, as a Windows listener offers it under ``Negotiate``, with pyspnego's
acceptor (credentials from an ``NTLM_USER_FILE``): over HTTPS with channel binding (the
``tls-server-end-point`` of RFC 5929, which pywinrm sends); over plain HTTP with MS-WSMV 2.2.9.1.1
message encryption (``multipart/encrypted``, sealed with the NTLM session), which is the only way
pywinrm speaks NTLM over HTTP.

PowerShell cannot run here, so the double stands in for powershell.exe: it checks the command line is
adprep's bootstrap, that the script that came on stdin before the marker line is exactly
``agent.ps1``, and then runs the batch lines through the Python relay (``agent.py``, real sockets on
loopback) and answers with its output. ``mode`` makes it fail the ways a real host fails.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import ipaddress
import os
import re
import struct
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import spnego
import spnego.channel_bindings
import spnego.exceptions

S = "http://www.w3.org/2003/05/soap-envelope"
A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
RSP = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
X = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
CMD_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
CREATE = X + "/Create"
DELETE = X + "/Delete"
COMMAND = RSP + "/Command"
SEND = RSP + "/Send"
RECEIVE = RSP + "/Receive"
SIGNAL = RSP + "/Signal"
TERMINATE = RSP + "/signal/terminate"
DONE = RSP + "/CommandState/Done"
RUNNING = RSP + "/CommandState/Running"
#: The envelope size pywinrm announces (w:MaxEnvelopeSize); a larger request is a fault.
MAX_ENVELOPE = 153600
#: MS-WSMV 2.2.9.1.1: the MIME boundary of an encrypted message.
BOUNDARY = b"--Encrypted Boundary"
SPNEGO_ENCRYPTED = b"application/HTTP-SPNEGO-session-encrypted"
#: What PowerShell says when an execution policy refuses a script (about_Execution_Policies).
POLICY_ERROR = (
    "File C:\\adprep\\relay.ps1 cannot be loaded because running scripts is disabled on this system. "
    "For more information, see about_Execution_Policies at https:/go.microsoft.com/fwlink/?LinkID=135170."
)
LANGUAGE_ERROR = (
    "Cannot invoke method. Method invocation is supported only on core types in this language mode."
)

Mode = Literal["ok", "reject_auth", "policy", "constrained", "garbage", "slow"]


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""

    ca: Path
    cert: Path
    key: Path


def make_tls(directory: Path, *, name: str = "127.0.0.1") -> TlsFiles:
    """Generate a CA and a server certificate for ``name`` (an IP address SAN and ``localhost``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "adprep test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(name)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


@dataclass
class Command:
    """One command in a shell: powershell.exe as far as the client can tell."""

    command_id: str
    command_line: str
    stdin: bytearray = field(default_factory=bytearray)
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    sent_out: int = 0
    sent_err: int = 0
    exit_code: int | None = None
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Stats:
    shells_created: int = 0
    shells_deleted: int = 0
    commands: int = 0
    running: int = 0
    max_running: int = 0
    largest_envelope: int = 0
    sends: int = 0
    receive_timeouts: int = 0
    encrypted_messages: int = 0


class WsmanFault(Exception):
    def __init__(self, subcode: str, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.subcode, self.reason, self.code = subcode, reason, code


class WsmanDouble:
    """A WinRM listener on 127.0.0.1 (HTTP or HTTPS) that runs adprep's relay the way Windows would."""

    def __init__(
        self,
        *,
        user: str,
        password: str,
        user_file: Path,
        agent_ps1: Path,
        agent_py: Path,
        bootstrap: str,
        marker: str,
        tls: TlsFiles | None = None,
        mode: Mode = "ok",
        delay: float = 0.0,
    ) -> None:
        domain, _, name = user.rpartition("\\")
        # pyspnego's acceptor reads NTLM_USER_FILE: DOMAIN:USER:PASSWORD lines (Heimdal's format).
        user_file.write_text(f"{domain}:{name}:{password}\n")
        self._user_file = user_file
        self.agent_ps1_sha256 = hashlib.sha256(agent_ps1.read_bytes().rstrip(b"\n")).hexdigest()
        self.agent_py = agent_py
        self.bootstrap = bootstrap
        self.marker = marker.encode("ascii")
        self.tls = tls
        self.mode: Mode = mode
        self.delay = delay
        self.shells: dict[str, dict[str, Command]] = {}
        self.stats = Stats()
        self.problems: list[str] = []
        self.seen: list[bytes] = []
        """Every command line and stdin the host got (the password must be in none)."""
        """What a real Windows host would have refused, or the double could not check."""
        self.lock = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._saved_env: str | None = None

    # -- life cycle --------------------------------------------------------------------------------

    def __enter__(self) -> WsmanDouble:
        self._saved_env = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(self._user_file)
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        with self.lock:
            for commands in self.shells.values():
                for command in commands.values():
                    _kill(command)
            self.shells.clear()
        if self._saved_env is None:
            os.environ.pop("NTLM_USER_FILE", None)
        else:
            os.environ["NTLM_USER_FILE"] = self._saved_env

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def channel_bindings(self) -> spnego.channel_bindings.GssChannelBindings | None:
        if self.tls is None:
            return None
        der = ssl_der(self.tls.cert)
        # RFC 5929 4.1: tls-server-end-point is the certificate's hash (SHA-256 for a SHA-256 signature).
        return spnego.channel_bindings.GssChannelBindings(
            application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest()
        )

    # -- WS-Management ---------------------------------------------------------------------------

    def handle(self, soap: bytes) -> tuple[int, bytes]:
        """One SOAP request → (HTTP status, SOAP answer)."""
        with self.lock:
            self.stats.largest_envelope = max(self.stats.largest_envelope, len(soap))
        message_id = "uuid:" + str(uuid.uuid4())
        try:
            root = ET.fromstring(soap)
            header = _child(root, S, "Header")
            body = _child(root, S, "Body")
            action = _text(header, A, "Action")
            message_id = _text(header, A, "MessageID")
            if len(soap) > MAX_ENVELOPE:
                raise WsmanFault("w:EncodingLimit", "The request is larger than MaxEnvelopeSize.")
            if _text(header, W, "ResourceURI") != CMD_URI:
                raise WsmanFault(
                    "w:DestinationUnreachable", "The WS-Management service does not support the resource."
                )
            if action == CREATE:
                return 200, self._create(message_id, body)
            shell_id = _selector(header, "ShellId")
            with self.lock:
                if shell_id not in self.shells:
                    raise WsmanFault(
                        "w:InvalidSelectors", "The shell was not found on the server.", 2150858843
                    )
            if action == DELETE:
                return 200, self._delete(message_id, shell_id)
            if action == COMMAND:
                return 200, self._command(message_id, shell_id, body)
            if action == SEND:
                return 200, self._send(message_id, shell_id, body)
            if action == RECEIVE:
                return 200, self._receive(
                    message_id, shell_id, body, _seconds(_text(header, W, "OperationTimeout"))
                )
            if action == SIGNAL:
                return 200, self._signal(message_id, shell_id, body)
            raise WsmanFault("a:ActionNotSupported", f"The action {action} is not supported.")
        except WsmanFault as f:
            return 500, _fault(message_id, f)
        except (ET.ParseError, LookupError) as e:
            self.problems.append(f"a request the double could not read: {e!r}")
            return 500, _fault(message_id, WsmanFault("w:SchemaValidationError", str(e)))

    def _create(self, relates_to: str, body: ET.Element) -> bytes:
        shell = _child(body, RSP, "Shell")
        streams = (_text(shell, RSP, "InputStreams"), _text(shell, RSP, "OutputStreams"))
        if streams != ("stdin", "stdout stderr"):
            self.problems.append(f"a shell with streams {streams}")
        shell_id = str(uuid.uuid4()).upper()
        with self.lock:
            self.shells[shell_id] = {}
            self.stats.shells_created += 1
        # wst:ResourceCreated: the new shell's EPR, its ShellId as a selector (pywinrm reads that one).
        return _envelope(
            X + "/CreateResponse",
            relates_to,
            f"<x:ResourceCreated><a:Address>http://127.0.0.1:{self.port}/wsman</a:Address>"
            f"<a:ReferenceParameters><w:ResourceURI>{CMD_URI}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
            f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>"
            f"<rsp:ResourceUri>{CMD_URI}</rsp:ResourceUri><rsp:InputStreams>stdin</rsp:InputStreams>"
            f"<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>",
        )

    def _delete(self, relates_to: str, shell_id: str) -> bytes:
        with self.lock:
            for command in self.shells.pop(shell_id).values():
                _kill(command)
            self.stats.shells_deleted += 1
        return _envelope(X + "/DeleteResponse", relates_to, "")

    def _command(self, relates_to: str, shell_id: str, body: ET.Element) -> bytes:
        line = _child(body, RSP, "CommandLine")
        command_line = _text(line, RSP, "Command") + " " + (_find_text(line, RSP, "Arguments") or "")
        if len(command_line) > 8191:
            raise WsmanFault("w:InternalError", "The command line is too long.")  # cmd.exe's limit
        command = Command(str(uuid.uuid4()).upper(), command_line)
        with self.lock:
            self.seen.append(command_line.encode())
            self.shells[shell_id][command.command_id] = command
            self.stats.commands += 1
        return _envelope(
            RSP + "/CommandResponse",
            relates_to,
            f"<rsp:CommandResponse><rsp:CommandId>{command.command_id}</rsp:CommandId></rsp:CommandResponse>",
        )

    def _send(self, relates_to: str, shell_id: str, body: ET.Element) -> bytes:
        stream = _child(_child(body, RSP, "Send"), RSP, "Stream")
        command = self._find(shell_id, stream.get("CommandId", ""))
        if stream.get("Name") != "stdin":
            raise WsmanFault("w:InvalidParameter", "Only stdin can be sent to.")
        with self.lock:
            self.stats.sends += 1
            command.stdin += base64.b64decode(stream.text or "")
        if stream.get("End", "false").lower() == "true":
            with self.lock:
                self.seen.append(bytes(command.stdin))
            threading.Thread(target=self._powershell, args=(command,), daemon=True).start()
        return _envelope(RSP + "/SendResponse", relates_to, "<rsp:SendResponse/>")

    def _receive(self, relates_to: str, shell_id: str, body: ET.Element, wait: float) -> bytes:
        desired = _child(_child(body, RSP, "Receive"), RSP, "DesiredStream")
        command = self._find(shell_id, desired.get("CommandId", ""))
        deadline = time.monotonic() + wait
        with self.lock:
            while (
                command.exit_code is None
                and command.sent_out == len(command.stdout)
                and command.sent_err == len(command.stderr)
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    # MS-WSMV 3.1.4.14: nothing within OperationTimeout; the client asks again.
                    self.stats.receive_timeouts += 1
                    raise WsmanFault(
                        "w:TimedOut",
                        "The WS-Management service cannot complete the operation within the time specified in "
                        "OperationTimeout.",
                        2150858793,
                    )
                self.lock.wait(left)
            out, err = bytes(command.stdout[command.sent_out :]), bytes(command.stderr[command.sent_err :])
            command.sent_out += len(out)
            command.sent_err += len(err)
            exit_code = command.exit_code
        parts = [
            f'<rsp:Stream Name="{name}" CommandId="{command.command_id}">{base64.b64encode(data).decode()}</rsp:Stream>'
            for name, data in (("stdout", out), ("stderr", err))
            if data
        ]
        if exit_code is None:
            parts.append(f'<rsp:CommandState CommandId="{command.command_id}" State="{RUNNING}"/>')
        else:
            parts.append(
                f'<rsp:CommandState CommandId="{command.command_id}" State="{DONE}">'
                f"<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>"
            )
        return _envelope(
            RSP + "/ReceiveResponse",
            relates_to,
            "<rsp:ReceiveResponse>" + "".join(parts) + "</rsp:ReceiveResponse>",
        )

    def _signal(self, relates_to: str, shell_id: str, body: ET.Element) -> bytes:
        signal = _child(body, RSP, "Signal")
        command = self._find(shell_id, signal.get("CommandId", ""))
        if _text(signal, RSP, "Code") == TERMINATE:
            with self.lock:
                _kill(command)
                self.shells[shell_id].pop(command.command_id, None)
        return _envelope(RSP + "/SignalResponse", relates_to, "<rsp:SignalResponse/>")

    def _find(self, shell_id: str, command_id: str) -> Command:
        with self.lock:
            command = self.shells[shell_id].get(command_id)
        if command is None:
            raise WsmanFault("w:InvalidParameter", "The command was not found in the shell.")
        return command

    # -- powershell.exe, as far as the client can tell ------------------------------------------

    def _powershell(self, command: Command) -> None:
        with self.lock:
            self.stats.running += 1
            self.stats.max_running = max(self.stats.max_running, self.stats.running)
        try:
            self._run_relay(command)
        finally:
            with self.lock:
                self.stats.running -= 1
                self.lock.notify_all()

    def _run_relay(self, command: Command) -> None:
        problem = self._check(command)
        if problem is not None:
            self.problems.append(problem)
            return self._finish(command, b"", problem.encode(), 1)
        if self.mode == "policy":
            return self._finish(command, b"", _clixml_error(POLICY_ERROR), 1)
        if self.mode == "constrained":
            return self._finish(command, b"", _clixml_error(LANGUAGE_ERROR), 1)
        if self.mode == "garbage":
            return self._finish(
                command, b"Windows PowerShell\r\nCopyright (C) Microsoft Corporation.\r\n", b"", 0
            )
        if self.mode == "slow":
            time.sleep(self.delay)
        batch = bytes(command.stdin).split(b"\n" + self.marker + b"\n", 1)[1]
        with subprocess.Popen(
            [sys.executable, str(self.agent_py)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process:
            with self.lock:
                command.process = process
            readers = [
                threading.Thread(target=self._pump, args=(process.stdout, command.stdout), daemon=True),
                threading.Thread(target=self._pump, args=(process.stderr, command.stderr), daemon=True),
            ]
            for reader in readers:
                reader.start()
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(batch)
                process.stdin.close()
            status = process.wait()
            for reader in readers:
                reader.join()
        self._finish(command, b"", b"", status)

    def _check(self, command: Command) -> str | None:
        """What powershell.exe would have refused or run differently than adprep intends."""
        words = command.command_line.split()
        if words[:5] != ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"]:
            return f"not adprep's powershell.exe command line: {command.command_line[:120]}"
        if "-EncodedCommand" not in words or words.index("-EncodedCommand") + 1 >= len(words):
            return "no -EncodedCommand"
        encoded = words[words.index("-EncodedCommand") + 1]
        if base64.b64decode(encoded).decode("utf-16-le") != self.bootstrap:
            return "the -EncodedCommand is not adprep's bootstrap (base64 of UTF-16LE)"
        stdin = bytes(command.stdin)
        if not stdin.isascii():
            return "stdin is not ASCII (powershell.exe reads it in the console code page)"
        script, found, _ = stdin.partition(b"\n" + self.marker + b"\n")
        if not found:
            return "no marker line between the script and the batch lines"
        if hashlib.sha256(script).hexdigest() != self.agent_ps1_sha256:
            return "the script on stdin is not agent.ps1"
        return None

    def _pump(self, stream: Any, into: bytearray) -> None:
        while chunk := stream.read1(65536):
            with self.lock:
                into += chunk
                self.lock.notify_all()

    def _finish(self, command: Command, stdout: bytes, stderr: bytes, status: int) -> None:
        with self.lock:
            command.stdout += stdout
            command.stderr += stderr
            command.exit_code = status
            self.lock.notify_all()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, double: WsmanDouble) -> None:
        self.double = double
        self.tls_context = None
        if double.tls is not None:
            import ssl

            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_context.load_cert_chain(double.tls.cert, double.tls.key)
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls_context is not None:
            # The handshake in the connection's own thread: a client that gives up (untrusted
            # certificate) stops only that thread.
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except OSError:
                return
            with request:
                self.RequestHandlerClass(request, client_address, self)
            return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up: nothing to report


class _Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection: NTLM authenticates the connection, not each request (as HTTP.sys does)."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.ntlm: Any = None
        self.authenticated = False

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        double = self.server.double
        if self.path != "/wsman":
            return self._answer(404, b"", "text/plain")
        if not self.authenticated and not self._authenticate(double):
            return
        if not body:
            return self._answer(200, b"", "application/soap+xml;charset=UTF-8")  # pywinrm's encryption set-up
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/encrypted"):
            with double.lock:
                double.stats.encrypted_messages += 1
            status, answer = double.handle(self._unseal(body))
            return self._answer(
                status,
                self._seal(answer),
                f'multipart/encrypted;protocol="{SPNEGO_ENCRYPTED.decode()}";boundary="Encrypted Boundary"',
            )
        if double.tls is None:
            # A listener with AllowUnencrypted false (Windows' default) refuses plain SOAP over HTTP.
            double.problems.append("an unencrypted message over HTTP")
            return self._answer(401, b"", "text/plain")
        if not content_type.startswith("application/soap+xml"):
            double.problems.append(f"a message of type {content_type!r}")
        status, answer = double.handle(body)
        self._answer(status, answer, "application/soap+xml;charset=UTF-8")

    def _authenticate(self, double: WsmanDouble) -> bool:
        """One leg of NTLM inside HTTP's Negotiate (RFC 4559); True once the connection is authenticated."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("negotiate", "ntlm") or not token:
            self.ntlm = None
            self._answer(401, b"", "text/plain", {"WWW-Authenticate": "Negotiate"})
            return False
        if self.ntlm is None:
            self.ntlm = spnego.server(protocol="ntlm", channel_bindings=double.channel_bindings)
        try:
            out = self.ntlm.step(base64.b64decode(token))
        except spnego.exceptions.SpnegoError:
            self.ntlm = None
            self._answer(401, b"", "text/plain", {"WWW-Authenticate": "Negotiate"})
            return False
        if not self.ntlm.complete:
            self._answer(
                401, b"", "text/plain", {"WWW-Authenticate": f"{scheme} {base64.b64encode(out).decode()}"}
            )
            return False
        if double.mode == "reject_auth":
            # The password was right, but the account may not log in here (not in Remote Management Users).
            self.ntlm = None
            self._answer(401, b"", "text/plain", {"WWW-Authenticate": "Negotiate"})
            return False
        self.authenticated = True
        return True

    def _unseal(self, body: bytes) -> bytes:
        # MS-WSMV 2.2.9.1.1: the OriginalContent part names the length; the octet-stream part is a
        # 4-byte little-endian signature length, the signature, then the sealed message.
        parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
        length = int(re.search(rb"Length=(\d+)", parts[0]).group(1))  # type: ignore[union-attr]
        payload = parts[1].removeprefix(b"\tContent-Type: application/octet-stream\r\n")
        payload = payload.removesuffix(BOUNDARY + b"--\r\n")
        (size,) = struct.unpack("<I", payload[:4])
        message = self.ntlm.unwrap(payload[4 : 4 + size] + payload[4 + size :]).data
        assert len(message) == length, "encrypted length does not match OriginalContent"
        return bytes(message)

    def _seal(self, message: bytes) -> bytes:
        wrapped = self.ntlm.wrap(message, encrypt=True).data
        signature, sealed = wrapped[:16], wrapped[16:]
        return (
            BOUNDARY + b"\r\n\tContent-Type: " + SPNEGO_ENCRYPTED + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(message)).encode()
            + b"\r\n" + BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<I", len(signature)) + signature + sealed + BOUNDARY + b"--\r\n"
        )  # fmt: skip

    def _answer(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


# -- SOAP -------------------------------------------------------------------------------------------


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        f'<s:Envelope xml:lang="en-US" xmlns:s="{S}" xmlns:a="{A}" xmlns:x="{X}" xmlns:w="{W}" '
        f'xmlns:rsp="{RSP}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _fault(relates_to: str, fault: WsmanFault) -> bytes:
    code = f' Code="{fault.code}"' if fault.code is not None else ""
    return _envelope(
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
        relates_to,
        f"<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"{code} '
        f'Machine="127.0.0.1"><f:Message>{escape(fault.reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>',
    )


def _clixml_error(text: str) -> bytes:
    """An error as powershell.exe -EncodedCommand writes it to stderr: CLIXML with _x000D__x000A_ escapes."""
    line = escape(text).replace("\r\n", "_x000D__x000A_")
    return (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        f'<S S="Error">{line}_x000D__x000A_</S>'
        '<S S="Error">    + CategoryInfo          : SecurityError: (:) [], PSSecurityException_x000D__x000A_</S>'
        "</Objs>"
    ).encode()


def _child(parent: ET.Element, ns: str, name: str) -> ET.Element:
    found = parent.find(f"{{{ns}}}{name}")
    if found is None:
        raise LookupError(f"no {name}")
    return found


def _find_text(parent: ET.Element, ns: str, name: str) -> str | None:
    found = parent.find(f"{{{ns}}}{name}")
    return None if found is None else (found.text or "")


def _text(parent: ET.Element, ns: str, name: str) -> str:
    return (_child(parent, ns, name).text or "").strip()


def _selector(header: ET.Element, name: str) -> str:
    for selector in _iter(header, W, "Selector"):
        if selector.get("Name") == name:
            return (selector.text or "").strip()
    raise WsmanFault("w:InvalidSelectors", f"The request has no {name} selector.")


def _iter(parent: ET.Element, ns: str, name: str) -> Iterator[ET.Element]:
    return parent.iter(f"{{{ns}}}{name}")


def _seconds(duration: str) -> float:
    """An xs:duration such as PT20S or PT20.000S."""
    match = re.fullmatch(r"PT(\d+(?:\.\d+)?)S", duration)
    return float(match.group(1)) if match else 20.0


def _kill(command: Command) -> None:
    if command.process is not None and command.process.poll() is None:
        command.process.kill()


def ssl_der(pem: Path) -> bytes:
    import ssl

    return ssl.PEM_cert_to_DER_cert(pem.read_text())
