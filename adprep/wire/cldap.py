"""The CLDAP netlogon ping ("LDAP Ping", MS-ADTS 6.3.3): build the request, decode the reply.

A netlogon ping is an LDAP SearchRequest (RFC 4511 4.5.1) sent over UDP 389 without a bind: base
``""``, scope base, filter ``(&(DnsDomain=<domain>)(NtVer=<4 bytes LE>))``, attribute ``Netlogon``.
A DC that serves the domain answers with a SearchResultEntry whose ``Netlogon`` value is a
NETLOGON_SAM_LOGON_RESPONSE_EX (MS-ADTS 6.3.1.9), followed by a SearchResultDone; both LDAPMessages
usually travel in one datagram. A DC that does not serve the domain answers with the
SearchResultDone alone. The LDAP envelope is encoded with ldap3's RFC 4511 ASN.1 types and
pyasn1's BER codec; the Netlogon blob is decoded here by hand.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from ldap3.protocol.rfc4511 import (
    LDAPDN,
    And,
    AssertionValue,
    AttributeDescription,
    AttributeSelection,
    DerefAliases,
    EqualityMatch,
    Filter,
    Integer0ToMax,
    LDAPMessage,
    MessageID,
    ProtocolOp,
    Scope,
    SearchRequest,
    Selector,
    TypesOnly,
)
from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error

from adprep.errors import WireFormatError


class NtVersion(IntFlag):
    """NETLOGON_NT_VERSION options of the ``NtVer`` filter term (MS-ADTS 6.3.1.1)."""

    V1 = 0x1
    V5 = 0x2
    V5EX = 0x4
    V5EX_WITH_IP = 0x8
    WITH_CLOSEST_SITE = 0x10
    AVOID_NT4EMUL = 0x01000000
    PDC = 0x10000000
    IP = 0x20000000
    LOCAL = 0x40000000
    GC = 0x80000000


#: What adprep asks for: V5EX selects the NETLOGON_SAM_LOGON_RESPONSE_EX layout (the one carrying
#: DcSiteName and ClientSiteName), V5 keeps pre-2003 DCs answering, WITH_CLOSEST_SITE adds
#: NextClosestSiteName. V5EX_WITH_IP is left out: the socket layer already knows the DC's address.
DEFAULT_NTVER = NtVersion.V5 | NtVersion.V5EX | NtVersion.WITH_CLOSEST_SITE


class DsFlag(IntFlag):
    """The ``Flags`` field of a netlogon response: DS_FLAG options (MS-ADTS 6.3.1.2)."""

    DS_PDC_FLAG = 0x1
    DS_GC_FLAG = 0x4
    DS_LDAP_FLAG = 0x8
    DS_DS_FLAG = 0x10
    DS_KDC_FLAG = 0x20
    DS_TIMESERV_FLAG = 0x40
    DS_CLOSEST_FLAG = 0x80
    DS_WRITABLE_FLAG = 0x100
    DS_GOOD_TIMESERV_FLAG = 0x200
    DS_NDNC_FLAG = 0x400
    DS_SELECT_SECRET_DOMAIN_6_FLAG = 0x800
    DS_FULL_SECRET_DOMAIN_6_FLAG = 0x1000
    DS_WS_FLAG = 0x2000
    DS_DS_8_FLAG = 0x4000
    DS_DS_9_FLAG = 0x8000
    DS_DS_10_FLAG = 0x10000
    DS_DNS_CONTROLLER_FLAG = 0x20000000
    DS_DNS_DOMAIN_FLAG = 0x40000000
    DS_DNS_FOREST_FLAG = 0x80000000


# MS-ADTS 6.3.1.9: the opcodes that share the NETLOGON_SAM_LOGON_RESPONSE_EX layout.
LOGON_SAM_LOGON_RESPONSE_EX = 23
LOGON_SAM_PAUSE_RESPONSE_EX = 24
LOGON_SAM_USER_UNKNOWN_EX = 25
_EX_OPCODES = {
    LOGON_SAM_LOGON_RESPONSE_EX: "LOGON_SAM_LOGON_RESPONSE_EX",
    LOGON_SAM_PAUSE_RESPONSE_EX: "LOGON_SAM_PAUSE_RESPONSE_EX",
    LOGON_SAM_USER_UNKNOWN_EX: "LOGON_SAM_USER_UNKNOWN_EX",
}

# RFC 1035 4.1.4: a pointer is a 16-bit field whose two high bits are set.
_POINTER = 0xC0
_MAX_LABEL = 63


@dataclass(frozen=True)
class NetlogonResponse:
    """A decoded NETLOGON_SAM_LOGON_RESPONSE_EX (MS-ADTS 6.3.1.9)."""

    opcode: int
    """23 LOGON_SAM_LOGON_RESPONSE_EX (24 pause, 25 user unknown share the layout)."""
    flags: DsFlag
    """What the DC is and serves (PDC, GC, KDC, writable, ...)."""
    domain_guid: uuid.UUID
    dns_forest_name: str
    dns_domain_name: str
    dns_host_name: str
    netbios_domain_name: str
    netbios_computer_name: str
    user_name: str
    """Empty unless the ping named a ``User``."""
    dc_site_name: str
    """The AD site the DC is in."""
    client_site_name: str
    """The AD site the pinging client's address maps to; empty when no subnet covers it."""
    next_closest_site_name: str | None
    """Present only when the ping asked for NETLOGON_NT_VERSION_WITH_CLOSEST_SITE and the DC sent it."""
    dc_sock_addr: str | None
    """The DC's IPv4 address, present only when the ping asked for NETLOGON_NT_VERSION_5EX_WITH_IP."""
    nt_version: int
    lm_nt_token: int
    lm20_token: int

    @property
    def flag_names(self) -> tuple[str, ...]:
        """The names of the set flags, lowest bit first (unknown bits as ``0x…``)."""
        names: list[str] = []
        for bit in range(32):
            value = 1 << bit
            if self.flags & value:
                try:
                    names.append(DsFlag(value).name or hex(value))
                except ValueError:
                    names.append(hex(value))
        return tuple(names)

    @property
    def opcode_name(self) -> str:
        return _EX_OPCODES.get(self.opcode, str(self.opcode))


