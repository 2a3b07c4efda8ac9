"""Delegation presets: Given / When / Then."""

from __future__ import annotations

from pathlib import Path

import pytest

from adprep.ad.delegation import WORKSPACES_2016, ad_connector_ou, diff_aces, preset
from adprep.ad.security_descriptor import (
    encode_with_added_aces,
    parse_security_descriptor,
)
from adprep.errors import InputError
from adprep.requirements import SCHEMA_GUID_COMPUTER, SCHEMA_GUID_USER

SID = "S-1-5-21-1-2-3-1105"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ad"


def test_workspaces_2016_is_exactly_the_two_wizard_tasks() -> None:
    aces = WORKSPACES_2016.aces(SID)
    assert WORKSPACES_2016.scope == "domain-root"
    assert [a.to_sddl() for a in aces] == [
        f"(OA;CIIO;RP;;{SCHEMA_GUID_USER};{SID})",
        f"(OA;CI;CC;{SCHEMA_GUID_COMPUTER};;{SID})",
    ]


def test_ad_connector_ou_with_and_without_write() -> None:
    with_write = [a.to_sddl() for a in ad_connector_ou().aces(SID)]
    assert with_write == [
        f"(OA;CI;CCDC;{SCHEMA_GUID_COMPUTER};;{SID})",
        f"(OA;CI;CCDC;{SCHEMA_GUID_USER};;{SID})",
        f"(OA;CIIO;LCRPLORC;;{SCHEMA_GUID_COMPUTER};{SID})",
        f"(OA;CIIO;LCRPLORC;;{SCHEMA_GUID_USER};{SID})",
        f"(OA;CIIO;WP;;{SCHEMA_GUID_COMPUTER};{SID})",
    ]
    assert len(ad_connector_ou(write=False).aces(SID)) == 4
    assert ad_connector_ou().scope == "ou"


def test_preset_lookup() -> None:
    assert preset("workspaces-2016") is WORKSPACES_2016
    assert preset("ad-connector-ou", write=False).aces(SID) == ad_connector_ou(write=False).aces(SID)
    with pytest.raises(InputError, match="workspaces-2016"):
        preset("everything")


def test_diff_then_apply_then_diff_is_empty() -> None:
    # Given the lab's real domain root DACL
    blob = (FIXTURES / "domain_root_dacl.bin").read_bytes()
    wanted = WORKSPACES_2016.aces(SID)
    # When the missing ACEs are computed and written
    missing = diff_aces(parse_security_descriptor(blob), wanted)
    assert missing == wanted
    out = encode_with_added_aces(blob, missing)
    # Then nothing is missing any more
    assert diff_aces(parse_security_descriptor(out), wanted) == ()


def test_diff_removes_duplicates_in_wanted() -> None:
    blob = (FIXTURES / "users_container_dacl.bin").read_bytes()
    ace = WORKSPACES_2016.aces(SID)[0]
    assert diff_aces(parse_security_descriptor(blob), [ace, ace]) == (ace,)
