"""CHAP and MS-CHAP responses, and the RADIUS attributes that carry them.

CHAP (RFC 1994 §4.1, in RADIUS RFC 2865 §5.3 and §5.40), MS-CHAPv1 (RFC 2433 Appendix A),
MS-CHAPv2 (RFC 2759 §8, including the server's authenticator response) and Microsoft's
vendor-specific attributes (RFC 2548 §2.3). Pure: no sockets, no randomness except what the caller
passes in.

hashlib lacks MD4 under OpenSSL 3, so MD4 and DES come from pycryptodomex (a maintained library).
"""

from __future__ import annotations

import hashlib
import hmac

from adprep.wire.radius import VENDOR_MICROSOFT, Attr, vendor_specific

# RFC 2548 §2.1-2.3: Microsoft vendor-specific attribute types.
MS_CHAP_RESPONSE = 1
MS_CHAP_ERROR = 2
MS_CHAP_CHALLENGE = 11
MS_CHAP2_RESPONSE = 25
MS_CHAP2_SUCCESS = 26

#: RFC 2433 §4 / RFC 2759 §4: Flags bit 0 set = use the NT-Response (LM-Response is zero).
FLAG_USE_NT_RESPONSE = 0x01

# RFC 2759 §8.7: the constants of GenerateAuthenticatorResponse.
_MAGIC1 = b"Magic server to client signing constant"
_MAGIC2 = b"Pad to make it do more than one iteration"


# --- CHAP ------------------------------------------------------------------------------------------


def chap_response(ident: int, password: bytes, challenge: bytes) -> bytes:
    """RFC 1994 §4.1: Response = MD5(Identifier + secret + Challenge)."""
    return hashlib.md5(bytes((ident,)) + password + challenge).digest()


def chap_attributes(ident: int, password: bytes, challenge: bytes) -> list[tuple[int, bytes]]:
    """RFC 2865 §5.3 CHAP-Password (ident + response) and §5.40 CHAP-Challenge."""
    return [
        (Attr.CHAP_PASSWORD, bytes((ident,)) + chap_response(ident, password, challenge)),
        (Attr.CHAP_CHALLENGE, challenge),
    ]


# --- Shared primitives (RFC 2759 §8; RFC 2433 Appendix A) --------------------------------------------


def nt_password_hash(password: str) -> bytes:
    """RFC 2759 §8.3 NtPasswordHash: MD4 of the password in UTF-16LE ("Unicode")."""
    from Cryptodome.Hash import MD4

    h = MD4.new()
    h.update(password.encode("utf-16-le"))
    return bytes(h.digest())


def hash_nt_password_hash(password_hash: bytes) -> bytes:
    """RFC 2759 §8.4 HashNtPasswordHash: MD4 of the NT hash."""
    from Cryptodome.Hash import MD4

    h = MD4.new()
    h.update(password_hash)
    return bytes(h.digest())


def _des_key(key7: bytes) -> bytes:
    """RFC 2759 §8.6 DesEncrypt: spread 56 key bits over 8 octets (the low bit is parity, unused)."""
    bits = int.from_bytes(key7, "big")
    return bytes((((bits >> (49 - 7 * i)) & 0x7F) << 1) for i in range(8))


def des_encrypt(clear: bytes, key7: bytes) -> bytes:
    """RFC 2759 §8.6 DesEncrypt: DES-ECB of one 8-octet block under a 7-octet key."""
    from Cryptodome.Cipher import DES

    return bytes(DES.new(_des_key(key7), DES.MODE_ECB).encrypt(clear))


def challenge_response(challenge: bytes, password_hash: bytes) -> bytes:
    """RFC 2759 §8.5 ChallengeResponse (= RFC 2433 A.5): three DES blocks keyed by the zero-padded hash."""
    z = password_hash.ljust(21, b"\x00")
    return des_encrypt(challenge, z[0:7]) + des_encrypt(challenge, z[7:14]) + des_encrypt(challenge, z[14:21])


# --- MS-CHAPv1 (RFC 2433) ------------------------------------------------------------------------------


