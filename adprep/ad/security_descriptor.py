"""Security descriptors as AD stores them in ``nTSecurityDescriptor``: a typed value model, a
parser, and an encoder that adds ACEs without disturbing anything already there.

Owns MS-DTYP 2.4 (SIDs, ACEs, ACLs, self-relative descriptors) for the DACL-editing adprep does.
ACE bodies are decoded and built with impacket's ``ldaptypes`` (as Certipy and dacledit.py do). The
descriptor and ACL framing is read and written here with ``struct`` instead, because impacket's
round trip is not byte-exact: ``ACE.getData`` recomputes ``AceSize`` (dropping the padding AD
sometimes leaves), ``ACE.fromString`` raises ``KeyError`` on ACE types it does not know, and
``SR_SECURITY_DESCRIPTOR.fromString`` loses the SACL when the DACL offset is 0. adprep must keep
every ACE it did not create byte-for-byte, so existing ACEs are carried as raw bytes.
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntFlag
from typing import Literal

from impacket.ldap import ldaptypes

from adprep.errors import WireFormatError

AceKind = Literal["allow", "deny"]


class AccessMask(IntFlag):
    """Directory-service access rights (MS-ADTS 5.1.3.2, MS-DTYP 2.4.3)."""

    CREATE_CHILD = 0x1
    DELETE_CHILD = 0x2
    LIST_CHILDREN = 0x4
    SELF = 0x8
    """Validated writes (RIGHT_DS_WRITE_PROPERTY_EXTENDED)."""
    READ_PROPERTY = 0x10
    WRITE_PROPERTY = 0x20
    DELETE_TREE = 0x40
    LIST_OBJECT = 0x80
    CONTROL_ACCESS = 0x100
    DELETE = 0x10000
    READ_CONTROL = 0x20000
    WRITE_DAC = 0x40000
    WRITE_OWNER = 0x80000
    GENERIC_ALL = 0x10000000
    GENERIC_EXECUTE = 0x20000000
    GENERIC_WRITE = 0x40000000
    GENERIC_READ = 0x80000000


# ADS_RIGHTS_ENUM / MS-ADTS 5.1.3.2: AD maps generic rights to these when it stores a descriptor,
# so an ACE written with GENERIC_READ reads back as 0x20094. Builders use the expanded values so
# that "is this ACE already present?" compares like with like.
GENERIC_READ_DS = 0x20094  # READ_CONTROL | LIST_CHILDREN | READ_PROPERTY | LIST_OBJECT
GENERIC_WRITE_DS = 0x20028  # READ_CONTROL | SELF | WRITE_PROPERTY
GENERIC_EXECUTE_DS = 0x20004  # READ_CONTROL | LIST_CHILDREN
GENERIC_ALL_DS = 0xF01FF  # every DS right plus DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER

_GENERIC_MAP = (
    (AccessMask.GENERIC_READ, GENERIC_READ_DS),
    (AccessMask.GENERIC_WRITE, GENERIC_WRITE_DS),
    (AccessMask.GENERIC_EXECUTE, GENERIC_EXECUTE_DS),
    (AccessMask.GENERIC_ALL, GENERIC_ALL_DS),
)


def expand_generic(mask: int) -> int:
    """Replace generic bits by the DS rights AD stores for them (GENERIC_READ -> 0x20094)."""
    for generic, specific in _GENERIC_MAP:
        if mask & generic:
            mask = (mask & ~generic) | specific
    return mask


class AceFlag(IntFlag):
    """ACE header flags (MS-DTYP 2.4.4.1)."""

    OBJECT_INHERIT = 0x1
    CONTAINER_INHERIT = 0x2
    NO_PROPAGATE_INHERIT = 0x4
    INHERIT_ONLY = 0x8
    INHERITED = 0x10
    SUCCESSFUL_ACCESS = 0x40
    FAILED_ACCESS = 0x80


# MS-DTYP 2.4.4.1: AceType values.
ACCESS_ALLOWED = 0x00
ACCESS_DENIED = 0x01
ACCESS_ALLOWED_OBJECT = 0x05
ACCESS_DENIED_OBJECT = 0x06
_ALLOW_TYPES = frozenset({0x00, 0x05, 0x09, 0x0B})  # incl. callback variants
_DENY_TYPES = frozenset({0x01, 0x06, 0x0A, 0x0C})
_MODELLED = {
    ACCESS_ALLOWED: ("allow", False),
    ACCESS_DENIED: ("deny", False),
    ACCESS_ALLOWED_OBJECT: ("allow", True),
    ACCESS_DENIED_OBJECT: ("deny", True),
}

# MS-DTYP 2.4.6: SECURITY_DESCRIPTOR control bits adprep looks at.
SE_DACL_PRESENT = 0x0004
SE_SACL_PRESENT = 0x0010
SE_SELF_RELATIVE = 0x8000
# MS-DTYP 2.4.5: ACL_REVISION_DS is required once the ACL holds object ACEs.
ACL_REVISION = 0x02
ACL_REVISION_DS = 0x04

_SID_RE = re.compile(r"S-1-(\d+|0x[0-9a-f]{12})((?:-\d+){0,15})\Z", re.IGNORECASE)
_GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")

# SDDL (MS-DTYP 2.5.1.1) spellings, in the order Windows prints them.
_SDDL_FLAGS = (
    (AceFlag.OBJECT_INHERIT, "OI"),
    (AceFlag.CONTAINER_INHERIT, "CI"),
    (AceFlag.NO_PROPAGATE_INHERIT, "NP"),
    (AceFlag.INHERIT_ONLY, "IO"),
    (AceFlag.INHERITED, "ID"),
    (AceFlag.SUCCESSFUL_ACCESS, "SA"),
    (AceFlag.FAILED_ACCESS, "FA"),
)
_SDDL_RIGHTS = (
    (0x1, "CC"),
    (0x2, "DC"),
    (0x4, "LC"),
    (0x8, "SW"),
    (0x10, "RP"),
    (0x20, "WP"),
    (0x40, "DT"),
    (0x80, "LO"),
    (0x100, "CR"),
    (0x10000, "SD"),
    (0x20000, "RC"),
    (0x40000, "WD"),
    (0x80000, "WO"),
    (0x10000000, "GA"),
    (0x20000000, "GX"),
    (0x40000000, "GW"),
    (0x80000000, "GR"),
)


# --- SIDs (MS-DTYP 2.4.2) ---------------------------------------------------------------------------


def _authority(text: str) -> int:
    return int(text, 16) if text[:2].lower() == "0x" else int(text)


def _format_authority(authority: int) -> str:
    # MS-DTYP 2.4.2.1: authorities of 2**32 and above are written as 0x and 12 hex digits.
    return str(authority) if authority < 1 << 32 else f"0x{authority:012X}"


def normalize_sid(sid: str) -> str:
    """``"s-1-5-21-1-2-3-512"`` -> ``"S-1-5-21-1-2-3-512"``; ``ValueError`` if it is not a SID string."""
    m = _SID_RE.match(sid.strip())
    if (
        not m
        or _authority(m.group(1)) >= 1 << 48
        or any(int(x) >= 1 << 32 for x in m.group(2).split("-")[1:])
    ):
        raise ValueError(f"{sid!r} is not a SID string (S-1-<authority>-<sub-authorities>)")
    return "S-1-" + _format_authority(_authority(m.group(1))) + m.group(2)


def encode_sid(sid: str) -> bytes:
    """A SID string as its binary form (MS-DTYP 2.4.2.2): authority big-endian, sub-authorities LE."""
    parts = normalize_sid(sid).split("-")
    subs = [int(x) for x in parts[3:]]
    return (
        struct.pack("<BB", 1, len(subs))
        + _authority(parts[2]).to_bytes(6, "big")
        + struct.pack(f"<{len(subs)}L", *subs)
    )


def decode_sid(data: bytes, offset: int = 0) -> tuple[str, int]:
    """(SID string, its length in bytes) from ``data[offset:]``."""
    if len(data) < offset + 8:
        raise WireFormatError("a SID is cut short", offset=offset)
    revision, count = data[offset], data[offset + 1]
    length = 8 + 4 * count
    if revision != 1 or count > 15 or len(data) < offset + length:
        raise WireFormatError("a SID is malformed", offset=offset)
    authority = int.from_bytes(data[offset + 2 : offset + 8], "big")
    subs = struct.unpack_from(f"<{count}L", data, offset + 8)
    return "S-1-" + _format_authority(authority) + "".join(f"-{s}" for s in subs), length


# --- ACEs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ace:
    """One access-allowed or access-denied ACE, plain or object-specific (MS-DTYP 2.4.4.2-2.4.4.5).

    It is an object ACE exactly when ``object_type`` or ``inherited_object_type`` is set. Equality
    is on all six fields; an existing ACE granting a superset of rights is *not* equal (adprep adds
    its own ACE next to it rather than reasoning about coverage, which keeps re-runs predictable).
    """

    kind: AceKind
    sid: str
    mask: int
    flags: int = 0
    """ACE header flags (:class:`AceFlag`)."""
    object_type: str | None = None
    """Schema GUID of the class, attribute, property set or extended right (lower case)."""
    inherited_object_type: str | None = None
    """Schema GUID of the class of objects that inherit the ACE (lower case)."""

    def __post_init__(self) -> None:
        if self.kind not in ("allow", "deny"):
            raise ValueError(f"ACE kind must be 'allow' or 'deny', not {self.kind!r}")
        object.__setattr__(self, "sid", normalize_sid(self.sid))
        for name in ("object_type", "inherited_object_type"):
            value = getattr(self, name)
            if value is not None:
                norm = value.strip().strip("{}").lower()
                if not _GUID_RE.match(norm):
                    raise ValueError(f"{name} {value!r} is not a GUID")
                object.__setattr__(self, name, norm)
        if not 0 <= self.mask < 1 << 32 or not 0 <= self.flags < 1 << 8:
            raise ValueError("ACE mask must fit in 32 bits and flags in 8 bits")

    @property
    def is_object(self) -> bool:
        return self.object_type is not None or self.inherited_object_type is not None

    @property
    def inherited(self) -> bool:
        return bool(self.flags & AceFlag.INHERITED)

    @property
    def ace_type(self) -> int:
        if self.kind == "allow":
            return ACCESS_ALLOWED_OBJECT if self.is_object else ACCESS_ALLOWED
        return ACCESS_DENIED_OBJECT if self.is_object else ACCESS_DENIED

    def to_sddl(self) -> str:
        """SDDL ACE string (MS-DTYP 2.5.1.1), e.g. ``(OA;CIIO;RP;;bf967aba-...;S-1-5-21-...)``."""
        kind = ("O" if self.is_object else "") + ("A" if self.kind == "allow" else "D")
        flags = "".join(s for bit, s in _SDDL_FLAGS if self.flags & bit)
        rest = self.flags & ~sum(bit for bit, _ in _SDDL_FLAGS)
        if rest:
            flags += f"0x{rest:x}"
        return f"({kind};{flags};{rights_to_sddl(self.mask)};{self.object_type or ''};{self.inherited_object_type or ''};{self.sid})"

    def encode(self) -> bytes:
        """The ACE in binary (header and body), built with impacket's ``ldaptypes``."""
        ace = ldaptypes.ACE()
        ace["AceType"] = self.ace_type
        ace["AceFlags"] = self.flags
        sid = ldaptypes.LDAP_SID(data=encode_sid(self.sid))
        mask = ldaptypes.ACCESS_MASK()
        mask["Mask"] = self.mask
        if self.is_object:
            body = (
                ldaptypes.ACCESS_ALLOWED_OBJECT_ACE()
                if self.kind == "allow"
                else ldaptypes.ACCESS_DENIED_OBJECT_ACE()
            )
            body["Mask"] = mask
            body["Flags"] = 0
            body["ObjectType"] = uuid.UUID(self.object_type).bytes_le if self.object_type else b""
            body["InheritedObjectType"] = (
                uuid.UUID(self.inherited_object_type).bytes_le if self.inherited_object_type else b""
            )
            body["Sid"] = sid
        else:
            body = ldaptypes.ACCESS_ALLOWED_ACE() if self.kind == "allow" else ldaptypes.ACCESS_DENIED_ACE()
            body["Mask"] = mask
            body["Sid"] = sid
        ace["Ace"] = body
        data: bytes = ace.getData()
        return data


