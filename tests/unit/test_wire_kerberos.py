"""Kerberos AS-REQ / KDC replies (RFC 4120) and the kpasswd probe (RFC 3244): Samba recordings, crafted errors."""

from __future__ import annotations

import contextlib
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from impacket.krb5.asn1 import AS_REP, AS_REQ, KRB_ERROR, seq_set, seq_set_iter
from pyasn1.codec.der import decoder, encoder

from adprep.errors import WireFormatError
from adprep.wire.kerberos import (
    build_as_req,
    build_kpasswd_probe,
    error_name,
    frame_tcp,
    parse_kdc_reply,
    parse_kpasswd_reply,
    unframe_tcp,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wire"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def krb_error(code: int, realm: str = "CORP.EXAMPLE", e_data: bytes | None = None) -> bytes:
    """A KRB-ERROR (RFC 4120 5.9.1) as a KDC would send it."""
    error = KRB_ERROR()
    error["pvno"] = 5
    error["msg-type"] = 30
    error["stime"] = "20260102030405Z"
    error["susec"] = 123456
    error["error-code"] = code
    error["realm"] = realm
    sname = seq_set(error, "sname")
    sname["name-type"] = 2
    seq_set_iter(sname, "name-string", ("krbtgt", realm))
    if e_data is not None:
        error["e-data"] = e_data
    return bytes(encoder.encode(error))


def as_rep(realm: str = "CORP.EXAMPLE") -> bytes:
    """A minimal AS-REP (RFC 4120 5.4.2) with opaque encrypted parts."""
    reply = AS_REP()
    reply["pvno"] = 5
    reply["msg-type"] = 11
    reply["crealm"] = realm
    cname = seq_set(reply, "cname")
    cname["name-type"] = 1
    seq_set_iter(cname, "name-string", ("nopreauth",))
    ticket = seq_set(reply, "ticket")
    ticket["tkt-vno"] = 5
    ticket["realm"] = realm
    sname = seq_set(ticket, "sname")
    sname["name-type"] = 2
    seq_set_iter(sname, "name-string", ("krbtgt", realm))
    ticket_part = seq_set(ticket, "enc-part")
    ticket_part["etype"] = 18
    ticket_part["cipher"] = b"\x00" * 32
    enc_part = seq_set(reply, "enc-part")
    enc_part["etype"] = 18
    enc_part["cipher"] = b"\x00" * 32
    return bytes(encoder.encode(reply))


# -- AS-REQ -------------------------------------------------------------------------------------


def test_as_req_has_the_fields_rfc_4120_asks_for() -> None:
    # When an AS-REQ is built
    data = build_as_req("corp.example", "adprep-probe-00ff", 424242)

    # Then it decodes as an AS-REQ with every field set as specified
    request, rest = decoder.decode(data, asn1Spec=AS_REQ())
    assert rest == b""
    assert int(request["pvno"]) == 5
    assert int(request["msg-type"]) == 10
    body = request["req-body"]
    options = str(body["kdc-options"].asBinary())
    assert options[1] == "1" and options[8] == "1"  # forwardable, renewable
    assert options.count("1") == 2
    assert str(body["realm"]) == "CORP.EXAMPLE"
    assert int(body["cname"]["name-type"]) == 1  # NT-PRINCIPAL
    assert [str(s) for s in body["cname"]["name-string"]] == ["adprep-probe-00ff"]
    assert int(body["sname"]["name-type"]) == 2  # NT-SRV-INST
    assert [str(s) for s in body["sname"]["name-string"]] == ["krbtgt", "CORP.EXAMPLE"]
    assert str(body["till"]) == "20370913024805Z"
    assert int(body["nonce"]) == 424242
    assert [int(e) for e in body["etype"]] == [18, 17, 23]


def test_as_req_is_byte_identical_to_the_one_samba_answered() -> None:
    assert build_as_req("WIRE.TEST", "adprep-probe-0a1b2c3d", 201) == fixture(
        "kdc_samba_principal_unknown.request.bin"
    )


@pytest.mark.parametrize(
    ("realm", "principal", "nonce"), [("", "a", 1), ("R", "", 1), ("R", "a", -1), ("R", "a", 2**32)]
)
def test_as_req_refuses_bad_arguments(realm: str, principal: str, nonce: int) -> None:
    with pytest.raises(ValueError):
        build_as_req(realm, principal, nonce)


# -- recorded replies ---------------------------------------------------------------------------


def test_samba_unknown_principal() -> None:
    reply = parse_kdc_reply(fixture("kdc_samba_principal_unknown.reply.bin"))
    assert reply.kind == "krb-error"
    assert reply.error_code == 6
    assert reply.error_name == "KDC_ERR_C_PRINCIPAL_UNKNOWN"
    assert reply.realm == "WIRE.TEST"
    assert reply.server_principal == "krbtgt/WIRE.TEST"
    assert reply.stime is not None and reply.stime.tzinfo is UTC
    assert reply.stime.year == 2026


def test_samba_preauth_required_for_a_real_user() -> None:
    reply = parse_kdc_reply(fixture("kdc_samba_preauth_required.reply.bin"))
    assert (reply.error_code, reply.error_name) == (25, "KDC_ERR_PREAUTH_REQUIRED")
    assert reply.e_text == "Need to use PA-ENC-TIMESTAMP/PA-PK-AS-REQ"


def test_samba_answers_a_foreign_realm_with_principal_unknown_in_that_realm() -> None:
    # Samba 4.17 does not send 68 KDC_ERR_WRONG_REALM here: it names the asked realm.
    reply = parse_kdc_reply(fixture("kdc_samba_other_realm.reply.bin"))
    assert (reply.error_code, reply.realm) == (6, "OTHER.EXAMPLE")


def test_tcp_framing_round_trip_against_samba() -> None:
    # Given the TCP exchange recorded against Samba's KDC
    request = fixture("kdc_samba_tcp_principal_unknown.request.bin")
    reply = fixture("kdc_samba_tcp_principal_unknown.reply.bin")

    # Then the request is the framed AS-REQ and the reply unframes to a KRB-ERROR
    assert request == frame_tcp(build_as_req("WIRE.TEST", "adprep-probe-0a1b2c3d", 205))
    message, rest = unframe_tcp(reply)
    assert rest == b""
    assert parse_kdc_reply(message).error_code == 6


# -- crafted replies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (68, "KDC_ERR_WRONG_REALM"),
        (37, "KRB_AP_ERR_SKEW"),
        (24, "KDC_ERR_PREAUTH_FAILED"),
        (52, "KRB_ERR_RESPONSE_TOO_BIG"),
        (14, "KDC_ERR_ETYPE_NOSUPP"),
        (9999, "KRB_ERROR_9999"),
    ],
)
def test_error_codes_are_named(code: int, name: str) -> None:
    reply = parse_kdc_reply(krb_error(code))
    assert (reply.error_code, reply.error_name) == (code, name)
    assert reply.stime == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert error_name(code) == name


