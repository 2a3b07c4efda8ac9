"""GPT.INI parsing and rendering, and GPO version arithmetic (MS-GPOL 2.2.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.errors import InputError, WireFormatError
from adprep.gpo.gpt_ini import (
    GptIni,
    bump_machine,
    bump_user,
    join_version,
    ldap_version,
    parse_gpt_ini,
    render_gpt_ini,
    split_version,
)


def test_parse_windows_file() -> None:
    # Given a GPT.INI as older Group Policy editors write it
    data = b"[General]\r\ndisplayName=WorkSpaces Machine Policies\r\nVersion=65539\r\n"

    # When it is parsed
    ini = parse_gpt_ini(data)

    # Then the version and name are read
    assert ini == GptIni(version=65539, display_name="WorkSpaces Machine Policies")
    assert split_version(ini.version) == (1, 3)


def test_parse_samba_file_and_keep_unknown_lines() -> None:
    ini = parse_gpt_ini(b"[General]\nVersion=0\nOptions=0\n; comment\n\n[Other]\nx = y\n")
    assert ini.version == 0
    assert ini.extra == (("General", "Options", "0"), ("Other", "x", "y"))
    assert render_gpt_ini(ini) == b"[General]\r\nVersion=0\r\nOptions=0\r\n[Other]\r\nx=y\r\n"


def test_parse_utf16_with_bom_and_missing_version() -> None:
    ini = parse_gpt_ini("[general]\r\ndisplayname=é\r\n".encode("utf-16"))
    assert ini == GptIni(version=0, display_name="é")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"[General]\r\nVersion=abc\r\n", "line 2: Version='abc'"),
        (b"[General]\r\nVersion=4294967296\r\n", "line 2"),
        (b"Version=1\r\n", "line 1: expected [section]"),
        (b"[General]\r\njunk\r\n", "line 2: expected"),
    ],
)
def test_parse_rejects_malformed_files(data: bytes, fragment: str) -> None:
    with pytest.raises(WireFormatError, match=fragment.replace("[", r"\[")):
        parse_gpt_ini(data)


def test_render_is_crlf_general_first() -> None:
    ini = GptIni(display_name="PCoIP").with_version(bump_machine(0))
    assert render_gpt_ini(ini) == b"[General]\r\nVersion=1\r\ndisplayName=PCoIP\r\n"


def test_version_halves() -> None:
    assert split_version(0x00020005) == (2, 5)
    assert join_version(2, 5) == 0x00020005
    assert bump_machine(0x00020005) == 0x00020006
    assert bump_user(0x00020005) == 0x00030005


def test_halves_wrap_to_one_not_zero() -> None:
    # 0 would tell clients the half is empty, so a full counter wraps to 1.
    assert bump_machine(join_version(7, 0xFFFF)) == join_version(7, 1)
    assert bump_user(join_version(0xFFFF, 7)) == join_version(1, 7)


def test_ldap_signed_versions() -> None:
    # versionNumber is a signed LDAP INTEGER: a large user half reads negative.
    assert ldap_version(join_version(0x8000, 1)) == -(2**31) + 1
    assert split_version(-(2**31) + 1) == (0x8000, 1)
    with pytest.raises(InputError):
        split_version(2**32)
    with pytest.raises(InputError):
        join_version(0x10000, 0)


@given(st.integers(0, 2**32 - 1))
def test_bumps_change_only_their_half(version: int) -> None:
    user, machine = split_version(version)
    assert split_version(bump_machine(version))[0] == user
    assert split_version(bump_machine(version))[1] not in (machine, 0)
    assert split_version(bump_user(version))[1] == machine
    assert split_version(bump_user(version))[0] not in (user, 0)
    assert ldap_version(version) & 0xFFFFFFFF == version


# GPT.INI is UTF-8: a lone surrogate is not a display name (LDAP values are UTF-8 too).
@given(
    st.integers(0, 2**32 - 1),
    st.none()
    | st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\r\n\x85\x1c\x1d\x1e\x0b\x0c\u2028\u2029",
        )
    ),
)
def test_render_parse_round_trip(version: int, name: str | None) -> None:
    if name is not None:
        name = name.strip()
    ini = GptIni(version=version, display_name=name)
    assert parse_gpt_ini(render_gpt_ini(ini)) == ini