def rights_to_sddl(mask: int) -> str:
    """``0x20094`` -> ``"LCRPLORC"``; masks with bits SDDL has no letters for are written in hex."""
    covered = sum(bit for bit, _ in _SDDL_RIGHTS)
    if mask & ~covered:
        return f"0x{mask:x}"
    return "".join(s for bit, s in _SDDL_RIGHTS if mask & bit)


def _decode_ace(raw: bytes) -> Ace | None:
    """The value model of a raw ACE, or ``None`` for types adprep does not model."""
    ace_type, ace_flags = raw[0], raw[1]
    modelled = _MODELLED.get(ace_type)
    if modelled is None:
        return None
    kind, is_object = modelled
    body = raw[4:]
    try:
        if is_object:
            obj = ldaptypes.ACCESS_ALLOWED_OBJECT_ACE(data=body)
            object_type = str(uuid.UUID(bytes_le=obj["ObjectType"])) if obj["ObjectType"] else None
            inherited = (
                str(uuid.UUID(bytes_le=obj["InheritedObjectType"])) if obj["InheritedObjectType"] else None
            )
            mask = int(obj["Mask"]["Mask"])
            sid_offset = 8 + (16 if object_type else 0) + (16 if inherited else 0)
        else:
            plain = ldaptypes.ACCESS_ALLOWED_ACE(data=body)
            object_type = inherited = None
            mask = int(plain["Mask"]["Mask"])
            sid_offset = 4
    except Exception as e:  # impacket raises bare Exceptions and struct errors on short data
        raise WireFormatError(f"an ACE of type {ace_type:#x} is malformed") from e
    sid, _ = decode_sid(body, sid_offset)
    return Ace(kind, sid, mask, ace_flags, object_type, inherited)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RawAce:
    """An ACE exactly as it was read: its bytes, and its value model when adprep knows the type."""

    ace_type: int
    flags: int
    data: bytes
    """The whole ACE, header and any padding, byte-for-byte."""
    ace: Ace | None

    @property
    def inherited(self) -> bool:
        return bool(self.flags & AceFlag.INHERITED)


