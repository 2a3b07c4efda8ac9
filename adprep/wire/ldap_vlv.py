"""The Virtual List View (draft-ietf-ldapext-ldapv3-vlv-09) and server-side sort (RFC 2891) controls:
their BER values, encoded and decoded with the ASN.1 types ldap3's pyasn1 provides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adprep.errors import LdapError
from adprep.model import ErrorReason

#: RFC 2891 server-side sort request; VLV needs it (draft-ietf-ldapext-ldapv3-vlv-09 section 1).
SORT_REQUEST_OID = "1.2.840.113556.1.4.473"

VLV_REQUEST_OID = "2.16.840.1.113730.3.4.9"

VLV_RESPONSE_OID = "2.16.840.1.113730.3.4.10"


@dataclass(frozen=True)
class VlvResponse:
    """The VirtualListViewResponse control value (draft-ietf-ldapext-ldapv3-vlv-09 section 6.2)."""

    target_position: int
    content_count: int
    """The server's estimate of how many entries the sorted result holds."""
    result: int
    """An LDAP result code; 0 is success."""


def _vlv_asn1() -> tuple[Any, Any, Any]:
    """The ASN.1 types of the sort and VLV controls, built on first use (pyasn1 comes with ldap3)."""
    from pyasn1.type import namedtype, tag, univ

    def context(simple: Any, number: int) -> Any:
        """``[number] IMPLICIT`` of a simple type."""
        return simple.subtype(implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, number))

    sequence_tags: Any = univ.Sequence.tagSet

    class SortKey(univ.Sequence):
        # RFC 2891 section 1.1: SortKeyList ::= SEQUENCE OF SEQUENCE {attributeType, [0] orderingRule
        # OPTIONAL, [1] reverseOrder DEFAULT FALSE}
        componentType = namedtype.NamedTypes(
            namedtype.NamedType("attributeType", univ.OctetString()),
            namedtype.OptionalNamedType(
                "orderingRule",
                context(univ.OctetString(), 0),
            ),
            namedtype.DefaultedNamedType(
                "reverseOrder",
                context(univ.Boolean(False), 1),
            ),
        )

    class SortKeyList(univ.SequenceOf):
        componentType = SortKey()

    class ByOffset(univ.Sequence):
        tagSet = sequence_tags.tagImplicitly(tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0))
        componentType = namedtype.NamedTypes(
            namedtype.NamedType("offset", univ.Integer()),
            namedtype.NamedType("contentCount", univ.Integer()),
        )

    class Target(univ.Choice):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType("byOffset", ByOffset()),
            namedtype.NamedType(
                "greaterThanOrEqual",
                context(univ.OctetString(), 1),
            ),
        )

    class VlvRequest(univ.Sequence):
        # draft-ietf-ldapext-ldapv3-vlv-09 section 6.1
        componentType = namedtype.NamedTypes(
            namedtype.NamedType("beforeCount", univ.Integer()),
            namedtype.NamedType("afterCount", univ.Integer()),
            namedtype.NamedType("target", Target()),
            namedtype.OptionalNamedType("contextID", univ.OctetString()),
        )

    class VlvResponseValue(univ.Sequence):
        # draft-ietf-ldapext-ldapv3-vlv-09 section 6.2
        componentType = namedtype.NamedTypes(
            namedtype.NamedType("targetPosition", univ.Integer()),
            namedtype.NamedType("contentCount", univ.Integer()),
            namedtype.NamedType("virtualListViewResult", univ.Enumerated()),
            namedtype.OptionalNamedType("contextID", univ.OctetString()),
        )

    return SortKeyList, VlvRequest, VlvResponseValue


def encode_sort_request(attribute: str, *, reverse: bool = False) -> bytes:
    """The BER value of a server-side sort request on one attribute (RFC 2891)."""
    from pyasn1.codec.ber import encoder

    sort_key_list, _, _ = _vlv_asn1()
    keys = sort_key_list()
    keys[0]["attributeType"] = attribute
    if reverse:
        keys[0]["reverseOrder"] = True
    return bytes(encoder.encode(keys))


def encode_vlv_request(*, before: int, after: int, offset: int, content_count: int = 0) -> bytes:
    """The BER value of a VLV request addressed by offset (draft-ietf-ldapext-ldapv3-vlv-09 6.1).

    ``content_count`` 0 tells the server "I do not know the count yet"; ``offset`` is 1-based."""
    from pyasn1.codec.ber import encoder

    _, vlv_request, _ = _vlv_asn1()
    request = vlv_request()
    request["beforeCount"] = before
    request["afterCount"] = after
    by_offset = request["target"].getComponentByName("byOffset")
    by_offset["offset"] = offset
    by_offset["contentCount"] = content_count
    return bytes(encoder.encode(request))


def decode_vlv_response(value: bytes) -> VlvResponse:
    """Decode a VLV response control value; raises :class:`adprep.errors.LdapError` if malformed."""
    from pyasn1.codec.ber import decoder
    from pyasn1.error import PyAsn1Error

    _, _, vlv_response = _vlv_asn1()
    try:
        decoded, _rest = decoder.decode(value, asn1Spec=vlv_response())
    except PyAsn1Error as e:
        raise LdapError(
            f"The DC sent a VLV response control adprep cannot decode ({e})",
            hint="This is likely a bug in adprep; please report it with the DC's version.",
            error_reason=ErrorReason.MALFORMED,
        ) from e
    return VlvResponse(
        target_position=int(decoded["targetPosition"]),
        content_count=int(decoded["contentCount"]),
        result=int(decoded["virtualListViewResult"]),
    )
