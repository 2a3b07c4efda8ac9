"""The file-system ACL a GPO's SYSVOL folder must carry, derived from the GPO's LDAP security descriptor.

A GPO is two objects: the groupPolicyContainer in LDAP and its folder on SYSVOL. Who may read and
edit the GPO is decided on the LDAP object; the folder must grant the same people the matching file
rights, or a client that may apply the GPO cannot read its files (MS-GPOL 3.2.5.1.5: the client
reads GPT.INI and the CSE files through SMB with the computer's credentials). GPMC keeps the two in
step on Windows; ``samba-tool ntacl sysvolcheck`` reports folders where they differ.

The mapping follows Samba's ``samba.ntacls.dsacl2fsacl`` / ``ldapmask2filemask``, because that is
what ``sysvolcheck`` compares the files against: owner and group are kept; every access-allowed ACE
(plain or object) except Pre-Windows 2000 Compatible Access is kept, made inheritable by files and
folders (``OI|CI``, and ``IO`` for CREATOR OWNER), with its DS rights turned into file rights;
denies are dropped. The ACE bytes are otherwise copied as they are (object GUIDs included), so the
result compares equal to Samba's.
"""

from __future__ import annotations

import struct

from adprep.ad.security_descriptor import (
    ACCESS_ALLOWED,
    ACCESS_ALLOWED_OBJECT,
    SE_DACL_PRESENT,
    SE_SELF_RELATIVE,
    AceFlag,
    decode_sid,
    encode_sid,
    parse_security_descriptor,
)
from adprep.errors import WireFormatError

#: BUILTIN\Pre-Windows 2000 Compatible Access: Samba leaves it off SYSVOL (it grants read on users).
PRE_WINDOWS_2000 = "S-1-5-32-554"
CREATOR_OWNER = "S-1-3-0"

# MS-ADTS 5.1.3.2: directory rights read from the DS ACE.
_DS_CREATE_CHILD = 0x1
_DS_DELETE_CHILD = 0x2
_DS_LIST_CONTENTS = 0x4
_DS_READ_PROPERTY = 0x10
_DS_WRITE_PROPERTY = 0x20
# MS-SMB2 2.2.13.1.1 / MS-DTYP 2.4.3: file rights written into the file ACE.
_STANDARD_RIGHTS_ALL = 0x001F0000
_SYNCHRONIZE = 0x00100000
_FILE_READ_DATA = 0x1  # also FILE_LIST_DIRECTORY
_FILE_WRITE_DATA = 0x2  # also FILE_ADD_FILE
_FILE_APPEND_DATA = 0x4  # also FILE_ADD_SUBDIRECTORY
_FILE_READ_EA = 0x8
_FILE_WRITE_EA = 0x10
_FILE_EXECUTE = 0x20  # also FILE_TRAVERSE
_FILE_DELETE_CHILD = 0x40
_FILE_READ_ATTRIBUTES = 0x80
_FILE_WRITE_ATTRIBUTES = 0x100

# MS-DTYP 2.4.6: SE_DACL_AUTO_INHERITED.
SE_DACL_AUTO_INHERITED = 0x0400
#: MS-DTYP 2.4.6 SE_DACL_PROTECTED: the folder does not inherit from Policies (as GPMC and Samba set it).
SE_DACL_PROTECTED = 0x1000


def ds_mask_to_file_mask(mask: int) -> int:
    """DS access rights to file rights (Samba's ``ldapmask2filemask``): read properties and list
    contents give read and execute; write property gives write; create/delete child map to
    add file/subfolder and delete child; the standard rights (DELETE, READ_CONTROL, WRITE_DAC,
    WRITE_OWNER, SYNCHRONIZE) are kept."""
    out = mask & _STANDARD_RIGHTS_ALL
    if mask & _DS_READ_PROPERTY and mask & _DS_LIST_CONTENTS:
        out |= _SYNCHRONIZE | _FILE_READ_DATA | _FILE_READ_ATTRIBUTES | _FILE_READ_EA | _FILE_EXECUTE
    if mask & _DS_WRITE_PROPERTY:
        out |= _SYNCHRONIZE | _FILE_WRITE_DATA | _FILE_APPEND_DATA | _FILE_WRITE_EA | _FILE_WRITE_ATTRIBUTES
    if mask & _DS_CREATE_CHILD:
        out |= _FILE_APPEND_DATA | _FILE_WRITE_DATA
    if mask & _DS_DELETE_CHILD:
        out |= _FILE_DELETE_CHILD
    return out


