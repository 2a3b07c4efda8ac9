"""The DNS probe's query and reply decoding, against replies recorded from Samba 4.17's internal DNS."""

from __future__ import annotations

import contextlib
from pathlib import Path

import dns.message
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.errors import WireFormatError
from adprep.wire.dns_probe import build_dns_query, parse_dns_reply

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wire"


def exchange(name: str) -> tuple[dns.message.Message, bytes]:
    query = dns.message.from_wire((FIXTURES / f"{name}.request.bin").read_bytes())
    return query, (FIXTURES / f"{name}.reply.bin").read_bytes()


def test_query_sets_id_question_and_rd() -> None:
    query = build_dns_query("wire.test", "SOA", query_id=0x0401)
    assert query.to_wire() == (FIXTURES / "dns_samba_soa.request.bin").read_bytes()


def test_bad_query_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError):
        build_dns_query("wire.test", "NOSUCHTYPE")


def test_samba_soa_is_authoritative_with_one_answer() -> None:
    query, data = exchange("dns_samba_soa")
    reply = parse_dns_reply(data, query)
    assert (reply.rcode, reply.authoritative, reply.answer_count) == ("NOERROR", True, 1)
    assert reply.question == "wire.test. SOA"
    assert not reply.truncated


def test_samba_srv_record() -> None:
    query, data = exchange("dns_samba_srv_ldap")
    reply = parse_dns_reply(data, query)
    assert (reply.rcode, reply.answer_count) == ("NOERROR", 1)


def test_nxdomain_is_an_answer() -> None:
    query, data = exchange("dns_samba_nxdomain")
    reply = parse_dns_reply(data, query)
    assert (reply.rcode, reply.authoritative, reply.answer_count) == ("NXDOMAIN", True, 0)


def test_samba_formerr_on_a_root_query_is_still_an_answer() -> None:
    query, data = exchange("dns_samba_root_ns")
    assert parse_dns_reply(data, query).rcode == "FORMERR"


def test_refused_is_an_answer() -> None:
    # Given a server that refuses to recurse for this client (RFC 1035 rcode 5)
    query = build_dns_query("example.com", "SOA", query_id=7)
    refused = dns.message.make_response(query)
    refused.set_rcode(dns.rcode.REFUSED)

    # Then the reply parses: a DNS server answered
    reply = parse_dns_reply(refused.to_wire(), query)
    assert reply.rcode == "REFUSED"
    assert not reply.authoritative


def test_truncated_reply_with_tc_set_is_still_an_answer() -> None:
    query, data = exchange("dns_samba_soa")
    cut = bytearray(data[:40])
    cut[2] |= 0x02  # TC
    reply = parse_dns_reply(bytes(cut), query)
    assert reply.truncated


def test_reply_to_another_id_is_refused() -> None:
    _, data = exchange("dns_samba_soa")
    with pytest.raises(WireFormatError, match="id"):
        parse_dns_reply(data, build_dns_query("wire.test", "SOA", query_id=1))


def test_reply_to_another_question_is_refused() -> None:
    _, data = exchange("dns_samba_soa")
    with pytest.raises(WireFormatError, match="another question"):
        parse_dns_reply(data, build_dns_query("other.test", "SOA", query_id=0x0401))


def test_a_query_is_not_a_reply() -> None:
    query, _ = exchange("dns_samba_soa")
    with pytest.raises(WireFormatError, match="query"):
        parse_dns_reply(query.to_wire(), query)


def test_every_truncation_without_tc_is_a_wire_format_error() -> None:
    query, data = exchange("dns_samba_soa")
    for cut in range(len(data)):
        with pytest.raises(WireFormatError):
            parse_dns_reply(data[:cut], query)


@given(st.binary(max_size=120))
def test_parser_never_raises_anything_else(data: bytes) -> None:
    query = build_dns_query("wire.test", "SOA", query_id=0x0401)
    with contextlib.suppress(WireFormatError):
        parse_dns_reply(data, query)