@dataclass(frozen=True)
class SecurityDescriptor:
    """A parsed self-relative security descriptor (MS-DTYP 2.4.6).

    With the SD flags control set to DACL only (4), AD returns no owner, group or SACL: those are
    ``None`` then.
    """

    control: int
    owner: str | None
    group: str | None
    dacl: tuple[Ace, ...]
    """The DACL's access-allowed/denied ACEs, in order (other ACE types are in ``raw_dacl`` only)."""
    raw_dacl: tuple[RawAce, ...] | None
    """Every DACL ACE as read, in order; ``None`` when the descriptor has no DACL (or a NULL DACL)."""
    dacl_revision: int = ACL_REVISION_DS
    sacl: bytes | None = field(default=None, repr=False)
    """The SACL's bytes, untouched."""

    def dacl_sddl(self) -> str:
        """The DACL in SDDL (``D:(A;;...)(OA;...)``); ACE types adprep does not model show as ``(?0x..)``."""
        if self.raw_dacl is None:
            return "D:NO_ACCESS_CONTROL"
        parts = [r.ace.to_sddl() if r.ace else f"(?0x{r.ace_type:02x})" for r in self.raw_dacl]
        return "D:" + "".join(parts)


def _read_acl(blob: bytes, offset: int) -> tuple[int, tuple[RawAce, ...], int]:
    """(revision, ACEs, ACL size) of the ACL at ``offset`` (MS-DTYP 2.4.5)."""
    if len(blob) < offset + 8:
        raise WireFormatError("an ACL header is cut short", offset=offset)
    revision, _sbz1, size, count, _sbz2 = struct.unpack_from("<BBHHH", blob, offset)
    if len(blob) < offset + size or size < 8:
        raise WireFormatError("an ACL is longer than the descriptor", offset=offset)
    aces: list[RawAce] = []
    pos = offset + 8
    for _ in range(count):
        if pos + 4 > offset + size:
            raise WireFormatError("an ACL holds fewer ACEs than its header says", offset=pos)
        ace_type, ace_flags, ace_size = struct.unpack_from("<BBH", blob, pos)
        if ace_size < 4 or pos + ace_size > offset + size:
            raise WireFormatError("an ACE runs past the end of its ACL", offset=pos)
        raw = blob[pos : pos + ace_size]
        aces.append(RawAce(ace_type, ace_flags, raw, _decode_ace(raw)))
        pos += ace_size
    return revision, tuple(aces), size