@dataclass(frozen=True)
class CldapReply:
    """Every LDAPMessage of one CLDAP datagram that answers the ping."""

    message_id: int
    result_code: int | None
    """The SearchResultDone's resultCode (0 success), or None when the datagram held no Done."""
    netlogon: NetlogonResponse | None
    """The decoded entry, or None when the DC does not serve the domain (no entry)."""
    netlogon_error: str | None = None
    """Why a Netlogon value that was present could not be decoded."""


# -- request ------------------------------------------------------------------------------------


def _equality(attribute: str, value: bytes) -> Filter:
    match = EqualityMatch()
    match["attributeDesc"] = AttributeDescription(attribute)
    match["assertionValue"] = AssertionValue(value)
    term = Filter()
    term["equalityMatch"] = match
    return term


def build_netlogon_ping(message_id: int, dns_domain: str, ntver: int = DEFAULT_NTVER) -> bytes:
    """An LDAP Ping (MS-ADTS 6.3.3) for ``dns_domain`` as one UDP payload."""
    if not 0 <= message_id <= 0x7FFFFFFF:
        raise ValueError(f"LDAP message IDs are 0..2**31-1 (RFC 4511 4.1.1), not {message_id}")
    if not 0 <= ntver <= 0xFFFFFFFF:
        raise ValueError(f"NtVer is a 32-bit value, not {ntver}")
    terms = And()
    # MS-ADTS 6.3.3.1: DnsDomain is the domain's DNS name; NtVer is a 4-byte little-endian integer.
    terms[0] = _equality("DnsDomain", dns_domain.rstrip(".").encode("utf-8"))
    terms[1] = _equality("NtVer", struct.pack("<I", ntver))
    search_filter = Filter()
    search_filter["and"] = terms
    attributes = AttributeSelection()
    attributes[0] = Selector("Netlogon")

    request = SearchRequest()
    request["baseObject"] = LDAPDN("")
    request["scope"] = Scope("baseObject")
    request["derefAliases"] = DerefAliases("neverDerefAliases")
    request["sizeLimit"] = Integer0ToMax(0)
    request["timeLimit"] = Integer0ToMax(0)
    request["typesOnly"] = TypesOnly(False)
    request["filter"] = search_filter
    request["attributes"] = attributes
    operation = ProtocolOp()
    operation["searchRequest"] = request
    message = LDAPMessage()
    message["messageID"] = MessageID(message_id)
    message["protocolOp"] = operation
    return bytes(encoder.encode(message))


