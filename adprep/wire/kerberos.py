"""Kerberos probe messages: an AS-REQ (RFC 4120 5.4.1) and the KDC's reply; a kpasswd probe (RFC 3244).

Any KRB-ERROR proves a KDC answered: for a made-up principal it is 6 KDC_ERR_C_PRINCIPAL_UNKNOWN, for
a real user 25 KDC_ERR_PREAUTH_REQUIRED, for a realm the KDC does not serve 68 KDC_ERR_WRONG_REALM.
Messages are built with impacket's RFC 4120 ASN.1 types and pyasn1's DER codec. Over TCP every
message carries a 4-byte big-endian length prefix (RFC 4120 7.2.2): :func:`frame_tcp`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from impacket.krb5 import constants
from impacket.krb5.asn1 import AP_REP, AS_REP, AS_REQ, KRB_ERROR, seq_set, seq_set_iter
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type.univ import noValue

from adprep.errors import WireFormatError

# RFC 4120 5.4.1: "till" is required; this far-future value is what MIT and Windows clients send.
TILL = "20370913024805Z"

# RFC 3961 / RFC 3962 / RFC 4757: aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, rc4-hmac.
ETYPES = (18, 17, 23)

# RFC 4120 7.5.9: the error codes a probe meets most; names follow the RFC.
ERROR_NAMES: dict[int, str] = {
    6: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
    7: "KDC_ERR_S_PRINCIPAL_UNKNOWN",
    14: "KDC_ERR_ETYPE_NOSUPP",
    18: "KDC_ERR_CLIENT_REVOKED",
    23: "KDC_ERR_KEY_EXPIRED",
    24: "KDC_ERR_PREAUTH_FAILED",
    25: "KDC_ERR_PREAUTH_REQUIRED",
    37: "KRB_AP_ERR_SKEW",
    41: "KRB_AP_ERR_MODIFIED",
    52: "KRB_ERR_RESPONSE_TOO_BIG",
    60: "KRB_ERR_GENERIC",
    68: "KDC_ERR_WRONG_REALM",
}

# RFC 4120 5.10: application tags of the messages a KDC or kpasswd server sends back.
_TAG_AS_REP = 11
_TAG_AP_REP = 15
_TAG_KRB_ERROR = 30

# RFC 3244 2: kpasswd reply framing: message length (2), version 0x0001, AP-REP length (2).
KPASSWD_REPLY_VERSION = 0x0001
# RFC 3244 2: the request version of Microsoft's set-password protocol.
KPASSWD_SET_PASSWORD_VERSION = 0xFF80


def error_name(code: int) -> str:
    """RFC 4120 7.5.9's name for a KRB-ERROR code (impacket's table for the rare ones)."""
    if code in ERROR_NAMES:
        return ERROR_NAMES[code]
    try:
        return str(constants.ErrorCodes(code).name)
    except ValueError:
        return f"KRB_ERROR_{code}"


@dataclass(frozen=True)
class KdcReply:
    """What a KDC (or a kpasswd server) answered."""

    kind: Literal["krb-error", "as-rep"]
    realm: str
    """The realm the KDC names in the reply (KRB-ERROR ``realm``, AS-REP ``crealm``)."""
    error_code: int | None = None
    error_name: str | None = None
    stime: datetime | None = None
    """The KDC's clock (KRB-ERROR ``stime`` + ``susec``), UTC: a cheap clock-skew reading."""
    server_principal: str | None = None
    """KRB-ERROR ``sname`` (``krbtgt/REALM`` for an AS-REQ)."""
    e_text: str | None = None


def frame_tcp(message: bytes) -> bytes:
    """RFC 4120 7.2.2: over TCP a Kerberos message is preceded by its length, 4 bytes big-endian."""
    if len(message) >= 1 << 31:
        raise ValueError("Kerberos TCP messages are limited to 2**31-1 bytes (the high bit is reserved)")
    return struct.pack(">I", len(message)) + message


def unframe_tcp(data: bytes) -> tuple[bytes, bytes]:
    """Split one length-prefixed TCP record off ``data``; return it and the rest."""
    if len(data) < 4:
        raise WireFormatError("Kerberos TCP record shorter than its length prefix.", offset=len(data))
    (length,) = struct.unpack_from(">I", data, 0)
    if length & 0x80000000:
        # RFC 4120 7.2.2: the high bit is reserved for extensions a server rejects.
        raise WireFormatError(f"Kerberos TCP length 0x{length:08x} has the reserved bit set.", offset=0)
    if len(data) - 4 < length:
        raise WireFormatError(
            f"Kerberos TCP record says {length} bytes, {len(data) - 4} arrived.", offset=len(data)
        )
    return data[4 : 4 + length], data[4 + length :]