def parse_security_descriptor(blob: bytes) -> SecurityDescriptor:
    """Parse a self-relative security descriptor, such as ``nTSecurityDescriptor``.

    Raises :class:`WireFormatError` on malformed input.
    """
    if len(blob) < 20:
        raise WireFormatError("a security descriptor is shorter than its 20-byte header")
    revision, _sbz1, control, o_owner, o_group, o_sacl, o_dacl = struct.unpack_from("<BBHLLLL", blob, 0)
    if revision != 1:
        raise WireFormatError(f"security descriptor revision {revision} is not 1")
    owner = decode_sid(blob, o_owner)[0] if o_owner else None
    group = decode_sid(blob, o_group)[0] if o_group else None
    sacl = None
    if o_sacl:
        _, _, sacl_size = _read_acl(blob, o_sacl)
        sacl = blob[o_sacl : o_sacl + sacl_size]
    if o_dacl and control & SE_DACL_PRESENT:
        dacl_revision, raw_dacl, _ = _read_acl(blob, o_dacl)
        return SecurityDescriptor(
            control=control,
            owner=owner,
            group=group,
            dacl=tuple(r.ace for r in raw_dacl if r.ace is not None),
            raw_dacl=raw_dacl,
            dacl_revision=dacl_revision,
            sacl=sacl,
        )
    return SecurityDescriptor(control=control, owner=owner, group=group, dacl=(), raw_dacl=None, sacl=sacl)


