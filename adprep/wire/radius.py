"""RADIUS packets (RFC 2865): encode an Access-Request, decode and verify a reply.

Owns the Request Authenticator and Response Authenticator (RFC 2865 §3), User-Password hiding
(RFC 2865 §5.2), Vendor-Specific attributes (RFC 2865 §5.26) and Message-Authenticator
(RFC 3579 §3.2, HMAC-MD5). Pure: bytes in, bytes or values out; no sockets.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from adprep.errors import WireFormatError

HEADER_LEN = 20
AUTHENTICATOR_LEN = 16
MAX_PACKET_LEN = 4096  # RFC 2865 §3: Length is at most 4096.
MAX_PASSWORD_LEN = 128  # RFC 2865 §5.2: User-Password is at most 128 octets.


class Code(enum.IntEnum):
    """RFC 2865 §3 packet codes."""

    ACCESS_REQUEST = 1
    ACCESS_ACCEPT = 2
    ACCESS_REJECT = 3
    ACCESS_CHALLENGE = 11


class Attr(enum.IntEnum):
    """The attribute types adprep sends or reads (RFC 2865 §5, RFC 3579 §3.2)."""

    USER_NAME = 1
    USER_PASSWORD = 2
    CHAP_PASSWORD = 3
    NAS_IP_ADDRESS = 4
    SERVICE_TYPE = 6
    REPLY_MESSAGE = 18
    STATE = 24
    VENDOR_SPECIFIC = 26
    NAS_IDENTIFIER = 32
    CHAP_CHALLENGE = 60
    MESSAGE_AUTHENTICATOR = 80


#: RFC 2548 §2: Microsoft's vendor id (SMI Network Management Private Enterprise Code).
VENDOR_MICROSOFT = 311

MessageAuthenticatorState = Literal["valid", "invalid", "absent"]


@dataclass(frozen=True)
class Packet:
    """A decoded RADIUS packet: header fields and attributes in wire order."""

    code: int
    identifier: int
    authenticator: bytes
    attributes: tuple[tuple[int, bytes], ...]

    def get(self, attr_type: int) -> bytes | None:
        """The first value of ``attr_type``, or None."""
        for t, value in self.attributes:
            if t == attr_type:
                return value
        return None

    def vendor(self, vendor_id: int, vendor_type: int) -> bytes | None:
        """The first Vendor-Specific sub-attribute ``vendor_id``/``vendor_type``, or None."""
        for t, value in self.attributes:
            if t != Attr.VENDOR_SPECIFIC or len(value) < 6:
                continue
            if int.from_bytes(value[:4], "big") != vendor_id:
                continue
            # RFC 2865 §5.26: Vendor-Id then the vendor's own type/length/value list.
            pos = 4
            while pos + 2 <= len(value):
                vt, vl = value[pos], value[pos + 1]
                if vl < 2 or pos + vl > len(value):
                    break
                if vt == vendor_type:
                    return value[pos + 2 : pos + vl]
                pos += vl
        return None


@dataclass(frozen=True)
class AccessRequest:
    """An encoded Access-Request and the values needed to verify its reply."""

    data: bytes
    identifier: int
    authenticator: bytes


def new_request_authenticator() -> bytes:
    """RFC 2865 §3: the Request Authenticator must be unpredictable and unique."""
    return os.urandom(AUTHENTICATOR_LEN)


def encode_attribute(attr_type: int, value: bytes) -> bytes:
    """One TLV (RFC 2865 §5): values are 1-253 octets."""
    if not 1 <= len(value) <= 253:
        raise ValueError(f"RADIUS attribute {attr_type} value length {len(value)} is outside 1-253")
    return bytes((attr_type, len(value) + 2)) + value


def vendor_specific(vendor_id: int, vendor_type: int, value: bytes) -> tuple[int, bytes]:
    """A Vendor-Specific attribute holding one sub-attribute (RFC 2865 §5.26, RFC 2548 §2)."""
    return Attr.VENDOR_SPECIFIC, struct.pack("!IBB", vendor_id, vendor_type, len(value) + 2) + value


def hide_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """RFC 2865 §5.2: pad to 16-octet blocks, XOR each with MD5(secret + previous block)."""
    if len(password) > MAX_PASSWORD_LEN:
        raise ValueError(f"a User-Password is at most {MAX_PASSWORD_LEN} octets")
    padded = password.ljust(max(16, -(-len(password) // 16) * 16), b"\x00")
    out = bytearray()
    previous = authenticator
    for i in range(0, len(padded), 16):
        key = hashlib.md5(secret + previous).digest()
        block = bytes(a ^ b for a, b in zip(padded[i : i + 16], key, strict=True))
        out += block
        previous = block
    return bytes(out)


def unhide_password(hidden: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """The inverse of :func:`hide_password` (what a server does), padding removed."""
    out = bytearray()
    previous = authenticator
    for i in range(0, len(hidden), 16):
        key = hashlib.md5(secret + previous).digest()
        block = hidden[i : i + 16]
        out += bytes(a ^ b for a, b in zip(block, key, strict=False))
        previous = block
    return bytes(out).rstrip(b"\x00")


def encode_access_request(
    attributes: Sequence[tuple[int, bytes]],
    *,
    secret: bytes,
    identifier: int,
    authenticator: bytes,
    message_authenticator: bool = True,
) -> AccessRequest:
    """An Access-Request carrying ``attributes``, Message-Authenticator first when asked.

    RFC 3579 §3.2: Message-Authenticator = HMAC-MD5(secret, packet with the attribute's value
    zeroed), the packet's own Request Authenticator in the header. Putting it first is the
    BlastRADIUS (CVE-2024-3596) mitigation servers now expect.
    """
    if not 0 <= identifier <= 255 or len(authenticator) != AUTHENTICATOR_LEN:
        raise ValueError("identifier must be 0-255 and the authenticator 16 octets")
    body = b"".join(encode_attribute(t, v) for t, v in attributes)
    if message_authenticator:
        body = encode_attribute(Attr.MESSAGE_AUTHENTICATOR, b"\x00" * 16) + body
    length = HEADER_LEN + len(body)
    if length > MAX_PACKET_LEN:
        raise ValueError(f"the Access-Request would be {length} octets, above RADIUS's {MAX_PACKET_LEN}")
    data = struct.pack("!BBH", Code.ACCESS_REQUEST, identifier, length) + authenticator + body
    if message_authenticator:
        mac = hmac.new(secret, data, hashlib.md5).digest()
        # The attribute is the first one: its value starts after the header and its 2-octet TL.
        data = data[: HEADER_LEN + 2] + mac + data[HEADER_LEN + 18 :]
    return AccessRequest(data=data, identifier=identifier, authenticator=authenticator)


def encode_reply(
    code: int,
    attributes: Sequence[tuple[int, bytes]],
    *,
    secret: bytes,
    identifier: int,
    request_authenticator: bytes,
    message_authenticator: bool = True,
) -> bytes:
    """A server's reply (what a test peer sends): Message-Authenticator, then Response Authenticator.

    RFC 3579 §3.2: a reply's Message-Authenticator is computed with the Request Authenticator in the
    header; RFC 2865 §3: the Response Authenticator is then MD5(header + RequestAuth + attrs + secret).
    """
    body = b"".join(encode_attribute(t, v) for t, v in attributes)
    if message_authenticator:
        body = encode_attribute(Attr.MESSAGE_AUTHENTICATOR, b"\x00" * 16) + body
    header = struct.pack("!BBH", code, identifier, HEADER_LEN + len(body))
    if message_authenticator:
        mac = hmac.new(secret, header + request_authenticator + body, hashlib.md5).digest()
        body = body[:2] + mac + body[18:]
    response_auth = hashlib.md5(header + request_authenticator + body + secret).digest()
    return header + response_auth + body


def decode_packet(data: bytes) -> Packet:
    """Parse a packet's header and attributes (RFC 2865 §3, §5); raise WireFormatError if malformed."""
    if len(data) < HEADER_LEN:
        raise WireFormatError(f"A RADIUS packet has at least {HEADER_LEN} octets, this one {len(data)}")
    code, identifier, length = struct.unpack("!BBH", data[:4])
    # RFC 2865 §3: octets beyond Length are padding and ignored; fewer than Length is malformed.
    if length < HEADER_LEN or length > len(data) or length > MAX_PACKET_LEN:
        raise WireFormatError(f"The RADIUS Length field says {length}, the datagram has {len(data)} octets")
    attributes: list[tuple[int, bytes]] = []
    pos = HEADER_LEN
    while pos < length:
        if pos + 2 > length:
            raise WireFormatError("A RADIUS attribute header is cut off", offset=pos)
        attr_type, attr_len = data[pos], data[pos + 1]
        if attr_len < 2 or pos + attr_len > length:
            raise WireFormatError(f"RADIUS attribute {attr_type} has a bad length {attr_len}", offset=pos)
        attributes.append((attr_type, bytes(data[pos + 2 : pos + attr_len])))
        pos += attr_len
    return Packet(
        code=code,
        identifier=identifier,
        authenticator=bytes(data[4:HEADER_LEN]),
        attributes=tuple(attributes),
    )