def _file_ace(raw: bytes, sid: str) -> bytes:
    # MS-DTYP 2.4.4.2 / 2.4.4.3: header (type, flags, size) then the 32-bit mask at offset 4,
    # for plain and object ACEs alike; everything after the mask is copied unchanged.
    flags = raw[1] | AceFlag.OBJECT_INHERIT | AceFlag.CONTAINER_INHERIT
    if sid == CREATOR_OWNER:
        flags |= AceFlag.INHERIT_ONLY  # only meaningful for what is created below
    (mask,) = struct.unpack_from("<I", raw, 4)
    return bytes([raw[0], flags]) + raw[2:4] + struct.pack("<I", ds_mask_to_file_mask(mask)) + raw[8:]


def _ace_sid(raw: bytes) -> str:
    if raw[0] == ACCESS_ALLOWED_OBJECT:
        (obj_flags,) = struct.unpack_from("<I", raw, 8)
        offset = 12 + (16 if obj_flags & 1 else 0) + (16 if obj_flags & 2 else 0)
    else:
        offset = 8
    return decode_sid(raw, offset)[0]


def file_security_descriptor(gpo_sd: bytes) -> bytes:
    """The self-relative file security descriptor for a GPO's SYSVOL folder and everything in it.

    ``gpo_sd`` is the groupPolicyContainer's ``nTSecurityDescriptor`` read with owner, group and
    DACL (SD flags 7). Raises :class:`WireFormatError` when it is malformed or has no DACL.
    """
    sd = parse_security_descriptor(gpo_sd)
    if sd.raw_dacl is None:
        raise WireFormatError(
            "the GPO's security descriptor has no DACL to derive the SYSVOL ACL from",
            hint="Read nTSecurityDescriptor with the SD flags control set to owner, group and DACL (7).",
        )
    aces: list[bytes] = []
    for raw in sd.raw_dacl:
        if raw.ace_type not in (ACCESS_ALLOWED, ACCESS_ALLOWED_OBJECT):
            continue
        sid = _ace_sid(raw.data)
        if sid == PRE_WINDOWS_2000:
            continue
        aces.append(_file_ace(raw.data, sid))
    body = b"".join(aces)
    dacl = struct.pack("<BBHHH", sd.dacl_revision, 0, 8 + len(body), len(aces), 0) + body
    # Owner/group "defaulted" and the SACL bits describe the LDAP object, not the file.
    control = SE_SELF_RELATIVE | SE_DACL_PRESENT | (sd.control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED))
    return _assemble(control, dacl, sd.owner, sd.group)


def _assemble(control: int, dacl: bytes, owner: str | None, group: str | None) -> bytes:
    # MS-DTYP 2.4.6: header, then DACL, owner and group; offsets count from the start.
    out = bytearray(20)
    o_dacl = len(out)
    out += dacl
    o_owner = len(out) if owner else 0
    if owner:
        out += encode_sid(owner)
    o_group = len(out) if group else 0
    if group:
        out += encode_sid(group)
    struct.pack_into("<BBHLLLL", out, 0, 1, 0, control, o_owner, o_group, 0, o_dacl)
    return bytes(out)


def same_acl(a: bytes, b: bytes) -> bool:
    """Whether two descriptors grant the same: owner, group, DACL protection and the DACL's ACEs
    byte-for-byte in order. Layout (where each part sits in the blob) is ignored, since servers
    return descriptors in their own layout."""
    try:
        x, y = parse_security_descriptor(a), parse_security_descriptor(b)
    except WireFormatError:
        return False
    if (x.owner, x.group) != (y.owner, y.group):
        return False
    if (x.control & SE_DACL_PROTECTED) != (y.control & SE_DACL_PROTECTED):
        return False
    if x.raw_dacl is None or y.raw_dacl is None:
        return x.raw_dacl is None and y.raw_dacl is None
    return [r.data for r in x.raw_dacl] == [r.data for r in y.raw_dacl]


# MS-DTYP 2.4.7 SECURITY_INFORMATION: what a SET_INFO of the descriptor replaces.
_OWNER_GROUP_DACL = 0x1 | 0x2 | 0x4
_PROTECTED_DACL = 0x80000000
_UNPROTECTED_DACL = 0x20000000


def security_information(descriptor: bytes) -> int:
    """The SECURITY_INFORMATION flags to write ``descriptor`` with: owner, group and DACL, and the
    DACL's protection from inheritance as the descriptor's control says (the server keeps the
    protection bit only when told through these flags)."""
    control = parse_security_descriptor(descriptor).control
    return _OWNER_GROUP_DACL | (_PROTECTED_DACL if control & SE_DACL_PROTECTED else _UNPROTECTED_DACL)
