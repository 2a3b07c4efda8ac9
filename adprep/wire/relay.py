"""The relay protocol: what adprep asks a relay at a remote vantage, and what the relay answers. Pure.

A relay only opens sockets; adprep builds every request and decodes every reply on the admin's host
(so verdicts from a relay come from the same checks as local ones, and secrets never leave).
The Python relay (``adprep/transport/relay/agent.py``, stdlib only, Python 3.7+) and the PowerShell
relay (``agent.ps1``, Windows PowerShell 5.1) speak the same JSON, one object per line, UTF-8.

Relay → adprep, once, first line (the relay is alive and which one it is)::

    {"relay": "adprep", "v": 1, "impl": "python" | "powershell", "version": "3.11.2", "host": "ip-10-1-1-23"}

adprep → relay, a batch (any number of batches, one per line; the relay answers each when all of
its ops are done, batches run concurrently, stdin EOF ends the relay)::

    {"id": 7, "concurrency": 256, "ops": [OP, ...]}

Relay → adprep, the batch's results: each op's as soon as it is done (the Python relay), so a
quick probe is not held back by a slow one in the same batch::

    {"id": 7, "i": 0, "result": RESULT}

or all of them at once, in the order of the ops (the PowerShell relay, which runs once per batch)::

    {"id": 7, "results": [RESULT, ...]}

Ops and their results (``data``/``reply`` are base64; ``ms`` is elapsed milliseconds; ``source``
is the local address the socket used, or null; ``errno`` the symbolic errno name, or null):

``{"op": "tcp", "host": A, "port": P, "timeout": T}``
    One TCP connect, closed at once.
    → ``{"outcome": "open" | "refused" | "timeout" | "error", "ms", "errno", "source"}``

``{"op": "udp", "host": A, "port": P, "timeout": T, "interval": I, "data": [B64, ...]}``
    A connected UDP socket; datagram k of ``data`` goes out at k × I seconds (a retransmission
    when the previous one got no answer); the first datagram back ends the exchange; ``timeout``
    bounds the whole exchange. ICMP port unreachable is ``refused``.
    → ``{"outcome": "reply" | "refused" | "silent" | "error", "ms", "attempts", "reply": B64 | null,
    "errno", "source"}``

``{"op": "tcpx", "host": A, "port": P, "timeout": T, "framing": F, "data": [B64, ...]}``
    Connect, then for each message: send it, read one framed reply. ``timeout`` bounds the whole
    exchange. Framings: ``u16`` (2-byte big-endian length prefix: DNS over TCP, RFC 1035 §4.2.2),
    ``u32`` (4-byte big-endian: Kerberos over TCP, RFC 4120 §7.2.2), ``dcerpc`` (the fragment
    length at bytes 8-9, little-endian: MS-RPCE / C706 §12.6). Replies include their framing bytes.
    → ``{"outcome": "reply" | "refused" | "timeout" | "closed" | "error", "ms", "replies": [B64, ...],
    "errno", "source"}``  (``closed``: the peer closed before a whole reply came; ``replies`` holds
    the whole ones that did.)

``{"op": "route", "host": A}``
    The local address the kernel would use to reach A (a UDP connect that sends nothing).
    → ``{"source": ADDRESS | null}``

Any op the relay cannot run answers ``{"outcome": "error", "errno": "EINVAL", "detail": "..."}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adprep.errors import WireFormatError

PROTOCOL_VERSION = 1
Framing = Literal["u16", "u32", "dcerpc"]
FRAMINGS: tuple[Framing, ...] = ("u16", "u32", "dcerpc")
#: A reply line longer than this is not from a relay (bounds memory on a hostile far end).
MAX_LINE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Hello:
    """The relay's first line: proof it started, and what it is."""

    impl: str
    version: str
    host: str
    error: str | None = None
    """Why the relay cannot serve (e.g. a Python older than it needs); it exits after saying so."""


def b64(data: bytes) -> str:
    """Bytes as base64 text (the relay protocol carries bytes so)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    """Base64 text back to bytes; :class:`WireFormatError` naming ``what`` when it is not."""
    if not isinstance(text, str):
        raise WireFormatError(f"relay reply: {what} is not base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise WireFormatError(f"relay reply: {what} is not base64") from e


def tcp_op(host: str, port: int, timeout: float) -> dict[str, Any]:
    """The relay operation: a TCP connect to ``host``:``port``."""
    return {"op": "tcp", "host": host, "port": port, "timeout": timeout}


def udp_op(
    host: str, port: int, datagrams: Sequence[bytes], *, timeout: float, interval: float
) -> dict[str, Any]:
    """The relay operation: a UDP exchange (``datagrams`` sent ``interval`` apart until a reply)."""
    return {
        "op": "udp",
        "host": host,
        "port": port,
        "timeout": timeout,
        "interval": interval,
        "data": [b64(d) for d in datagrams],
    }


def tcpx_op(
    host: str, port: int, messages: Sequence[bytes], *, framing: Framing, timeout: float
) -> dict[str, Any]:
    """The relay operation: a request/response conversation over one TCP connection."""
    return {
        "op": "tcpx",
        "host": host,
        "port": port,
        "timeout": timeout,
        "framing": framing,
        "data": [b64(m) for m in messages],
    }


def route_op(host: str) -> dict[str, Any]:
    """The relay operation: which source address the far end uses to reach ``host``."""
    return {"op": "route", "host": host}


def encode_batch(batch_id: int, ops: Sequence[Mapping[str, Any]], *, concurrency: int) -> bytes:
    """One request line."""
    return json.dumps({"id": batch_id, "concurrency": concurrency, "ops": list(ops)}).encode() + b"\n"


def parse_hello(line: bytes) -> Hello:
    """The relay's first line, or :class:`WireFormatError` when it is not an adprep relay's."""
    obj = _json_object(line, "first line")
    if obj.get("relay") != "adprep":
        raise WireFormatError("the far end did not start adprep's relay")
    if obj.get("v") != PROTOCOL_VERSION:
        raise WireFormatError(
            f"the relay speaks protocol version {obj.get('v')!r}, adprep {PROTOCOL_VERSION}"
        )
    error = obj.get("error")
    return Hello(
        impl=str(obj.get("impl", "?")),
        version=str(obj.get("version", "?")),
        host=str(obj.get("host", "?")),
        error=None if error is None else str(error),
    )


def parse_results(line: bytes) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """A result line: the batch id and (op index, result) pairs, in either of the two forms."""
    obj = _json_object(line, "result line")
    batch_id = obj.get("id")
    if not isinstance(batch_id, int):
        raise WireFormatError("relay reply: a result line without a batch id")
    if "results" in obj:
        results = obj["results"]
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise WireFormatError("relay reply: results is not a list of objects")
        return batch_id, list(enumerate(results))
    index, result = obj.get("i"), obj.get("result")
    if not isinstance(index, int) or not isinstance(result, dict):
        raise WireFormatError("relay reply: a result line without an op index and a result object")
    return batch_id, [(index, result)]


def _json_object(line: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise WireFormatError(f"relay reply: the {what} is not JSON") from e
    if not isinstance(obj, dict):
        raise WireFormatError(f"relay reply: the {what} is not a JSON object")
    return obj
