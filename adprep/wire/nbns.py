"""NetBIOS name service messages (RFC 1002 4.2): a name query or node status request, and the reply.

A NetBIOS name travels first-level encoded (RFC 1001 14.1): 16 bytes (15 name characters padded
with spaces, then a suffix byte such as 0x00 workstation or 0x1C domain controllers), each byte
split into two nibbles written as ``'A' + nibble``, giving a 32-character DNS label. A node status
request asks for the wildcard name ``*`` (padded with NULs) with type NBSTAT and lists the names a
host has registered, which is the reply most hosts give to a stranger.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from adprep.errors import WireFormatError

# RFC 1002 4.2.1.3: question types and class.
NB = 0x0020
NBSTAT = 0x0021
CLASS_IN = 0x0001

# RFC 1002 4.2.1.1: header flags.
_RESPONSE = 0x8000
_OPCODE_MASK = 0x7800
_AA = 0x0400
_RD = 0x0100
_RCODE_MASK = 0x000F

RCODE_NAMES = {
    0: "NOERROR",
    1: "FMT_ERR",
    2: "SRV_ERR",
    3: "NAM_ERR",
    4: "IMP_ERR",
    5: "RFS_ERR",
    6: "ACT_ERR",
    7: "CFT_ERR",
}

# Common suffixes (the 16th byte) a query names.
WORKSTATION = 0x00
DOMAIN_CONTROLLERS = 0x1C
FILE_SERVER = 0x20


@dataclass(frozen=True)
class NbnsName:
    """One name of a node status reply (RFC 1002 4.2.18)."""

    name: str
    suffix: int
    group: bool


@dataclass(frozen=True)
class NbnsReply:
    """A decoded name query response (RFC 1002 4.2.13) or node status response (4.2.18)."""

    transaction_id: int
    rcode: int
    authoritative: bool
    queried_name: str
    """The decoded first-level name of the answer record (``*`` for node status)."""
    record_type: int | None
    """NB (0x20) or NBSTAT (0x21); None for a negative response without an answer."""
    addresses: tuple[str, ...] = ()
    """The IPv4 addresses of a positive name query response."""
    names: tuple[NbnsName, ...] = ()
    """The names of a node status response."""

    @property
    def rcode_name(self) -> str:
        return RCODE_NAMES.get(self.rcode, str(self.rcode))


def encode_netbios_name(name: str, suffix: int = WORKSTATION) -> bytes:
    """The first-level encoding of ``name`` (RFC 1001 14.1) as a length-prefixed label plus root."""
    if name == "*":
        raw = b"*" + b"\0" * 15  # RFC 1002 4.2.17: the wildcard is padded with NULs, not spaces.
    else:
        encoded = name.upper().encode("ascii")
        if not encoded or len(encoded) > 15:
            raise ValueError(f"a NetBIOS name has 1-15 characters, not {name!r}")
        raw = encoded.ljust(15, b" ") + bytes([suffix])
    label = bytes(0x41 + (nibble) for byte in raw for nibble in (byte >> 4, byte & 0x0F))
    return bytes([len(label)]) + label + b"\0"


def decode_netbios_name(label: bytes) -> tuple[str, int]:
    """Undo the first-level encoding of a 32-byte label: return the name (stripped) and suffix."""
    if len(label) != 32 or any(not 0x41 <= b <= 0x50 for b in label):
        raise WireFormatError(f"Not a first-level encoded NetBIOS name: {label!r}.")
    raw = bytes(((label[i] - 0x41) << 4) | (label[i + 1] - 0x41) for i in range(0, 32, 2))
    name = raw[:15].rstrip(b" \0").decode("ascii", "replace")
    return name, raw[15]


def build_nbns_query(name: str, transaction_id: int, suffix: int = WORKSTATION) -> bytes:
    """A unicast name query (RFC 1002 4.2.12) for ``name``, or a node status request for ``*``."""
    if not 0 <= transaction_id <= 0xFFFF:
        raise ValueError(f"the NBNS transaction id is 16 bits, not {transaction_id}")
    question_type = NBSTAT if name == "*" else NB
    # RFC 1002 4.2.12: opcode 0 (query), RD set, no broadcast bit for a unicast query.
    flags = 0 if question_type == NBSTAT else _RD
    header = struct.pack(">HHHHHH", transaction_id, flags, 1, 0, 0, 0)
    return header + encode_netbios_name(name, suffix) + struct.pack(">HH", question_type, CLASS_IN)


def parse_nbns_reply(data: bytes, transaction_id: int | None = None) -> NbnsReply:
    """Decode a name query or node status response (RFC 1002 4.2.13-4.2.18)."""
    if len(data) < 12:
        raise WireFormatError(f"NBNS packet is {len(data)} bytes, shorter than its header.", offset=len(data))
    txid, flags, qdcount, ancount, nscount, arcount = struct.unpack_from(">HHHHHH", data, 0)
    if not flags & _RESPONSE:
        raise WireFormatError("NBNS packet is a request, not a response.", offset=2)
    if flags & _OPCODE_MASK:
        raise WireFormatError(
            f"NBNS opcode {(flags & _OPCODE_MASK) >> 11} is not a query response.", offset=2
        )
    if transaction_id is not None and txid != transaction_id:
        raise WireFormatError(f"NBNS reply to transaction {txid}, not {transaction_id}.", offset=0)
    rcode = flags & _RCODE_MASK
    offset = 12
    for _ in range(qdcount):  # responses normally echo no question; skip any that are there
        offset = _skip_name(data, offset) + 4
    if ancount == 0:
        return NbnsReply(txid, rcode, bool(flags & _AA), "", None)
    label_end = _skip_name(data, offset)
    if data[offset] != 32:
        raise WireFormatError("NBNS answer name is not a 32-byte encoded NetBIOS name.", offset=offset)
    name, _suffix = decode_netbios_name(data[offset + 1 : offset + 33])
    offset = label_end
    if offset + 10 > len(data):
        raise WireFormatError("NBNS answer record is truncated.", offset=offset)
    rr_type, _rr_class, _ttl, rdlength = struct.unpack_from(">HHIH", data, offset)
    offset += 10
    rdata = data[offset : offset + rdlength]
    if len(rdata) < rdlength:
        raise WireFormatError("NBNS answer data runs past the end of the packet.", offset=offset)
    if offset + rdlength < len(data) and ancount == 1 and not (nscount or arcount):
        # RFC 1002 4.2.1: the counts say where a packet ends; bytes past that are not NBNS.
        extra = len(data) - offset - rdlength
        raise WireFormatError(f"{extra} bytes after the end of the NBNS reply.", offset=offset + rdlength)
    if rr_type == NB:
        # RFC 1002 4.2.13: NB_FLAGS (2) + NB_ADDRESS (4), repeated.
        if rdlength % 6:
            raise WireFormatError(
                f"NB record data of {rdlength} bytes is not a multiple of 6.", offset=offset
            )
        addresses = tuple(".".join(str(b) for b in rdata[i + 2 : i + 6]) for i in range(0, rdlength, 6))
        return NbnsReply(txid, rcode, bool(flags & _AA), name, NB, addresses=addresses)
    if rr_type == NBSTAT:
        return NbnsReply(txid, rcode, bool(flags & _AA), name, NBSTAT, names=_node_names(rdata, offset))
    raise WireFormatError(f"NBNS answer type 0x{rr_type:04x} is neither NB nor NBSTAT.", offset=offset - 10)


def _skip_name(data: bytes, offset: int) -> int:
    # RFC 1002 4.1: names are DNS-style label sequences, possibly ending in a pointer.
    while True:
        if offset >= len(data):
            raise WireFormatError("NBNS name runs past the end of the packet.", offset=offset)
        length = data[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length & 0xC0:
            raise WireFormatError(f"Bad label length byte 0x{length:02x}.", offset=offset)
        if length == 0:
            return offset + 1
        offset += 1 + length


def _node_names(rdata: bytes, base: int) -> tuple[NbnsName, ...]:
    # RFC 1002 4.2.18: NUM_NAMES (1), then 18 bytes per name: 15 name + suffix, NAME_FLAGS (2).
    if not rdata:
        raise WireFormatError("Empty NBSTAT record.", offset=base)
    count = rdata[0]
    if 1 + count * 18 > len(rdata):
        raise WireFormatError(f"NBSTAT record lists {count} names but is {len(rdata)} bytes.", offset=base)
    names = []
    for i in range(count):
        entry = rdata[1 + i * 18 : 19 + i * 18]
        (name_flags,) = struct.unpack_from(">H", entry, 16)
        names.append(
            NbnsName(
                name=entry[:15].rstrip(b" \0").decode("ascii", "replace"),
                suffix=entry[15],
                group=bool(name_flags & 0x8000),
            )
        )
    return tuple(names)
