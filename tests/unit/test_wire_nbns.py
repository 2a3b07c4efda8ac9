"""NetBIOS name service (RFC 1001/1002): name encoding, queries, replies recorded from Samba 4.17."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.errors import WireFormatError
from adprep.wire.nbns import (
    DOMAIN_CONTROLLERS,
    NB,
    NBSTAT,
    NbnsName,
    build_nbns_query,
    decode_netbios_name,
    encode_netbios_name,
    parse_nbns_reply,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wire"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_first_level_encoding_matches_rfc_1001_example() -> None:
    # RFC 1001 14.1: "FRED" (space padded, suffix 0x20 in the RFC's example is a space) -> EGFCEFEE...
    encoded = encode_netbios_name("Fred", 0x20)
    assert encoded == b"\x20EGFCEFEECACACACACACACACACACACACA\x00"
    assert decode_netbios_name(encoded[1:33]) == ("FRED", 0x20)


def test_wildcard_is_nul_padded() -> None:
    assert encode_netbios_name("*") == b"\x20CK" + b"AA" * 15 + b"\x00"


@pytest.mark.parametrize("name", ["", "SIXTEENCHARSLONG", "naïve"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises((ValueError, UnicodeError)):
        encode_netbios_name(name)


def test_queries_are_byte_identical_to_the_ones_samba_answered() -> None:
    assert build_nbns_query("*", 0x0301) == fixture("nbns_samba_node_status.request.bin")
    assert build_nbns_query("wire", 0x0302, DOMAIN_CONTROLLERS) == fixture(
        "nbns_samba_name_query_dc.request.bin"
    )


def test_samba_node_status_lists_its_names() -> None:
    # Given Samba's answer to a node status request
    reply = parse_nbns_reply(fixture("nbns_samba_node_status.reply.bin"), 0x0301)

    # Then it lists the DC's and the domain's names
    assert reply.record_type == NBSTAT
    assert reply.queried_name == "*"
    assert reply.rcode_name == "NOERROR"
    assert NbnsName("WIREDC", 0x00, False) in reply.names
    assert NbnsName("WIRE", 0x1C, True) in reply.names
    assert NbnsName("WIRE", 0x1B, False) in reply.names
    assert len(reply.names) == 8


def test_samba_name_query_for_domain_controllers() -> None:
    reply = parse_nbns_reply(fixture("nbns_samba_name_query_dc.reply.bin"), 0x0302)
    assert reply.record_type == NB
    assert reply.queried_name == "WIRE"
    assert reply.addresses == ("127.0.0.9",)
    assert reply.authoritative


def test_negative_response_has_no_answer() -> None:
    # RFC 1002 4.2.14: negative name query response, RCODE 3 (NAM_ERR), one answer record with no address
    data = bytes.fromhex("123485830000000000000000")
    reply = parse_nbns_reply(data)
    assert reply.rcode_name == "NAM_ERR"
    assert reply.record_type is None


def test_reply_to_another_transaction_is_refused() -> None:
    with pytest.raises(WireFormatError, match="transaction"):
        parse_nbns_reply(fixture("nbns_samba_node_status.reply.bin"), 0x9999)


def test_our_own_query_is_not_a_reply() -> None:
    with pytest.raises(WireFormatError, match="request"):
        parse_nbns_reply(build_nbns_query("*", 1))


@pytest.mark.parametrize("name", ["nbns_samba_node_status.reply.bin", "nbns_samba_name_query_dc.reply.bin"])
def test_every_truncation_is_a_wire_format_error(name: str) -> None:
    data = fixture(name)
    for cut in range(len(data)):
        with pytest.raises(WireFormatError):
            parse_nbns_reply(data[:cut])


@given(st.binary(max_size=120))
def test_parser_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        parse_nbns_reply(data)
