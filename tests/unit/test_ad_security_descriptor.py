"""Security descriptors: parsing recorded Samba values, and adding ACEs without disturbing others."""

from __future__ import annotations

import contextlib
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.ad.security_descriptor import (
    GENERIC_READ_DS,
    AccessMask,
    Ace,
    AceFlag,
    decode_sid,
    encode_security_descriptor,
    encode_sid,
    encode_with_added_aces,
    expand_generic,
    parse_security_descriptor,
    rights_to_sddl,
)
from adprep.errors import WireFormatError
from adprep.requirements import SCHEMA_GUID_COMPUTER, SCHEMA_GUID_USER

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ad"
SID = "S-1-5-21-1004336348-1177238915-682003330-1105"
CI, IO, ID = int(AceFlag.CONTAINER_INHERIT), int(AceFlag.INHERIT_ONLY), int(AceFlag.INHERITED)
READ_USERS = Ace("allow", SID, 0x10, CI | IO, None, SCHEMA_GUID_USER)
JOIN = Ace("allow", SID, 0x1, CI, SCHEMA_GUID_COMPUTER, None)


def fixture(name: str) -> tuple[bytes, dict[str, object]]:
    return (FIXTURES / f"{name}.bin").read_bytes(), json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.mark.parametrize("name", ["domain_root_dacl", "domain_root_full", "users_container_dacl"])
def test_parse_matches_sambas_decoder(name: str) -> None:
    # Given a descriptor recorded from Samba and Samba's own decoding of it
    blob, expected = fixture(name)
    # When adprep parses it
    sd = parse_security_descriptor(blob)
    # Then every ACE, the owner and the group agree
    assert sd.owner == expected["owner"] and sd.group == expected["group"]
    assert sd.control == expected["control"]
    got = [
        {
            "type": r.ace_type,
            "flags": r.flags,
            "mask": r.ace.mask if r.ace else None,
            "sid": r.ace.sid if r.ace else None,
            "object_type": r.ace.object_type if r.ace else None,
            "inherited_object_type": r.ace.inherited_object_type if r.ace else None,
        }
        for r in sd.raw_dacl or ()
    ]
    assert got == expected["dacl"]


def test_dacl_only_descriptor_has_no_owner_group_or_sacl() -> None:
    sd = parse_security_descriptor(fixture("domain_root_dacl")[0])
    assert sd.owner is None and sd.group is None and sd.sacl is None
    assert sd.dacl_sddl().startswith("D:(OA;CIIO;RP;4c164200-20c0-11d0-a768-00aa006e0529;")


def test_ace_to_sddl() -> None:
    assert READ_USERS.to_sddl() == f"(OA;CIIO;RP;;{SCHEMA_GUID_USER};{SID})"
    assert JOIN.to_sddl() == f"(OA;CI;CC;{SCHEMA_GUID_COMPUTER};;{SID})"
    assert Ace("deny", "S-1-1-0", GENERIC_READ_DS, ID).to_sddl() == "(D;ID;LCRPLORC;;;S-1-1-0)"
    assert rights_to_sddl(0x1_000_000) == "0x1000000"


def test_ace_normalises_and_validates() -> None:
    ace = Ace("allow", "s-1-5-11", 0x10, 0, "{BF967ABA-0DE6-11D0-A285-00AA003049E2}")
    assert ace.sid == "S-1-5-11" and ace.object_type == SCHEMA_GUID_USER
    for bad in ({"sid": "S-1-5-x"}, {"object_type": "nope"}, {"mask": -1}):
        with pytest.raises(ValueError):
            Ace(**{"kind": "allow", "sid": "S-1-5-11", "mask": 1, **bad})  # type: ignore[arg-type]


def test_generic_read_expands_as_ad_stores_it() -> None:
    assert expand_generic(AccessMask.GENERIC_READ) == 0x20094
    assert expand_generic(AccessMask.GENERIC_READ | AccessMask.CREATE_CHILD) == 0x20095


@given(
    st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=0, max_size=15),
    st.integers(min_value=0, max_value=2**48 - 1),
)
def test_sid_round_trips(subs: list[int], authority: int) -> None:
    # MS-DTYP 2.4.2.1: large authorities are written in hex
    auth = str(authority) if authority < 2**32 else f"0x{authority:012X}"
    sid = "S-1-" + auth + "".join(f"-{s}" for s in subs)
    assert decode_sid(encode_sid(sid)) == (sid, 8 + 4 * len(subs))


@pytest.mark.parametrize("name", ["domain_root_dacl", "users_container_dacl"])
def test_adding_to_a_recorded_dacl_inserts_before_inherited_and_keeps_every_byte(name: str) -> None:
    # Given a DACL recorded from Samba (the domain root: explicit ACEs only; CN=Users: then inherited)
    blob, _ = fixture(name)
    before = parse_security_descriptor(blob)
    raw_before = [r.data for r in before.raw_dacl or ()]
    # When the two ACEs of the 2016 guide's Delegating Connect Privileges are added
    out = encode_with_added_aces(blob, [READ_USERS, JOIN])
    after = parse_security_descriptor(out)
    raw_after = [r.data for r in after.raw_dacl or ()]
    # Then they sit after the last explicit ACE, in the order given, and nothing else moved
    raws = before.raw_dacl or ()
    first_inherited = next((i for i, r in enumerate(raws) if r.inherited), len(raws))
    assert (first_inherited < len(raws)) == (name == "users_container_dacl")
    assert raw_after[first_inherited : first_inherited + 2] == [READ_USERS.encode(), JOIN.encode()]
    assert raw_after[:first_inherited] + raw_after[first_inherited + 2 :] == raw_before
    assert after.control == before.control
    # And running again changes nothing
    assert encode_with_added_aces(out, [READ_USERS, JOIN]) == out