def _encode_acl(revision: int, aces: list[bytes]) -> bytes:
    body = b"".join(aces)
    size = 8 + len(body)
    if size > 0xFFFF or len(aces) > 0xFFFF:
        raise WireFormatError("the DACL would exceed the 64 KiB an ACL can hold")
    return struct.pack("<BBHHH", revision, 0, size, len(aces), 0) + body


def encode_security_descriptor(
    dacl: Iterable[Ace],
    *,
    owner: str | None = None,
    group: str | None = None,
    control: int = SE_DACL_PRESENT | SE_SELF_RELATIVE,
) -> bytes:
    """A new self-relative descriptor holding ``dacl`` (for tests and fixtures; adprep edits existing ones)."""
    aces = list(dacl)
    revision = ACL_REVISION_DS if any(a.is_object for a in aces) else ACL_REVISION
    return _assemble(
        control | SE_DACL_PRESENT | SE_SELF_RELATIVE,
        sacl=None,
        dacl=_encode_acl(revision, [a.encode() for a in aces]),
        owner=encode_sid(owner) if owner else None,
        group=encode_sid(group) if group else None,
    )


def _assemble(
    control: int, *, sacl: bytes | None, dacl: bytes, owner: bytes | None, group: bytes | None
) -> bytes:
    # MS-DTYP 2.4.6: offsets are from the start; AD lays out SACL, DACL, owner, group in that order.
    out = bytearray(20)
    offsets = {}
    for name, part in (("sacl", sacl), ("dacl", dacl), ("owner", owner), ("group", group)):
        if part is None:
            offsets[name] = 0
        else:
            offsets[name] = len(out)
            out += part
    struct.pack_into(
        "<BBHLLLL",
        out,
        0,
        1,
        0,
        control,
        offsets["owner"],
        offsets["group"],
        offsets["sacl"],
        offsets["dacl"],
    )
    return bytes(out)


