"""DN and filter escaping (RFC 4514, RFC 4515): Given / When / Then."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ldap3.utils.conv import escape_filter_chars

from adprep.ad.dn import (
    Rdn,
    dn_equal,
    escape_filter_value,
    escape_rdn_value,
    is_descendant,
    ou_path_to_dn,
    parent,
    parse_dn,
    rdn,
    render_dn,
)
from adprep.errors import InputError


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("Sales, EMEA", "Sales\\, EMEA"),
        ('a+b"c\\d<e>f;g=h', 'a\\+b\\"c\\\\d\\<e\\>f\\;g\\=h'),
        ("#1", "\\#1"),
        ("a#1", "a#1"),
        (" lead", "\\ lead"),
        ("trail ", "trail\\ "),
        (" ", "\\ "),
        ("nul\x00", "nul\\00"),
        ("Zoë", "Zoë"),
    ],
)
def test_escape_rdn_value(value: str, escaped: str) -> None:
    # Given a value with RFC 4514 2.4 specials / When escaped / Then each special is escaped once
    assert escape_rdn_value(value) == escaped


@given(st.text(min_size=1))
def test_escape_then_parse_round_trips(value: str) -> None:
    # Given any value / When it is put into an RDN and parsed back / Then the value is unchanged
    parsed = parse_dn(f"{rdn('CN', value)},DC=corp,DC=example")
    assert parsed[0] == Rdn((("CN", value),))
    assert [r.value for r in parsed[1:]] == ["corp", "example"]


@given(st.lists(st.tuples(st.sampled_from(["CN", "OU", "DC"]), st.text(min_size=1)), min_size=1, max_size=5))
def test_render_parse_round_trips(pairs: list[tuple[str, str]]) -> None:
    # Given RDNs / When rendered and parsed / Then the same RDNs come back
    rdns = tuple(Rdn(((t, v),)) for t, v in pairs)
    assert parse_dn(render_dn(rdns)) == rdns


def test_parse_handles_hex_escapes_spaces_and_multivalued_rdns() -> None:
    # Given a DN with UTF-8 hex escapes, a "+" RDN, spaces after commas and an escaped trailing space
    dn = "CN=Zo\\c3\\ab+UID=7, OU=a\\,b\\ ,DC=x"
    # When parsed
    rdns = parse_dn(dn)
    # Then escapes are resolved and only unescaped spaces are dropped
    assert rdns[0].avas == (("CN", "Zoë"), ("UID", "7"))
    assert rdns[1].value == "a,b "
    assert rdns[2].value == "x"


@pytest.mark.parametrize("bad", ["OU", "OU=a,", "=a", "OU=a\\", "OU=a\\zz", 'OU=a"b', "OU=#0403", "O U=a"])
def test_parse_rejects_malformed(bad: str) -> None:
    with pytest.raises(InputError):
        parse_dn(bad)


def test_dn_equal_is_case_insensitive_and_escape_aware() -> None:
    assert dn_equal("OU=Sales\\2c EMEA,DC=Corp", "ou=sales\\, emea, dc=corp")
    assert dn_equal("CN=a+UID=b,DC=x", "UID=B+cn=A,DC=x")
    assert not dn_equal("OU=a,DC=x", "OU=a,DC=y")
    assert not dn_equal("OU=a,DC=x", "DC=x")


def test_parent_and_descendant() -> None:
    assert parent("OU=a\\,b,DC=x,DC=y") == "DC=x,DC=y"
    assert parent("DC=y") == ""
    with pytest.raises(InputError):
        parent("")
    assert is_descendant("CN=u,OU=a,DC=x", "ou=A,dc=X")
    assert not is_descendant("DC=x", "OU=a,DC=x")


def test_ou_path_to_dn() -> None:
    # Given a top-down OU path / When turned into a DN / Then the deepest OU comes first, escaped
    assert (
        ou_path_to_dn("WorkSpaces/Users", "DC=corp,DC=example") == "OU=Users,OU=WorkSpaces,DC=corp,DC=example"
    )
    assert ou_path_to_dn("Sales, EMEA", "DC=c") == "OU=Sales\\, EMEA,DC=c"
    assert ou_path_to_dn(" A / B ", "DC=c") == "OU=B,OU=A,DC=c"


@pytest.mark.parametrize("path", ["", "/", "a//b", "/a", "a/", " / "])
def test_ou_path_rejects_empty_components(path: str) -> None:
    with pytest.raises(InputError, match="empty component"):
        ou_path_to_dn(path, "DC=corp,DC=example")


def test_ou_path_rejects_long_names_and_empty_base() -> None:
    with pytest.raises(InputError, match="64"):
        ou_path_to_dn("x" * 65, "DC=c")
    with pytest.raises(InputError):
        ou_path_to_dn("a", "")


def test_rdn_rejects_empty_value_and_bad_type() -> None:
    with pytest.raises(InputError):
        rdn("OU", "")
    with pytest.raises(InputError):
        rdn("O U", "x")


def test_escape_filter_value() -> None:
    assert escape_filter_value("a*(b)\\c\x00") == "a\\2a\\28b\\29\\5cc\\00"
    assert escape_filter_value("Zoë") == "Zoë"


@given(st.text())
def test_escape_filter_value_matches_ldap3(value: str) -> None:
    # Given any str / When escaped by adprep and by ldap3 / Then both agree
    assert escape_filter_value(value) == escape_filter_chars(value)
