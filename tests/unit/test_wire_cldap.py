"""CLDAP netlogon ping (MS-ADTS 6.3.3 / 6.3.1.9): replies recorded from Samba 4.17, corrupt input."""

from __future__ import annotations

import contextlib
import struct
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.errors import WireFormatError
from adprep.wire.cldap import (
    DEFAULT_NTVER,
    DsFlag,
    NtVersion,
    build_netlogon_ping,
    parse_netlogon_ping,
    parse_netlogon_reply,
    parse_netlogon_response,
    read_compressed_name,
    reply_message_id,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wire"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def blob(names: bytes, tail: bytes = struct.pack("<IHH", 5, 0xFFFF, 0xFFFF), opcode: int = 23) -> bytes:
    """A NETLOGON_SAM_LOGON_RESPONSE_EX with the given name section."""
    return struct.pack("<HHI", opcode, 0, 0x1FD) + bytes(16) + names + tail


EIGHT_EMPTY_NAMES = b"\x00" * 8


# -- request ------------------------------------------------------------------------------------


def test_ping_is_byte_identical_to_the_one_samba_answered() -> None:
    # Given the ping recorded against Samba (message 101, default NtVer)
    recorded = fixture("cldap_samba_ex.request.bin")

    # When the same ping is built again
    built = build_netlogon_ping(101, "wire.test")

    # Then the bytes are identical, and they carry the filter MS-ADTS 6.3.3 asks for
    assert built == recorded
    assert b"\x04\x09DnsDomain\x04\x09wire.test" in built
    assert b"\x04\x05NtVer\x04\x04" + struct.pack("<I", DEFAULT_NTVER) in built
    assert b"\x04\x08Netlogon" in built


def test_ping_parameters_are_read_back() -> None:
    ping = build_netlogon_ping(0x12345, "corp.example.com.", NtVersion.V5EX)
    assert parse_netlogon_ping(ping) == (0x12345, 0x4)
    assert b"corp.example.com\x00" not in ping and b"corp.example.com." not in ping


def test_default_ntver_asks_for_the_ex_layout() -> None:
    assert DEFAULT_NTVER == 0x16
    assert DEFAULT_NTVER & NtVersion.V5EX


@pytest.mark.parametrize("message_id", [-1, 2**31])
def test_message_id_out_of_range_is_refused(message_id: int) -> None:
    with pytest.raises(ValueError):
        build_netlogon_ping(message_id, "wire.test")


@pytest.mark.parametrize(
    "data", [b"", b"\x30", b"\x02\x01\x01", b"\x30\x03\x04\x01\x00", b"\x30\x03\x02\x01\x07"]
)
def test_not_a_ping_is_a_wire_format_error(data: bytes) -> None:
    with pytest.raises(WireFormatError):
        parse_netlogon_ping(data)


# -- recorded replies ---------------------------------------------------------------------------


def test_samba_reply_decodes_to_every_field() -> None:
    # Given Samba's reply to the default ping (entry + done in one datagram)
    reply = fixture("cldap_samba_ex.reply.bin")

    # When it is parsed
    answer = parse_netlogon_reply(reply, 101)

    # Then the SearchResultDone says success and the Netlogon blob is decoded
    assert answer.message_id == 101
    assert answer.result_code == 0
    assert answer.netlogon_error is None
    netlogon = answer.netlogon
    assert netlogon is not None
    assert netlogon.opcode == 23
    assert netlogon.opcode_name == "LOGON_SAM_LOGON_RESPONSE_EX"
    assert netlogon.flags == 0x13FD
    assert DsFlag.DS_KDC_FLAG in netlogon.flags and DsFlag.DS_WRITABLE_FLAG in netlogon.flags
    assert netlogon.flag_names == (
        "DS_PDC_FLAG",
        "DS_GC_FLAG",
        "DS_LDAP_FLAG",
        "DS_DS_FLAG",
        "DS_KDC_FLAG",
        "DS_TIMESERV_FLAG",
        "DS_CLOSEST_FLAG",
        "DS_WRITABLE_FLAG",
        "DS_GOOD_TIMESERV_FLAG",
        "DS_FULL_SECRET_DOMAIN_6_FLAG",
    )
    assert netlogon.domain_guid == uuid.UUID("60acdae1-f88c-4067-b4e9-aaaaa2756c10")
    assert netlogon.dns_forest_name == "wire.test"
    assert netlogon.dns_domain_name == "wire.test"  # a pointer to the forest name
    assert netlogon.dns_host_name == "wiredc.wire.test"  # a label, then a pointer
    assert netlogon.netbios_domain_name == "WIRE"
    assert netlogon.netbios_computer_name == "WIREDC"
    assert netlogon.user_name == ""
    assert netlogon.dc_site_name == "Default-First-Site-Name"
    assert netlogon.client_site_name == "Default-First-Site-Name"
    assert netlogon.next_closest_site_name is None  # Samba does not send it
    assert netlogon.dc_sock_addr is None
    assert (netlogon.nt_version, netlogon.lm_nt_token, netlogon.lm20_token) == (5, 0xFFFF, 0xFFFF)


def test_samba_reply_with_ip_carries_the_dc_address() -> None:
    reply = fixture("cldap_samba_ex_with_ip.reply.bin")
    answer = parse_netlogon_reply(reply, 102, DEFAULT_NTVER | NtVersion.V5EX_WITH_IP)
    assert answer.netlogon is not None
    assert answer.netlogon.dc_sock_addr == "127.0.0.9"
    assert answer.netlogon.nt_version == 0x0D


def test_domain_not_served_is_an_empty_result() -> None:
    # Given Samba's answer to a ping for a domain it does not serve
    reply = fixture("cldap_samba_other_domain.reply.bin")

    # When it is parsed
    answer = parse_netlogon_reply(reply, 103)

    # Then there is a SearchResultDone and no entry
    assert answer.result_code == 0
    assert answer.netlogon is None
    assert answer.netlogon_error is None


def test_reply_to_another_message_is_refused() -> None:
    reply = fixture("cldap_samba_ex.reply.bin")
    assert reply_message_id(reply) == 101
    with pytest.raises(WireFormatError, match="message 101, not 7"):
        parse_netlogon_reply(reply, 7)


def test_every_truncation_of_a_reply_is_a_wire_format_error_except_at_the_message_boundary() -> None:
    reply = fixture("cldap_samba_ex.reply.bin")
    entry_length = 2 + reply[1]  # the SearchResultEntry's LDAPMessage, short-form BER length
    for cut in range(len(reply)):
        if cut == entry_length:
            # The entry alone is a whole LDAPMessage: decoded, with no SearchResultDone.
            answer = parse_netlogon_reply(reply[:cut], 101)
            assert answer.netlogon is not None and answer.result_code is None
            continue
        with pytest.raises(WireFormatError):
            parse_netlogon_reply(reply[:cut], 101)


@pytest.mark.parametrize(
    "garbage", [b"\x00" * 17, b"HTTP/1.1 400 Bad\r\n", b"\xff" * 40, b"\x30\x80\x00\x00"]
)
def test_garbage_is_a_wire_format_error(garbage: bytes) -> None:
    with pytest.raises(WireFormatError):
        parse_netlogon_reply(garbage, 1)


def test_a_bad_netlogon_value_inside_a_good_envelope_is_reported_not_raised() -> None:
    # Given Samba's reply with the Netlogon blob's opcode changed to 19 (the pre-EX layout)
    reply = bytearray(fixture("cldap_samba_ex.reply.bin"))
    at = reply.index(bytes.fromhex("17000000fd130000"))
    reply[at] = 19

    # When it is parsed
    answer = parse_netlogon_reply(bytes(reply), 101)

    # Then the LDAP reply stands and the blob's problem is a fact
    assert answer.result_code == 0
    assert answer.netlogon is None
    assert answer.netlogon_error is not None and "opcode 19" in answer.netlogon_error


# -- the Netlogon blob and its compressed names --------------------------------------------------


def test_blob_with_next_closest_site_name() -> None:
    names = EIGHT_EMPTY_NAMES + b"\x05Other\x00"
    response = parse_netlogon_response(blob(names), NtVersion.V5EX | NtVersion.WITH_CLOSEST_SITE)
    assert response.next_closest_site_name == "Other"


def test_blob_with_unexpected_bytes_before_the_tail_is_refused() -> None:
    with pytest.raises(WireFormatError, match="unexpected bytes"):
        parse_netlogon_response(blob(EIGHT_EMPTY_NAMES + b"\x01x\x00\x00"), NtVersion.V5EX)


@pytest.mark.parametrize("size", [0, 7, 200])
def test_blob_with_bad_sock_addr_size_is_refused(size: int) -> None:
    names = EIGHT_EMPTY_NAMES + bytes([size]) + bytes(16)
    with pytest.raises(WireFormatError, match="DcSockAddrSize"):
        parse_netlogon_response(blob(names), NtVersion.V5EX | NtVersion.V5EX_WITH_IP)


def test_blob_without_tail_is_refused() -> None:
    with pytest.raises(WireFormatError):
        parse_netlogon_response(blob(EIGHT_EMPTY_NAMES, tail=b"\x05\x00"))


def test_compressed_name_follows_pointers_and_returns_the_offset_after_the_first() -> None:
    data = b"\x04wire\x04test\x00" + b"\x02dc\xc0\x00" + b"\xc0\x0b"
    assert read_compressed_name(data, 0) == ("wire.test", 11)
    assert read_compressed_name(data, 11) == ("dc.wire.test", 16)
    assert read_compressed_name(data, 16) == ("dc.wire.test", 18)


@pytest.mark.parametrize(
    "data",
    [
        b"\xc0\x00",  # points at itself
        b"\x01a\xc0\x04\xc0\x00",  # 0 -> label, pointer to 4, pointer back to 0, label, pointer to 4 ...
        b"\xc0\x02\xc0\x00",  # two pointers chasing each other
        b"\xc0\x50",  # points outside
        b"\xc0",  # truncated pointer
        b"\x05ab",  # label runs past the end
        b"\x01a",  # no terminator
        b"\x40abc\x00",  # reserved 0x40 prefix
        b"\x02\xff\xfe\x00",  # not UTF-8
        b"",
    ],
)
def test_malformed_names_are_wire_format_errors(data: bytes) -> None:
    with pytest.raises(WireFormatError):
        read_compressed_name(data, 0)


@given(st.binary(max_size=64), st.integers(min_value=0, max_value=70))
def test_name_decoder_never_raises_anything_else(data: bytes, offset: int) -> None:
    with contextlib.suppress(WireFormatError):
        read_compressed_name(data, offset)


@given(st.binary(max_size=200))
def test_reply_parser_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        parse_netlogon_reply(data, 1)
