"""ICMP echo (RFC 792 for IPv4, RFC 4443 §4 for IPv6): build a request, read what came back. Pure.

An echo request is type 8 (ICMPv6: 128), code 0, a checksum, an identifier, a sequence number and a
payload; the reply (0; ICMPv6: 129) carries the same identifier, sequence and payload back. A router
or the host that cannot deliver it answers "destination unreachable" (3; ICMPv6: 1) quoting the
start of the request, so the quoted identifier tells whose request it was.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from adprep.errors import WireFormatError

ECHO_REQUEST_V4, ECHO_REPLY_V4, UNREACHABLE_V4 = 8, 0, 3
ECHO_REQUEST_V6, ECHO_REPLY_V6, UNREACHABLE_V6 = 128, 129, 1

#: RFC 792 destination-unreachable codes, for the report.
UNREACHABLE_CODES_V4 = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "communication administratively prohibited",
}
#: RFC 4443 §3.1 destination-unreachable codes.
UNREACHABLE_CODES_V6 = {
    0: "no route to destination",
    1: "communication administratively prohibited",
    3: "address unreachable",
    4: "port unreachable",
    5: "source address failed ingress/egress policy",
    6: "reject route to destination",
}


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): one's complement of the one's-complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_echo_request(ident: int, sequence: int, payload: bytes, *, v6: bool = False) -> bytes:
    """An echo request. The IPv4 checksum is filled in; for ICMPv6 the kernel computes it (it covers
    a pseudo-header with addresses only the kernel knows, RFC 4443 §2.3)."""
    kind = ECHO_REQUEST_V6 if v6 else ECHO_REQUEST_V4
    header = struct.pack("!BBHHH", kind, 0, 0, ident & 0xFFFF, sequence & 0xFFFF)
    if v6:
        return header + payload
    return (
        struct.pack("!BBHHH", kind, 0, checksum(header + payload), ident & 0xFFFF, sequence & 0xFFFF)
        + payload
    )


@dataclass(frozen=True)
class IcmpMessage:
    """What one received ICMP message says about an echo request."""

    kind: Literal["echo_reply", "unreachable", "other"]
    ident: int | None
    """The echo identifier: the reply's own, or the one quoted in an error."""
    sequence: int | None
    detail: str
    """e.g. ``echo reply`` or ``host unreachable``."""


def strip_ipv4_header(packet: bytes) -> bytes:
    """The ICMP message of a raw IPv4 packet (raw sockets receive the IP header too)."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        raise WireFormatError("Not an IPv4 packet.", offset=0)
    length = (packet[0] & 0x0F) * 4
    if length < 20 or len(packet) < length:
        raise WireFormatError("Truncated IPv4 header.", offset=0)
    return packet[length:]


def parse_icmp(message: bytes, *, v6: bool = False) -> IcmpMessage:
    """Read an ICMP message (without its IP header); raises :class:`WireFormatError` if too short."""
    if len(message) < 8:
        raise WireFormatError("Truncated ICMP message.", offset=len(message))
    kind, code = message[0], message[1]
    reply, unreachable = (ECHO_REPLY_V6, UNREACHABLE_V6) if v6 else (ECHO_REPLY_V4, UNREACHABLE_V4)
    if kind == reply:
        ident, sequence = struct.unpack_from("!HH", message, 4)
        return IcmpMessage("echo_reply", ident, sequence, "echo reply")
    if kind == unreachable:
        codes = UNREACHABLE_CODES_V6 if v6 else UNREACHABLE_CODES_V4
        detail = codes.get(code, f"destination unreachable (code {code})")
        quoted = message[8:]
        try:
            inner = quoted[40:] if v6 else strip_ipv4_header(quoted)
        except WireFormatError:
            return IcmpMessage("unreachable", None, None, detail)
        if len(inner) >= 8:
            ident, sequence = struct.unpack_from("!HH", inner, 4)
            return IcmpMessage("unreachable", ident, sequence, detail)
        return IcmpMessage("unreachable", None, None, detail)
    return IcmpMessage("other", None, None, f"ICMP type {kind} code {code}")