def parse_netlogon_ping(data: bytes) -> tuple[int, int]:
    """The message id and NtVer of a ping built by :func:`build_netlogon_ping`.

    Read by hand: pyasn1 cannot decode ldap3's recursive Filter type, and only two values matter.
    """
    # RFC 4511 4.1.1: LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp ... }.
    try:
        tag, body, _ = _tlv(data, 0)
        if tag != 0x30:
            raise WireFormatError("Not an LDAP message: no SEQUENCE.", offset=0)
        tag, id_bytes, _ = _tlv(body, 0)
        if tag != 0x02 or not 1 <= len(id_bytes) <= 4:
            raise WireFormatError("Not an LDAP message: no messageID.", offset=2)
    except IndexError as e:
        raise WireFormatError("Truncated LDAP message.", offset=len(data)) from e
    message_id = int.from_bytes(id_bytes, "big", signed=True)
    # MS-ADTS 6.3.3.1: the NtVer term is an equalityMatch whose value is 4 bytes little-endian.
    marker = b"\x04\x05NtVer\x04\x04"
    at = data.find(marker)
    if at < 0 or at + len(marker) + 4 > len(data):
        raise WireFormatError("Not a netlogon ping: no NtVer term.")
    (ntver,) = struct.unpack_from("<I", data, at + len(marker))
    return message_id, int(ntver)


def _tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One BER tag-length-value at ``offset`` (X.690 8.1): tag byte, value, offset after it."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4:
            raise WireFormatError(f"Unsupported BER length form 0x{length:02x}.", offset=offset + 1)
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    if start + length > len(data):
        raise WireFormatError("BER value runs past the end of the message.", offset=offset)
    return tag, data[start : start + length], start + length


# -- reply --------------------------------------------------------------------------------------


def _ldap_messages(data: bytes) -> list[Any]:
    """Every LDAPMessage in ``data``, in order (a CLDAP datagram may carry several)."""
    messages: list[Any] = []
    rest = data
    while rest:
        offset = len(data) - len(rest)
        try:
            message, rest = decoder.decode(rest, asn1Spec=LDAPMessage())
        except PyAsn1Error as e:
            raise WireFormatError(f"Not an LDAP message: {e}", offset=offset) from e
        except (ValueError, TypeError, IndexError) as e:  # pyasn1 lets a few of these escape
            raise WireFormatError(f"Not an LDAP message: {e}", offset=offset) from e
        messages.append(message)
    if not messages:
        raise WireFormatError("Empty CLDAP reply.")
    return messages


def reply_message_id(data: bytes) -> int:
    """The message id of the first LDAPMessage in a CLDAP reply."""
    return int(_ldap_messages(data)[0]["messageID"])


def parse_netlogon_reply(data: bytes, message_id: int, ntver: int = DEFAULT_NTVER) -> CldapReply:
    """Decode the datagram that answers :func:`build_netlogon_ping`.

    ``ntver`` should be what the ping asked for: it tells DcSockAddr from NextClosestSiteName, the
    optional fields of MS-ADTS 6.3.1.9. Raises :class:`WireFormatError` when ``data`` is not an LDAP reply to
    ``message_id``; a reply whose Netlogon value is malformed is returned with ``netlogon_error``.
    """
    result_code: int | None = None
    blob: bytes | None = None
    for message in _ldap_messages(data):
        if int(message["messageID"]) != message_id:
            raise WireFormatError(f"LDAP reply to message {int(message['messageID'])}, not {message_id}.")
        operation = message["protocolOp"]
        name = operation.getName()
        if name == "searchResDone":
            result_code = int(operation["searchResDone"]["resultCode"])
        elif name == "searchResEntry":
            blob = _netlogon_value(operation["searchResEntry"])
        else:
            raise WireFormatError(f"Unexpected LDAP operation {name} in a CLDAP reply.")
    if blob is None:
        return CldapReply(message_id=message_id, result_code=result_code, netlogon=None)
    try:
        netlogon = parse_netlogon_response(blob, ntver)
    except WireFormatError as e:
        return CldapReply(message_id, result_code, None, netlogon_error=e.sentence())
    return CldapReply(message_id=message_id, result_code=result_code, netlogon=netlogon)


def _netlogon_value(entry: Any) -> bytes | None:
    for attribute in entry["attributes"]:
        # Samba answers with "netlogon", Windows with "Netlogon": attribute names are case-insensitive.
        if str(attribute["type"]).lower() == "netlogon":
            values = list(attribute["vals"])
            return bytes(values[0]) if values else None
    return None