def test_as_rep_is_recognised() -> None:
    reply = parse_kdc_reply(as_rep())
    assert reply.kind == "as-rep"
    assert reply.realm == "CORP.EXAMPLE"
    assert reply.error_code is None


def test_every_truncation_is_a_wire_format_error() -> None:
    data = fixture("kdc_samba_preauth_required.reply.bin")
    for cut in range(len(data)):
        with pytest.raises(WireFormatError):
            parse_kdc_reply(data[:cut])


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x00" * 17,
        b"\x7e\x03\x30\x01\x00",  # a KRB-ERROR shell with nothing inside
        b"\x6a\x00",  # an AS-REQ tag: a request is not a reply
        b"\x7e\x81\x8a" + b"\x00" * 20,
    ],
)
def test_garbage_is_a_wire_format_error(garbage: bytes) -> None:
    with pytest.raises(WireFormatError):
        parse_kdc_reply(garbage)


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(WireFormatError, match="after the KRB-ERROR"):
        parse_kdc_reply(krb_error(6) + b"\x00")


@given(st.binary(max_size=300))
def test_kdc_parser_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        parse_kdc_reply(data)


# -- TCP framing --------------------------------------------------------------------------------


def test_frame_and_unframe_keep_the_rest() -> None:
    framed = frame_tcp(b"abc") + frame_tcp(b"") + b"\x00"
    first, rest = unframe_tcp(framed)
    assert first == b"abc"
    second, rest = unframe_tcp(rest)
    assert (second, rest) == (b"", b"\x00")


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00", b"\x00\x00\x00\x05abc", b"\x80\x00\x00\x01a"])
def test_bad_tcp_records_are_wire_format_errors(data: bytes) -> None:
    with pytest.raises(WireFormatError):
        unframe_tcp(data)