def build_as_req(realm: str, principal: str, nonce: int) -> bytes:
    """An unauthenticated AS-REQ (RFC 4120 5.4.1) for ``principal@realm`` asking for krbtgt/REALM."""
    if not realm or not principal:
        raise ValueError("realm and principal must not be empty")
    if not 0 <= nonce <= 0xFFFFFFFF:
        raise ValueError(f"the nonce is a 32-bit unsigned value (RFC 4120 5.4.1), not {nonce}")
    request = AS_REQ()
    request["pvno"] = 5
    request["msg-type"] = int(constants.ApplicationTagNumbers.AS_REQ.value)
    body = seq_set(request, "req-body")
    # RFC 4120 5.4.1: KDCOptions is a 32-bit BIT STRING; forwardable (1) and renewable (8).
    options = [constants.KDCOptions.forwardable.value, constants.KDCOptions.renewable.value]
    body["kdc-options"] = "".join("1" if bit in options else "0" for bit in range(32))
    body["realm"] = realm.upper()
    client = seq_set(body, "cname")
    client["name-type"] = int(constants.PrincipalNameType.NT_PRINCIPAL.value)
    seq_set_iter(client, "name-string", (principal,))
    server = seq_set(body, "sname")
    server["name-type"] = int(constants.PrincipalNameType.NT_SRV_INST.value)
    seq_set_iter(server, "name-string", ("krbtgt", realm.upper()))
    body["till"] = TILL
    body["nonce"] = nonce
    seq_set_iter(body, "etype", ETYPES)
    return bytes(encoder.encode(request))


def _application_tag(data: bytes) -> int:
    # RFC 4120 5.10: every message is an [APPLICATION n] constructed type, one identifier byte.
    if not data:
        raise WireFormatError("Empty Kerberos reply.", offset=0)
    first = data[0]
    if first & 0xE0 != 0x60:
        raise WireFormatError(f"Not a Kerberos message (first byte 0x{first:02x}).", offset=0)
    return first & 0x1F


def _decode(data: bytes, spec: Any, what: str) -> Any:
    try:
        message, rest = decoder.decode(data, asn1Spec=spec)
    except PyAsn1Error as e:
        raise WireFormatError(f"Malformed {what}: {e}") from e
    except (ValueError, TypeError, IndexError) as e:  # pyasn1 lets a few of these escape
        raise WireFormatError(f"Malformed {what}: {e}") from e
    if rest:
        raise WireFormatError(f"{len(rest)} bytes after the {what}.", offset=len(data) - len(rest))
    return message


def _principal(name: Any) -> str:
    return "/".join(str(part) for part in name["name-string"])


