"""ICMP echo encoding and decoding (RFC 792, RFC 4443 §4, RFC 1071's checksum). Pure."""

from __future__ import annotations

import struct

import pytest

from adprep.errors import WireFormatError
from adprep.wire.icmp import build_echo_request, checksum, parse_icmp, strip_ipv4_header


def test_checksum_matches_rfc_1071_example() -> None:
    # Given RFC 1071 §3's example words 0001 f203 f4f5 f6f7, whose one's-complement sum is ddf2
    data = bytes.fromhex("0001f203f4f5f6f7")
    # Then the checksum is its complement
    assert checksum(data) == 0xFFFF - 0xDDF2


def test_an_ipv4_echo_request_checksums_to_zero() -> None:
    # Given an echo request with an odd-length payload
    packet = build_echo_request(0x1234, 7, b"adprep!")
    # Then it is type 8 code 0 with our id and sequence, and the whole message checksums to 0
    assert packet[:2] == b"\x08\x00" and struct.unpack("!HH", packet[4:8]) == (0x1234, 7)
    assert checksum(packet) == 0


def test_an_ipv6_echo_request_leaves_the_checksum_to_the_kernel() -> None:
    packet = build_echo_request(1, 2, b"x", v6=True)
    assert packet[0] == 128 and packet[2:4] == b"\0\0"


def test_an_echo_reply_is_read_with_its_id_and_sequence() -> None:
    # Given the reply a host sends (type 0, same id and sequence)
    reply = b"\x00" + build_echo_request(0xBEEF, 3, b"data")[1:]
    message = parse_icmp(reply)
    assert (message.kind, message.ident, message.sequence) == ("echo_reply", 0xBEEF, 3)


def test_an_unreachable_names_the_request_it_quotes() -> None:
    # Given a "host unreachable" quoting our request's IPv4 header and first 8 bytes
    request = build_echo_request(0x0101, 2, b"")
    ip_header = bytes([0x45]) + bytes(19)
    error = bytes([3, 1, 0, 0, 0, 0, 0, 0]) + ip_header + request[:8]
    message = parse_icmp(error)
    # Then it is recognised as ours, with the reason
    assert (message.kind, message.ident, message.sequence, message.detail) == (
        "unreachable", 0x0101, 2, "host unreachable",
    )  # fmt: skip


def test_a_raw_ipv4_packet_loses_its_header_by_its_length_field() -> None:
    header = bytes([0x46]) + bytes(23)  # IHL 6: 24 bytes with options
    assert strip_ipv4_header(header + b"icmp-msg") == b"icmp-msg"


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00", b"\x45" + bytes(10)])
def test_truncated_messages_are_wire_format_errors(data: bytes) -> None:
    with pytest.raises(WireFormatError):
        parse_icmp(strip_ipv4_header(data) if len(data) > 8 else data)
