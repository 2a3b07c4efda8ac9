"""CHAP, MS-CHAPv1 and MS-CHAPv2 against the RFCs' own test vectors."""

from __future__ import annotations

import hashlib

from adprep.wire import mschap
from adprep.wire.radius import VENDOR_MICROSOFT, Attr, Packet

# RFC 2759 §9.2 "Sample Data".
USER = b"User"
PASSWORD = "clientPass"
AUTH_CHALLENGE = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
NT_RESPONSE = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
AUTH_RESPONSE = "S=407A5589115FD0D6209F510FE9C04566932CDA56"


def test_rfc2759_intermediate_values() -> None:
    assert mschap.challenge_hash(PEER_CHALLENGE, AUTH_CHALLENGE, USER) == bytes.fromhex("D02E4386BCE91226")
    password_hash = mschap.nt_password_hash(PASSWORD)
    assert password_hash == bytes.fromhex("44EBBA8D5312B8D611474411F56989AE")
    assert mschap.hash_nt_password_hash(password_hash) == bytes.fromhex("41C00C584BD2D91C4017A2A12FA59F3F")


def test_rfc2759_nt_response_and_authenticator_response() -> None:
    nt = mschap.mschap2_nt_response(AUTH_CHALLENGE, PEER_CHALLENGE, USER, PASSWORD)
    assert nt == NT_RESPONSE
    assert (
        mschap.mschap2_authenticator_response(PASSWORD, nt, PEER_CHALLENGE, AUTH_CHALLENGE, USER)
        == AUTH_RESPONSE
    )


def test_rfc2759_des_key_spreading() -> None:
    # RFC 2759 §9.3: 0xFC156AF7EDCD6C -> 0xFD0B5B5E7F6E34D9 (parity bits aside).
    assert mschap._des_key(bytes.fromhex("FC156AF7EDCD6C")) == bytes(
        b & 0xFE for b in bytes.fromhex("FD0B5B5E7F6E34D9")
    )


def test_rfc2433_b2_nt_response() -> None:
    # RFC 2433 Appendix B.2 "Hash Example": password "MyPw", challenge 102DB5DF085D3041.
    assert mschap.nt_password_hash("MyPw") == bytes.fromhex("FC156AF7EDCD6C0EDDE3337D427F4EAC")
    assert mschap.mschap1_nt_response(bytes.fromhex("102DB5DF085D3041"), "MyPw") == bytes.fromhex(
        "4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61"
    )


def test_known_nt_hash_of_password() -> None:
    # The widely published NT hash of "password".
    assert mschap.nt_password_hash("password").hex() == "8846f7eaee8fb117ad06bdd830b7586c"


def test_chap_response_is_md5_of_ident_secret_challenge() -> None:
    # RFC 1994 §4.1, in RFC 2865 §5.3's layout: ident, then the 16-octet response.
    attrs = dict(mschap.chap_attributes(7, b"arctangent", b"c" * 16))
    assert attrs[Attr.CHAP_PASSWORD] == b"\x07" + hashlib.md5(b"\x07arctangentcccccccccccccccc").digest()
    assert attrs[Attr.CHAP_CHALLENGE] == b"c" * 16


def test_mschap2_attributes_layout_rfc2548() -> None:
    attrs, expected = mschap.mschap2_attributes(9, USER, PASSWORD, AUTH_CHALLENGE, PEER_CHALLENGE)
    packet = Packet(2, 0, b"\x00" * 16, tuple(attrs))
    response = packet.vendor(VENDOR_MICROSOFT, mschap.MS_CHAP2_RESPONSE)
    assert response is not None and len(response) == 50
    assert response[0] == 9 and response[1] == 0
    assert (
        response[2:18] == PEER_CHALLENGE and response[18:26] == b"\x00" * 8 and response[26:] == NT_RESPONSE
    )
    assert packet.vendor(VENDOR_MICROSOFT, mschap.MS_CHAP_CHALLENGE) == AUTH_CHALLENGE
    assert expected == AUTH_RESPONSE
    assert mschap.mschap2_success_matches(b"\x09" + AUTH_RESPONSE.encode(), expected)
    assert not mschap.mschap2_success_matches(b"\x09S=" + b"0" * 40, expected)


def test_mschap1_attributes_layout_rfc2548() -> None:
    challenge = bytes.fromhex("102DB5DF085D3041")
    packet = Packet(1, 0, b"\x00" * 16, tuple(mschap.mschap1_attributes(3, "MyPw", challenge)))
    response = packet.vendor(VENDOR_MICROSOFT, mschap.MS_CHAP_RESPONSE)
    assert response is not None and len(response) == 50
    assert response[:2] == b"\x03\x01"  # ident, flags: use the NT-Response
    assert response[2:26] == b"\x00" * 24
    assert response[26:] == bytes.fromhex("4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61")
    assert packet.vendor(VENDOR_MICROSOFT, mschap.MS_CHAP_CHALLENGE) == challenge