def _kerberos_time(value: Any, microseconds: Any) -> datetime:
    # RFC 4120 5.2.3: KerberosTime is GeneralizedTime "YYYYMMDDHHMMSSZ", UTC, no fractions.
    try:
        moment = datetime.strptime(str(value), "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
        if microseconds is not noValue and microseconds.hasValue():
            moment = moment.replace(microsecond=int(microseconds))
    except ValueError as e:
        raise WireFormatError(f"Bad KerberosTime {value!s}: {e}") from e
    return moment


def parse_krb_error(data: bytes) -> KdcReply:
    """Decode a KRB-ERROR (RFC 4120 5.9.1)."""
    error = _decode(data, KRB_ERROR(), "KRB-ERROR")
    code = int(error["error-code"])
    e_text = error["e-text"]
    return KdcReply(
        kind="krb-error",
        realm=str(error["realm"]),
        error_code=code,
        error_name=error_name(code),
        stime=_kerberos_time(error["stime"], error["susec"]),
        server_principal=_principal(error["sname"]),
        e_text=str(e_text) if e_text.hasValue() else None,
    )


def parse_kdc_reply(data: bytes) -> KdcReply:
    """Decode what a KDC sent back to :func:`build_as_req`: a KRB-ERROR or an AS-REP."""
    tag = _application_tag(data)
    if tag == _TAG_KRB_ERROR:
        return parse_krb_error(data)
    if tag == _TAG_AS_REP:
        reply = _decode(data, AS_REP(), "AS-REP")
        return KdcReply(kind="as-rep", realm=str(reply["crealm"]))
    raise WireFormatError(f"Kerberos message with application tag {tag} is not an AS-REP or KRB-ERROR.")


# -- kpasswd ------------------------------------------------------------------------------------

# RFC 3244 2: result codes of a kpasswd reply (first two bytes of the result data).
KPASSWD_RESULT_NAMES: dict[int, str] = {
    0: "KRB5_KPASSWD_SUCCESS",
    1: "KRB5_KPASSWD_MALFORMED",
    2: "KRB5_KPASSWD_HARDERROR",
    3: "KRB5_KPASSWD_AUTHERROR",
    4: "KRB5_KPASSWD_SOFTERROR",
    5: "KRB5_KPASSWD_ACCESSDENIED",
    6: "KRB5_KPASSWD_BAD_VERSION",
    7: "KRB5_KPASSWD_INITIAL_FLAG_NEEDED",
}


@dataclass(frozen=True)
class KpasswdReply:
    """What a kpasswd server (RFC 3244) answered."""

    kind: Literal["krb-error", "ap-rep"]
    """``krb-error``: the server refused the AP-REQ; ``ap-rep``: it accepted one (never for the probe)."""
    error: KdcReply | None
    """The KRB-ERROR, when ``kind`` is ``krb-error``."""
    result_code: int | None = None
    """The kpasswd result code the KRB-ERROR's e-data carries (RFC 3244 2), when it has one."""
    result_name: str | None = None
    result_string: str | None = None


def build_kpasswd_probe() -> bytes:
    """A kpasswd request (RFC 3244 2) with a 4-byte garbage AP-REQ and KRB-PRIV.

    No server can accept it, and a server answers it rather than dropping it: the header is well
    formed (length, version 0xff80, AP-REQ length) and both parts are non-empty, which Samba
    checks before it looks at the AP-REQ. Samba 4.17 answers with a framed reply holding a
    KRB-ERROR whose e-data is KRB5_KPASSWD_HARDERROR (recorded in fixtures/wire). An empty AP-REQ
    gets no answer at all from Samba. Windows was not tested.
    """
    ap_req = b"\x00" * 4
    krb_priv = b"\x00" * 4
    # RFC 3244 2: message length (2), protocol version (2), AP-REQ length (2), AP-REQ, KRB-PRIV.
    header = struct.pack(">HHH", 6 + len(ap_req) + len(krb_priv), KPASSWD_SET_PASSWORD_VERSION, len(ap_req))
    return header + ap_req + krb_priv


def parse_kpasswd_reply(data: bytes) -> KpasswdReply:
    """Decode a kpasswd server's answer: a framed reply (RFC 3244 2) or a bare KRB-ERROR.

    A framed reply carries an AP-REP (then a KRB-PRIV this module cannot open) or, when the
    AP-REQ was refused, a KRB-ERROR in place of both.
    """
    if data[:1] and data[0] & 0xE0 == 0x60:
        # Some servers send the KRB-ERROR unframed.
        return _kpasswd_error(data)
    if len(data) < 6:
        raise WireFormatError(f"kpasswd reply shorter than its 6-byte header ({len(data)} bytes).")
    length, version, ap_rep_length = struct.unpack_from(">HHH", data, 0)
    if length != len(data):
        raise WireFormatError(f"kpasswd reply says {length} bytes, {len(data)} arrived.", offset=0)
    if version != KPASSWD_REPLY_VERSION:
        raise WireFormatError(f"kpasswd reply version 0x{version:04x}, expected 0x0001.", offset=2)
    if ap_rep_length:
        ap_rep = data[6 : 6 + ap_rep_length]
        if len(ap_rep) < ap_rep_length:
            raise WireFormatError("kpasswd AP-REP runs past the end of the reply.", offset=6)
        if _application_tag(ap_rep) != _TAG_AP_REP:
            raise WireFormatError("kpasswd reply holds no AP-REP where it should.", offset=6)
        _decode(ap_rep, AP_REP(), "AP-REP")
        return KpasswdReply(kind="ap-rep", error=None)
    # RFC 3244 2: with no AP-REP, the rest is a KRB-ERROR.
    return _kpasswd_error(data[6:])


def _kpasswd_error(data: bytes) -> KpasswdReply:
    if _application_tag(data) != _TAG_KRB_ERROR:
        raise WireFormatError("kpasswd reply holds neither an AP-REP nor a KRB-ERROR.")
    error_message = _decode(data, KRB_ERROR(), "KRB-ERROR")
    error = parse_krb_error(data)
    # RFC 3244 2: the KRB-ERROR's e-data is the result: a 2-byte code, then a UTF-8 string.
    e_data = error_message["e-data"]
    if not e_data.hasValue() or len(bytes(e_data)) < 2:
        return KpasswdReply(kind="krb-error", error=error)
    raw = bytes(e_data)
    (code,) = struct.unpack_from(">H", raw, 0)
    text = raw[2:].decode("utf-8", "replace").strip("\x00\n ")
    return KpasswdReply(
        kind="krb-error",
        error=error,
        result_code=code,
        result_name=KPASSWD_RESULT_NAMES.get(code, str(code)),
        result_string=text or None,
    )