def test_owner_group_and_sacl_survive() -> None:
    blob, _ = fixture("domain_root_full")
    before = parse_security_descriptor(blob)
    after = parse_security_descriptor(encode_with_added_aces(blob, [JOIN]))
    assert (after.owner, after.group, after.sacl) == (before.owner, before.group, before.sacl)
    assert after.sacl is not None


def test_nothing_missing_returns_the_same_bytes() -> None:
    blob = encode_security_descriptor([JOIN])
    assert encode_with_added_aces(blob, [JOIN, JOIN]) is blob


def test_deny_goes_after_explicit_denies_and_allow_after_explicit_allows() -> None:
    deny_old = Ace("deny", "S-1-5-7", 0x20)
    allow_old = Ace("allow", "S-1-5-11", 0x4)
    inherited = Ace("allow", "S-1-5-18", 0xF01FF, ID)
    blob = encode_security_descriptor([deny_old, allow_old, inherited])
    deny_new = Ace("deny", SID, 0x10000)
    out = parse_security_descriptor(encode_with_added_aces(blob, [JOIN, deny_new]))
    assert out.dacl == (deny_old, deny_new, allow_old, JOIN, inherited)


def test_superset_ace_does_not_count_as_present() -> None:
    # Given an ACE granting more than wanted / When the narrower one is added / Then it is added
    broader = Ace("allow", SID, 0x3, CI, SCHEMA_GUID_COMPUTER)
    blob = encode_security_descriptor([broader])
    assert parse_security_descriptor(encode_with_added_aces(blob, [JOIN])).dacl == (broader, JOIN)


def test_an_inherited_copy_does_not_count_as_present() -> None:
    blob = encode_security_descriptor([Ace("allow", SID, 0x1, CI | ID, SCHEMA_GUID_COMPUTER)])
    assert len(parse_security_descriptor(encode_with_added_aces(blob, [JOIN])).dacl) == 2


def test_unknown_ace_types_and_padding_survive_byte_for_byte() -> None:
    # Given a DACL with an ACE type adprep does not model (0x11, mandatory label) and a padded ACE
    padded = bytearray(Ace("allow", "S-1-5-11", 0x4).encode()) + b"\x00\x00\x00\x00"
    struct.pack_into("<H", padded, 2, len(padded))
    sid = encode_sid("S-1-16-4096")
    unknown = struct.pack("<BBHL", 0x11, 0, 8 + len(sid), 1) + sid
    body = bytes(padded) + unknown
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(body), 2, 0) + body
    blob = struct.pack("<BBHLLLL", 1, 0, 0x8004, 0, 0, 0, 20) + acl
    sd = parse_security_descriptor(blob)
    assert sd.raw_dacl is not None and sd.raw_dacl[1].ace is None and len(sd.dacl) == 1
    # When an object ACE is added
    out = encode_with_added_aces(blob, [JOIN])
    # Then both old ACEs keep their bytes, and the ACL revision becomes ACL_REVISION_DS
    raws = [r.data for r in parse_security_descriptor(out).raw_dacl or ()]
    assert raws == [bytes(padded), unknown, JOIN.encode()]
    assert out[20] == 4
    assert "(?0x11)" in parse_security_descriptor(out).dacl_sddl()


def test_refuses_to_add_to_a_missing_dacl() -> None:
    blob = struct.pack("<BBHLLLL", 1, 0, 0x8000, 0, 0, 0, 0)
    with pytest.raises(WireFormatError, match="no DACL"):
        encode_with_added_aces(blob, [JOIN])


def test_refuses_inherited_aces() -> None:
    with pytest.raises(ValueError):
        encode_with_added_aces(encode_security_descriptor([]), [Ace("allow", SID, 1, ID)])


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x01" * 10,
        struct.pack("<BBHLLLL", 2, 0, 4, 0, 0, 0, 20),
        struct.pack("<BBHLLLL", 1, 0, 4, 0, 0, 0, 20),
    ],
)
def test_malformed_descriptors(blob: bytes) -> None:
    with pytest.raises(WireFormatError):
        parse_security_descriptor(blob)


@given(st.binary(max_size=200))
def test_garbage_raises_only_wire_format_errors(blob: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        parse_security_descriptor(blob)


@given(st.data())
def test_corrupted_recordings_raise_only_wire_format_errors(data: st.DataObject) -> None:
    # Given a real descriptor with a few bytes overwritten / When parsed / Then it parses or is refused cleanly
    blob = bytearray(fixture("users_container_dacl")[0])
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(WireFormatError):
        parse_security_descriptor(bytes(blob))