def verify_response_authenticator(data: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    """RFC 2865 §3: ResponseAuth = MD5(Code + ID + Length + RequestAuth + Attributes + Secret)."""
    length = int.from_bytes(data[2:4], "big")
    packet = data[:length]
    expected = hashlib.md5(packet[:4] + request_authenticator + packet[HEADER_LEN:] + secret).digest()
    return hmac.compare_digest(expected, packet[4:HEADER_LEN])


def verify_message_authenticator(
    data: bytes, request_authenticator: bytes, secret: bytes
) -> MessageAuthenticatorState:
    """RFC 3579 §3.2 for a reply: HMAC-MD5 over the reply with the Request Authenticator in the
    header and the Message-Authenticator value zeroed."""
    length = int.from_bytes(data[2:4], "big")
    packet = bytearray(data[:length])
    pos = HEADER_LEN
    while pos + 2 <= length:
        attr_type, attr_len = packet[pos], packet[pos + 1]
        if attr_len < 2:
            break
        if attr_type == Attr.MESSAGE_AUTHENTICATOR:
            if attr_len != 18:
                return "invalid"
            received = bytes(packet[pos + 2 : pos + 18])
            packet[pos + 2 : pos + 18] = b"\x00" * 16
            packet[4:HEADER_LEN] = request_authenticator
            expected = hmac.new(secret, bytes(packet), hashlib.md5).digest()
            return "valid" if hmac.compare_digest(expected, received) else "invalid"
        pos += attr_len
    return "absent"


def text_values(packet: Packet, attr_type: int) -> tuple[str, ...]:
    """Every value of a text attribute (Reply-Message…), decoded leniently as UTF-8."""
    return tuple(v.decode("utf-8", "replace") for t, v in packet.attributes if t == attr_type)
