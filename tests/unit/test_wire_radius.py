"""RADIUS packet encoding against RFC 2865's worked example, and cross-checked with pyrad."""

from __future__ import annotations

import io

import pytest

from adprep.errors import WireFormatError
from adprep.wire import radius as r

# RFC 2865 §7.1: user nemo, password arctangent, NAS 192.168.1.16 port 3, secret xyzzy5461.
SECRET = b"xyzzy5461"
REQUEST = bytes.fromhex(
    "01000038 0f403f94 73978057 bd83d5cb 98f4227a 01066e65 6d6f0212 0dbe708d"
    "93d413ce 3196e43f 782a0aee 0406c0a8 01100506 00000003"
)
ACCEPT = bytes.fromhex(
    "02000026 86fe220e 7624ba2a 1005f6bf 9b55e0b2 06060000 00010f06 00000000 0e06c0a8 0103"
)
REQUEST_AUTH = REQUEST[4:20]


def test_rfc2865_password_hiding() -> None:
    hidden = r.hide_password(b"arctangent", SECRET, REQUEST_AUTH)
    assert hidden == bytes.fromhex("0dbe708d93d413ce3196e43f782a0aee")
    assert r.unhide_password(hidden, SECRET, REQUEST_AUTH) == b"arctangent"


def test_rfc2865_access_request_bytes_without_message_authenticator() -> None:
    attrs = [
        (r.Attr.USER_NAME, b"nemo"),
        (r.Attr.USER_PASSWORD, r.hide_password(b"arctangent", SECRET, REQUEST_AUTH)),
        (r.Attr.NAS_IP_ADDRESS, bytes((192, 168, 1, 16))),
        (5, (3).to_bytes(4, "big")),  # NAS-Port
    ]
    req = r.encode_access_request(
        attrs, secret=SECRET, identifier=0, authenticator=REQUEST_AUTH, message_authenticator=False
    )
    assert req.data == REQUEST


def test_rfc2865_response_authenticator() -> None:
    assert r.verify_response_authenticator(ACCEPT, REQUEST_AUTH, SECRET)
    assert not r.verify_response_authenticator(ACCEPT, REQUEST_AUTH, b"another-secret")
    reply = r.decode_packet(ACCEPT)
    assert reply.code == r.Code.ACCESS_ACCEPT and reply.identifier == 0
    assert reply.get(r.Attr.SERVICE_TYPE) == b"\x00\x00\x00\x01"
    assert r.verify_message_authenticator(ACCEPT, REQUEST_AUTH, SECRET) == "absent"


def test_encode_reply_reproduces_rfc2865_accept() -> None:
    attrs = [(6, b"\x00\x00\x00\x01"), (15, b"\x00\x00\x00\x00"), (14, bytes((192, 168, 1, 3)))]
    data = r.encode_reply(
        2, attrs, secret=SECRET, identifier=0, request_authenticator=REQUEST_AUTH, message_authenticator=False
    )
    assert data == ACCEPT


def test_message_authenticator_is_first_and_verified_by_pyrad() -> None:
    from pyrad.dictionary import Dictionary
    from pyrad.packet import AuthPacket

    # Given our Access-Request with Message-Authenticator first
    auth = bytes(range(16))
    req = r.encode_access_request(
        [(r.Attr.USER_NAME, b"fakeusername"), (r.Attr.USER_PASSWORD, r.hide_password(b"pw", SECRET, auth))],
        secret=SECRET,
        identifier=42,
        authenticator=auth,
    )
    decoded = r.decode_packet(req.data)
    assert decoded.attributes[0][0] == r.Attr.MESSAGE_AUTHENTICATOR
    # When pyrad (an independent implementation) parses it
    dictionary = Dictionary(
        io.StringIO(
            "ATTRIBUTE User-Name 1 string\nATTRIBUTE User-Password 2 string encrypt=1\n"
            "ATTRIBUTE Message-Authenticator 80 octets\n"
        )
    )
    pkt = AuthPacket(packet=req.data, secret=SECRET, dict=dictionary)
    # Then it verifies the HMAC-MD5 and recovers the password
    assert pkt.verify_message_authenticator()
    assert pkt.PwDecrypt(pkt[2][0]) == "pw"
    assert pkt["User-Name"] == ["fakeusername"]


def test_reply_message_authenticator_rfc3579() -> None:
    # Given a reply signed with Message-Authenticator for our request
    auth = bytes(range(16))
    data = r.encode_reply(
        3, [(r.Attr.REPLY_MESSAGE, b"no")], secret=SECRET, identifier=5, request_authenticator=auth
    )
    # Then both authenticators verify with the right secret, neither with another
    assert r.verify_response_authenticator(data, auth, SECRET)
    assert r.verify_message_authenticator(data, auth, SECRET) == "valid"
    assert r.verify_message_authenticator(data, auth, b"wrong") == "invalid"
    assert r.text_values(r.decode_packet(data), r.Attr.REPLY_MESSAGE) == ("no",)


def test_long_password_spans_blocks_and_round_trips() -> None:
    pw = b"x" * 40
    hidden = r.hide_password(pw, SECRET, REQUEST_AUTH)
    assert len(hidden) == 48
    assert r.unhide_password(hidden, SECRET, REQUEST_AUTH) == pw
    assert len(r.hide_password(b"", SECRET, REQUEST_AUTH)) == 16
    with pytest.raises(ValueError):
        r.hide_password(b"x" * 129, SECRET, REQUEST_AUTH)


@pytest.mark.parametrize(
    "data",
    [
        b"\x02\x00\x00",  # shorter than a header
        bytes.fromhex("0200 0030") + b"\x00" * 16,  # Length beyond the datagram
        bytes.fromhex("0200 0017") + b"\x00" * 16 + b"\x01\x01\x00",  # attribute length 1
        bytes.fromhex("0200 0018") + b"\x00" * 16 + b"\x01\x09\x00\x00",  # attribute beyond Length
    ],
)
def test_malformed_replies_raise(data: bytes) -> None:
    with pytest.raises(WireFormatError):
        r.decode_packet(data)


def test_vendor_specific_lookup() -> None:
    packet = r.Packet(2, 0, b"\x00" * 16, (r.vendor_specific(r.VENDOR_MICROSOFT, 26, b"\x01S=AB"),))
    assert packet.vendor(r.VENDOR_MICROSOFT, 26) == b"\x01S=AB"
    assert packet.vendor(r.VENDOR_MICROSOFT, 2) is None
    assert packet.vendor(9, 26) is None
