"""gPLink editing: Given / When / Then."""

from __future__ import annotations

import pytest

from adprep.ad.gplink import add_link, find_link, parse_gplink, remove_link
from adprep.errors import InputError, WireFormatError

DDP = "CN={31B2F340-016D-11D2-945F-00C04FB984F9},CN=Policies,CN=System,DC=corp,DC=example"
NEW = "cn={6AC1786C-016F-11D2-945F-00C04FB984F9},cn=policies,cn=system,DC=corp,DC=example"
OTHER = "cn={11111111-2222-3333-4444-555555555555},cn=policies,cn=system,DC=corp,DC=example"
EXISTING = f"[LDAP://{DDP};0][LDAP://{OTHER};3]"


def test_parse_options() -> None:
    links = parse_gplink(EXISTING)
    assert [(link.dn, link.enabled, link.enforced) for link in links] == [
        (DDP, True, False),
        (OTHER, False, True),
    ]
    assert parse_gplink(None) == parse_gplink("") == parse_gplink(" ") == ()


def test_add_link_goes_first_as_gpmc_does_and_keeps_others_exactly() -> None:
    # Given two existing links / When a GPO is linked / Then it is first in the string (lowest precedence)
    out = add_link(EXISTING, NEW)
    assert out == f"[LDAP://{NEW};0]" + EXISTING
    assert add_link(EXISTING, NEW, enforced=True, highest_precedence=True) == EXISTING + f"[LDAP://{NEW};2]"
    assert add_link(None, NEW) == f"[LDAP://{NEW};0]"


def test_add_link_is_idempotent_and_case_insensitive() -> None:
    assert add_link(EXISTING, DDP.lower()) == EXISTING
    odd = f" [LDAP://{DDP};1] "
    assert add_link(odd, DDP) == odd


def test_remove_link() -> None:
    assert remove_link(EXISTING, OTHER.upper()) == f"[LDAP://{DDP};0]"
    assert remove_link(f"[LDAP://{DDP};0]", DDP) == ""
    assert remove_link(EXISTING, NEW) == EXISTING
    assert remove_link(None, NEW) == ""


def test_find_link() -> None:
    found = find_link(EXISTING, OTHER.lower())
    assert found is not None and found.options == 3
    assert find_link(EXISTING, NEW) is None


@pytest.mark.parametrize("bad", ["junk", f"[LDAP://{DDP};0]junk", f"[LDAP://{DDP}]"])
def test_unreadable_values_are_refused(bad: str) -> None:
    with pytest.raises(WireFormatError):
        parse_gplink(bad)


def test_unwritable_dn_refused() -> None:
    with pytest.raises(InputError):
        add_link("", "cn=a;b")