def _insert_index(entries: list[tuple[int, int]], ace: Ace) -> int:
    """Where ``ace`` goes so the DACL stays canonical (MS-DTYP 2.4.5 / "Order of ACEs in a DACL"):
    explicit deny, then explicit allow, then inherited ACEs. ``entries`` are (type, flags)."""
    for i, (ace_type, flags) in enumerate(entries):
        inherited = bool(flags & AceFlag.INHERITED)
        if ace.kind == "deny" and (inherited or ace_type not in _DENY_TYPES):
            return i
        if ace.kind == "allow" and inherited:
            return i
    return len(entries)


def encode_with_added_aces(blob: bytes, new_aces: Iterable[Ace]) -> bytes:
    """``blob`` with each ACE of ``new_aces`` that is not already in its DACL added in canonical place.

    Existing ACEs are never dropped, reordered or re-encoded: their bytes are copied as read, and
    so are the owner, group and SACL. A new explicit deny goes after the existing explicit denies;
    a new explicit allow after the existing explicit allows and before the first inherited ACE. When
    nothing is missing, ``blob`` is returned unchanged. A descriptor without a DACL is refused: a
    missing or NULL DACL grants everyone everything, and adding ACEs to it would take that away.
    Inherited ACEs are the DC's to compute and cannot be added (``ValueError``).
    """
    sd = parse_security_descriptor(blob)
    if sd.raw_dacl is None:
        raise WireFormatError(
            "the security descriptor has no DACL to add to",
            hint="Read nTSecurityDescriptor with the SD flags control set to DACL (4).",
        )
    present = set(sd.dacl)
    entries = [(r.ace_type, r.flags) for r in sd.raw_dacl]
    chunks = [r.data for r in sd.raw_dacl]
    added = False
    for ace in new_aces:
        if ace.inherited:
            raise ValueError(f"{ace.to_sddl()} is marked inherited; only the DC writes inherited ACEs")
        if ace in present:
            continue
        i = _insert_index(entries, ace)
        entries.insert(i, (ace.ace_type, ace.flags))
        chunks.insert(i, ace.encode())
        present.add(ace)
        added = True
    if not added:
        return blob
    has_object = any(t in (0x05, 0x06, 0x07, 0x08, 0x0B, 0x0C, 0x0F) for t, _ in entries)
    revision = ACL_REVISION_DS if has_object else max(sd.dacl_revision, ACL_REVISION)
    _, _, _, o_owner, o_group, _, _ = struct.unpack_from("<BBHLLLL", blob, 0)
    owner = blob[o_owner : o_owner + decode_sid(blob, o_owner)[1]] if o_owner else None
    group = blob[o_group : o_group + decode_sid(blob, o_group)[1]] if o_group else None
    return _assemble(
        sd.control | SE_DACL_PRESENT | SE_SELF_RELATIVE,
        sacl=sd.sacl,
        dacl=_encode_acl(revision, chunks),
        owner=owner,
        group=group,
    )