# -- kpasswd ------------------------------------------------------------------------------------


def test_kpasswd_probe_layout() -> None:
    probe = build_kpasswd_probe()
    assert probe == fixture("kpasswd_samba_hard_error.request.bin")
    length, version, ap_req_length = struct.unpack_from(">HHH", probe)
    assert (length, version, ap_req_length) == (len(probe), 0xFF80, 4)


def test_samba_kpasswd_reply_is_a_framed_krb_error_with_a_result_code() -> None:
    # Given Samba's answer to the probe on UDP 464
    reply = parse_kpasswd_reply(fixture("kpasswd_samba_hard_error.reply.bin"))

    # Then it is a KRB-ERROR carrying KRB5_KPASSWD_HARDERROR in its e-data
    assert reply.kind == "krb-error"
    assert reply.error is not None
    assert reply.error.realm == "WIRE.TEST"
    assert reply.error.server_principal == "kadmin/changepw"
    assert (reply.result_code, reply.result_name) == (2, "KRB5_KPASSWD_HARDERROR")
    assert reply.result_string == "gensec_update failed - NT_STATUS_LOGON_FAILURE"


def test_unframed_kpasswd_krb_error_is_recognised() -> None:
    reply = parse_kpasswd_reply(krb_error(41, e_data=b"\x00\x03auth"))
    assert reply.kind == "krb-error"
    assert (reply.result_code, reply.result_name, reply.result_string) == (
        3,
        "KRB5_KPASSWD_AUTHERROR",
        "auth",
    )


def test_kpasswd_krb_error_without_e_data_has_no_result() -> None:
    error = krb_error(60)
    reply = parse_kpasswd_reply(struct.pack(">HHH", 6 + len(error), 1, 0) + error)
    assert reply.result_code is None
    assert reply.error is not None and reply.error.error_code == 60


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x06\x00\x01",
        b"\x00\x09\x00\x01\x00\x00abc",  # says 9 bytes, KRB-ERROR missing
        b"\x00\x08\x00\x01\x00\x00\x00\x00",  # length matches, no KRB-ERROR
        b"\x00\x07\x00\x02\x00\x00\x00",  # wrong version
        b"\x00\x0a\x00\x01\x00\x04\x00\x00\x00\x00",  # AP-REP that is not one
        b"\x00\x08\x00\x01\x00\x10\x6f\x00",  # AP-REP running past the end
    ],
)
def test_bad_kpasswd_replies_are_wire_format_errors(data: bytes) -> None:
    with pytest.raises(WireFormatError):
        parse_kpasswd_reply(data)


def test_every_truncation_of_the_kpasswd_reply_is_a_wire_format_error() -> None:
    data = fixture("kpasswd_samba_hard_error.reply.bin")
    for cut in range(len(data)):
        with pytest.raises(WireFormatError):
            parse_kpasswd_reply(data[:cut])


@given(st.binary(max_size=200))
def test_kpasswd_parser_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        parse_kpasswd_reply(data)
