"""Registry.pol codec (MS-GPREG 2.2.1): fixtures written by Samba, round trips, corrupt input."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adprep.errors import InputError, WireFormatError
from adprep.gpo.registry_pol import (
    HEADER,
    PolEntry,
    RegType,
    encode_entry,
    encode_registry_pol,
    find,
    parse_registry_pol,
    set_values,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gpo"
DEFAULTS = r"Software\Policies\Teradici\PCoIP\pcoip_admin_defaults"
ADMIN = r"Software\Policies\Teradici\PCoIP\pcoip_admin"


def u16(text: str) -> bytes:
    return text.encode("utf-16le")


# -- fixtures ---------------------------------------------------------------------------------


def test_pcoip_fixture_written_by_samba_parses_to_dwords() -> None:
    # Given a Registry.pol that Samba's ndr_pack(preg.file) wrote
    data = (FIXTURES / "pcoip_samba.pol").read_bytes()

    # When it is parsed
    entries = parse_registry_pol(data)

    # Then the four DWORDs come back in file order, and re-encoding gives the same bytes
    assert [(e.key, e.value, e.type, e.decoded) for e in entries] == [
        (DEFAULTS, "pcoip.server_clipboard_state", RegType.REG_DWORD, 2),
        (DEFAULTS, "pcoip.remote_printing_enabled", RegType.REG_DWORD, 0),
        (ADMIN, "pcoip.enable_session_auto_reconnect", RegType.REG_DWORD, 1),
        (ADMIN, "pcoip.session_auto_reconnect_timeout", RegType.REG_DWORD, 45),
    ]
    assert encode_registry_pol(entries) == data


def test_all_types_fixture_with_separators_in_names_and_data() -> None:
    # Given a Samba-written file whose key, value names and data hold ';', ']' and '['
    data = (FIXTURES / "all_types_samba.pol").read_bytes()

    # When it is parsed
    entries = parse_registry_pol(data)

    # Then every type decodes, because data is read by its size field
    key = r"Software\Policies\adprep\Test ;]["
    assert all(e.key == key for e in entries)
    assert [(e.value, e.type, e.decoded) for e in entries] == [
        ("none", RegType.REG_NONE, b""),
        ("sz;]", RegType.REG_SZ, "semi;colon]bracket[ é 雪"),
        ("expand", RegType.REG_EXPAND_SZ, "%SystemRoot%\\x"),
        ("binary", RegType.REG_BINARY, b"\x5b\x00;\x00]\x00\xff"),
        ("dword", RegType.REG_DWORD, 0xDEADBEEF),
        ("multi", RegType.REG_MULTI_SZ, ("one", "two;]")),
        ("qword", RegType.REG_QWORD, 2**63 + 5),
        ("**del.gone", RegType.REG_SZ, " "),
        ("**delvals.", RegType.REG_SZ, " "),
    ]
    assert entries[-2] == PolEntry.delete(key, "gone")
    assert entries[-1] == PolEntry.delete_values(key)
    assert encode_registry_pol(entries) == data


def test_header_only_file_is_empty() -> None:
    assert parse_registry_pol((FIXTURES / "empty.pol").read_bytes()) == ()


def test_zero_byte_file_is_accepted_as_no_settings() -> None:
    # Windows' client treats an empty Registry.pol as no settings; so does adprep.
    assert parse_registry_pol(b"") == ()
    assert encode_registry_pol([]) == HEADER


def test_truncated_fixture_reports_the_size_field_offset() -> None:
    data = (FIXTURES / "corrupt_truncated.pol").read_bytes()
    with pytest.raises(WireFormatError) as info:
        parse_registry_pol(data)
    # The size field sits 4 bytes + ';' before the one data byte left.
    assert info.value.offset == len(data) - 1 - 2 - 4
    assert "runs past the end" in info.value.message


# -- encoding layout --------------------------------------------------------------------------


def test_encoded_entry_layout_matches_the_spec() -> None:
    # Given a DWORD entry
    entry = PolEntry.dword("K", "V", 1)

    # Then its bytes are [key NUL ; value NUL ; type ; size ; data ] in UTF-16LE punctuation
    assert encode_entry(entry) == (
        u16("[K\x00;V\x00;") + struct.pack("<I", 4) + u16(";") + struct.pack("<I", 4) + u16(";")
    ) + struct.pack("<I", 1) + u16("]")


def test_typed_helpers_encode_data() -> None:
    assert PolEntry.sz("K", "V", "ab").data == u16("ab\x00")
    assert PolEntry.sz("K", "V", "ab", expand=True).type is RegType.REG_EXPAND_SZ
    assert PolEntry.multi_sz("K", "V", ["a", "b"]).data == u16("a\x00b\x00\x00")
    assert PolEntry.multi_sz("K", "V", []).decoded == ()
    assert PolEntry.qword("K", "V", 2**40).data == struct.pack("<Q", 2**40)
    assert PolEntry.binary("K", "V", b"\x01").decoded == b"\x01"
    assert PolEntry.delete("K", "X").value == "**del.X"
    assert PolEntry.delete("K", "X").is_delete
    assert PolEntry.delete_values("K").value == "**delvals."
    big_endian = PolEntry("K", "V", RegType.REG_DWORD_BIG_ENDIAN, b"\x00\x00\x01\x00")
    assert big_endian.decoded == 256


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: PolEntry.dword("K", "V", -1), "REG_DWORD"),
        (lambda: PolEntry.dword("K", "V", 2**32), "REG_DWORD"),
        (lambda: PolEntry.qword("K", "V", 2**64), "REG_QWORD"),
        (lambda: PolEntry.sz("K", "V", "a\x00b"), "NUL"),
        (lambda: PolEntry.multi_sz("K", "V", ["a", ""]), "empty string"),
        (lambda: PolEntry.dword("K\x00", "V", 1), "key"),
    ],
)
def test_helpers_reject_values_the_format_cannot_hold(make: object, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        make()  # type: ignore[operator]


def test_decoded_reports_data_that_does_not_fit_the_type() -> None:
    with pytest.raises(WireFormatError, match="3 bytes"):
        _ = PolEntry("K", "V", RegType.REG_DWORD, b"\x01\x02\x03").decoded
    with pytest.raises(WireFormatError, match="odd number"):
        _ = PolEntry("K", "V", RegType.REG_SZ, b"a").decoded


# -- corrupt input ----------------------------------------------------------------------------

GOOD = encode_registry_pol([PolEntry.dword("K", "V", 7)])
# Offsets inside GOOD: header 0-7, '[' 8, "K\0" 10, ';' 14, "V\0" 16, ';' 20, type 22, ';' 26,
# size 28, ';' 32, data 34, ']' 38, end 40.


@pytest.mark.parametrize(
    ("data", "offset", "fragment"),
    [
        (b"PRe", 0, "shorter than its 8-byte header"),
        (b"XReg\x01\x00\x00\x00", 0, "does not start with 'PReg'"),
        (b"PReg\x02\x00\x00\x00", 4, "version 2"),
        (HEADER + b"x", 8, "truncated: expected '['"),
        (HEADER + u16("{"), 8, "expected '['"),
        (GOOD[:12], 10, "no NUL terminator"),
        (GOOD[:11], 10, "odd number of bytes"),
        (GOOD[:14] + u16(":") + GOOD[16:], 14, "';' after the key name"),
        (GOOD[:24], 22, "truncated: expected the type"),
        (GOOD[:22] + struct.pack("<I", 99) + GOOD[26:], 22, "unknown type 99"),
        (GOOD[:28] + struct.pack("<I", 5000) + GOOD[32:], 28, "runs past the end"),
        (GOOD[:38], 38, "truncated: expected ']'"),
        (GOOD[:38] + u16(";") + GOOD[40:], 38, "expected ']'"),
        (GOOD + b"\x00", 40, "truncated: expected '['"),
    ],
)
def test_corrupt_input_reports_the_byte_offset(data: bytes, offset: int, fragment: str) -> None:
    with pytest.raises(WireFormatError) as info:
        parse_registry_pol(data)
    assert info.value.offset == offset
    assert fragment in info.value.message
    assert f"at byte offset {offset}" in str(info.value)


def test_a_smaller_size_field_leaves_the_closing_bracket_misplaced() -> None:
    # Given an entry whose size says 2 while 4 data bytes follow
    data = GOOD[:28] + struct.pack("<I", 2) + GOOD[32:]

    # Then the parser stops where it expected ']' rather than guessing
    with pytest.raises(WireFormatError) as info:
        parse_registry_pol(data)
    assert info.value.offset == 36


# -- set_values -------------------------------------------------------------------------------


def test_set_values_replaces_in_place_and_appends_new_slots() -> None:
    # Given a file with three entries
    existing = (
        PolEntry.sz("Software\\A", "x", "keep"),
        PolEntry.dword(DEFAULTS, "pcoip.server_clipboard_state", 1),
        PolEntry.dword("Software\\B", "y", 9),
    )

    # When the clipboard is set (different case) and a new value is added
    result = set_values(
        existing,
        [
            PolEntry.dword(DEFAULTS.upper(), "PCOIP.server_clipboard_state", 0),
            PolEntry.dword(DEFAULTS, "pcoip.remote_printing_enabled", 0),
        ],
    )

    # Then the clipboard keeps its position, the others keep their order, the new one is last
    assert [(e.key, e.value, e.decoded) for e in result] == [
        ("Software\\A", "x", "keep"),
        (DEFAULTS.upper(), "PCOIP.server_clipboard_state", 0),
        ("Software\\B", "y", 9),
        (DEFAULTS, "pcoip.remote_printing_enabled", 0),
    ]


def test_set_values_drops_duplicates_and_contradicting_deletes() -> None:
    existing = (
        PolEntry.delete("K", "v"),
        PolEntry.dword("K", "v", 1),
        PolEntry.dword("k", "V", 2),
        PolEntry.dword("K", "other", 3),
    )
    assert set_values(existing, [PolEntry.dword("K", "v", 5)]) == (
        PolEntry.dword("K", "v", 5),
        PolEntry.dword("K", "other", 3),
    )
    assert set_values(existing, [PolEntry.delete("K", "other")]) == (
        PolEntry.delete("K", "v"),
        PolEntry.dword("K", "v", 1),
        PolEntry.dword("k", "V", 2),
        PolEntry.delete("K", "other"),
    )


def test_set_values_delete_replaces_the_value_it_deletes() -> None:
    existing = (PolEntry.dword("K", "v", 1), PolEntry.dword("K", "other", 3))
    assert set_values(existing, [PolEntry.delete("K", "other")]) == (
        PolEntry.dword("K", "v", 1),
        PolEntry.delete("K", "other"),
    )


def test_find_returns_the_last_entry_for_a_slot() -> None:
    entries = (PolEntry.dword("K", "v", 1), PolEntry.dword("k", "V", 2))
    found = find(entries, "K", "v")
    assert found is not None and found.decoded == 2
    assert find(entries, "K", "missing") is None


# -- properties -------------------------------------------------------------------------------

# Names: any text without NUL, with the separators and non-ASCII made likely.
names = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("[];\\*. éß雪🙂")), st.characters(blacklist_categories=("Cs",))
    ).filter(lambda c: c != "\x00"),
    max_size=20,
)
strings = names.filter(lambda s: s != "")
raw_entries = st.builds(
    PolEntry,
    key=names,
    value=names,
    type=st.sampled_from(list(RegType)),
    data=st.binary(max_size=40) | st.sampled_from([u16(";"), u16("]"), u16("]["), b"]", b";"]),
)
typed_entries = st.one_of(
    st.builds(PolEntry.dword, names, names, st.integers(0, 2**32 - 1)),
    st.builds(PolEntry.qword, names, names, st.integers(0, 2**64 - 1)),
    st.builds(PolEntry.sz, names, names, names, expand=st.booleans()),
    st.builds(PolEntry.multi_sz, names, names, st.lists(strings, max_size=4)),
    st.builds(PolEntry.binary, names, names, st.binary(max_size=16)),
    st.builds(PolEntry.delete, names, names),
    st.builds(PolEntry.delete_values, names),
)


@given(st.lists(raw_entries, max_size=8))
def test_round_trip_any_entries(entries: list[PolEntry]) -> None:
    data = encode_registry_pol(entries)
    assert parse_registry_pol(data) == tuple(entries)


@given(typed_entries)
def test_typed_entries_decode_to_what_was_given(entry: PolEntry) -> None:
    (parsed,) = parse_registry_pol(encode_registry_pol([entry]))
    assert parsed.decoded == entry.decoded


@example(
    existing=[], updates=[PolEntry.dword("", "", 0), PolEntry.delete("", ""), PolEntry.dword("", "[", 0)]
)
@given(st.lists(typed_entries, max_size=6), st.lists(typed_entries, max_size=4))
def test_setting_the_same_values_twice_gives_identical_bytes(
    existing: list[PolEntry], updates: list[PolEntry]
) -> None:
    once = set_values(existing, updates)
    twice = set_values(parse_registry_pol(encode_registry_pol(once)), updates)
    assert encode_registry_pol(twice) == encode_registry_pol(once)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_raise_wire_format_error(tail: bytes) -> None:
    try:
        parse_registry_pol(HEADER + tail)
    except WireFormatError as e:
        assert e.offset is not None and 0 <= e.offset <= len(HEADER) + len(tail)