def mschap1_nt_response(challenge: bytes, password: str) -> bytes:
    """RFC 2433 A.1 NtChallengeResponse: ChallengeResponse(challenge, NtPasswordHash(password))."""
    if len(challenge) != 8:
        raise ValueError("an MS-CHAPv1 challenge is 8 octets")
    return challenge_response(challenge, nt_password_hash(password))


def mschap1_attributes(ident: int, password: str, challenge: bytes) -> list[tuple[int, bytes]]:
    """RFC 2548 §2.1.1 MS-CHAP-Challenge (8 octets) and §2.1.3 MS-CHAP-Response:
    Ident, Flags, LM-Response (24, zero: Flags says use NT), NT-Response (24)."""
    response = bytes((ident, FLAG_USE_NT_RESPONSE)) + b"\x00" * 24 + mschap1_nt_response(challenge, password)
    return [
        vendor_specific(VENDOR_MICROSOFT, MS_CHAP_CHALLENGE, challenge),
        vendor_specific(VENDOR_MICROSOFT, MS_CHAP_RESPONSE, response),
    ]


# --- MS-CHAPv2 (RFC 2759) ------------------------------------------------------------------------------


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, user_name: bytes) -> bytes:
    """RFC 2759 §8.2 ChallengeHash: the first 8 octets of SHA1(peer + authenticator + user name)."""
    return hashlib.sha1(peer_challenge + authenticator_challenge + user_name).digest()[:8]


def mschap2_nt_response(
    authenticator_challenge: bytes, peer_challenge: bytes, user_name: bytes, password: str
) -> bytes:
    """RFC 2759 §8.1 GenerateNTResponse."""
    if len(authenticator_challenge) != 16 or len(peer_challenge) != 16:
        raise ValueError("MS-CHAPv2 challenges are 16 octets")
    challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name)
    return challenge_response(challenge, nt_password_hash(password))


def mschap2_authenticator_response(
    password: str,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    user_name: bytes,
) -> str:
    """RFC 2759 §8.7 GenerateAuthenticatorResponse: ``S=`` and 40 upper-case hex digits, the
    server's proof that it knows the password too."""
    password_hash_hash = hash_nt_password_hash(nt_password_hash(password))
    digest = hashlib.sha1(password_hash_hash + nt_response + _MAGIC1).digest()
    challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name)
    digest = hashlib.sha1(digest + challenge + _MAGIC2).digest()
    return "S=" + digest.hex().upper()


def mschap2_attributes(
    ident: int,
    user_name: bytes,
    password: str,
    authenticator_challenge: bytes,
    peer_challenge: bytes,
) -> tuple[list[tuple[int, bytes]], str]:
    """RFC 2548 §2.3.2 MS-CHAP2-Response (Ident, Flags, Peer-Challenge 16, Reserved 8, Response 24)
    and §2.1.1 MS-CHAP-Challenge (16 octets); also the authenticator response a server must send."""
    nt_response = mschap2_nt_response(authenticator_challenge, peer_challenge, user_name, password)
    # RFC 2759 §4: Flags is zero in MS-CHAPv2 (the v1 "use NT" bit is not used).
    response = bytes((ident, 0)) + peer_challenge + b"\x00" * 8 + nt_response
    expected = mschap2_authenticator_response(
        password, nt_response, peer_challenge, authenticator_challenge, user_name
    )
    attributes = [
        vendor_specific(VENDOR_MICROSOFT, MS_CHAP_CHALLENGE, authenticator_challenge),
        vendor_specific(VENDOR_MICROSOFT, MS_CHAP2_RESPONSE, response),
    ]
    return attributes, expected


def mschap2_success_matches(success_value: bytes, expected: str) -> bool:
    """RFC 2548 §2.3.3 MS-CHAP2-Success is Ident then ``S=<40 hex>``: does it carry ``expected``?"""
    text = success_value[1:43].decode("ascii", "replace")
    return hmac.compare_digest(text.upper(), expected.upper())