def parse_netlogon_response(blob: bytes, ntver: int = DEFAULT_NTVER) -> NetlogonResponse:
    """Decode a NETLOGON_SAM_LOGON_RESPONSE_EX (MS-ADTS 6.3.1.9) from the Netlogon attribute value."""
    # MS-ADTS 6.3.1.9: Opcode (2), Sbz (2), Flags (4), DomainGuid (16), then compressed names.
    if len(blob) < 24:
        raise WireFormatError(f"Netlogon response too short ({len(blob)} bytes).", offset=len(blob))
    opcode, _sbz, flags = struct.unpack_from("<HHI", blob, 0)
    if opcode not in _EX_OPCODES:
        raise WireFormatError(
            f"Netlogon opcode {opcode} is not a NETLOGON_SAM_LOGON_RESPONSE_EX.",
            offset=0,
            hint="The ping must ask for NETLOGON_NT_VERSION_5EX (0x4).",
        )
    domain_guid = uuid.UUID(bytes_le=blob[8:24])
    offset = 24
    names: list[str] = []
    for _ in range(8):
        name, offset = read_compressed_name(blob, offset)
        names.append(name)
    # MS-ADTS 6.3.1.9: the blob ends with NtVersion (4), LmNtToken (2), Lm20Token (2). What lies
    # between the names and that tail are the optional fields, each present only when the ping asked
    # for it AND the DC chose to send it (Samba 4.17 never sends NextClosestSiteName).
    tail = len(blob) - 8
    if offset > tail:
        raise WireFormatError("Netlogon response ends before NtVersion and the tokens.", offset=offset)
    sock_addr: str | None = None
    next_closest: str | None = None
    if ntver & NtVersion.V5EX_WITH_IP and offset < tail:
        # DcSockAddrSize (1 byte), then a SOCKADDR_IN of that size: family (2), port (2), address (4).
        size = blob[offset]
        if size < 8 or offset + 1 + size > tail:
            raise WireFormatError(f"Bad DcSockAddrSize {size}.", offset=offset)
        sock_addr = ".".join(str(b) for b in blob[offset + 5 : offset + 9])
        offset += 1 + size
    if offset < tail:
        next_closest, offset = read_compressed_name(blob, offset)
    if offset != tail:
        raise WireFormatError(
            f"Netlogon response has {tail - offset} unexpected bytes before NtVersion.", offset=offset
        )
    nt_version, lm_nt_token, lm20_token = struct.unpack_from("<IHH", blob, offset)
    return NetlogonResponse(
        opcode=opcode,
        flags=DsFlag(flags),
        domain_guid=domain_guid,
        dns_forest_name=names[0],
        dns_domain_name=names[1],
        dns_host_name=names[2],
        netbios_domain_name=names[3],
        netbios_computer_name=names[4],
        user_name=names[5],
        dc_site_name=names[6],
        client_site_name=names[7],
        next_closest_site_name=next_closest,
        dc_sock_addr=sock_addr,
        nt_version=nt_version,
        lm_nt_token=lm_nt_token,
        lm20_token=lm20_token,
    )


def read_compressed_name(blob: bytes, offset: int) -> tuple[str, int]:
    """Read an RFC 1035 4.1.4 compressed name at ``offset``; return it and the offset after it.

    Pointers are relative to the start of ``blob`` (the Netlogon value, MS-ADTS 6.3.1.9). Every
    pointer must target an offset not visited before, so a pointer loop ends in an error.
    """
    labels: list[str] = []
    visited: set[int] = set()
    position = offset
    end: int | None = None  # where the name ends in the blob: after its first pointer or its 0 byte
    while True:
        if position >= len(blob):
            raise WireFormatError("Name runs past the end of the Netlogon response.", offset=position)
        length = blob[position]
        if length & _POINTER == _POINTER:
            if position + 1 >= len(blob):
                raise WireFormatError("Truncated name pointer.", offset=position)
            target = ((length & 0x3F) << 8) | blob[position + 1]
            if end is None:
                end = position + 2
            if target in visited or target >= len(blob):
                raise WireFormatError(f"Name pointer to {target} loops or points outside.", offset=position)
            visited.add(target)
            position = target
            continue
        if length & _POINTER:
            # RFC 1035 4.1.4 / RFC 6891: 0x40 and 0x80 prefixes are not labels or pointers.
            raise WireFormatError(f"Bad label length byte 0x{length:02x}.", offset=position)
        visited.add(position)
        if length == 0:
            return ".".join(labels), position + 1 if end is None else end
        label = blob[position + 1 : position + 1 + length]
        if len(label) < length:
            raise WireFormatError("Label runs past the end of the Netlogon response.", offset=position)
        try:
            labels.append(label.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise WireFormatError(f"Label is not UTF-8: {label!r}.", offset=position) from e
        position += 1 + length
