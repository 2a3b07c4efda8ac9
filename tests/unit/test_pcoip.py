"""PCoIP settings: from the pcoip.adm fixture and a request to Registry.pol entries, and back to text."""

from __future__ import annotations

from pathlib import Path

import pytest

from adprep.errors import InputError
from adprep.gpo.adm import AdmTemplate, parse_adm
from adprep.gpo.pcoip import (
    KEY_DEFAULTS,
    KEY_ENFORCED,
    Clipboard,
    PcoipRequest,
    describe,
    enable_policy,
    policy_entries,
)
from adprep.gpo.registry_pol import PolEntry, encode_registry_pol, parse_registry_pol, set_values

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gpo" / "pcoip.adm"


@pytest.fixture(scope="module")
def adm() -> AdmTemplate:
    return parse_adm(FIXTURE.read_bytes(), source="pcoip.adm")


def test_overridable_request_writes_dwords_under_admin_defaults(adm: AdmTemplate) -> None:
    # Given a request for the overridable defaults
    request = PcoipRequest(
        clipboard=Clipboard.CLIENT_TO_WORKSPACE, remote_printing=0, reconnect_timeout_minutes=45
    )

    # When it is mapped through the template
    entries = policy_entries(adm, request)

    # Then each enabled policy writes what the ADM says, under pcoip_admin_defaults
    assert entries == (
        PolEntry.dword(KEY_DEFAULTS, "pcoip.server_clipboard_state", 2),
        PolEntry.dword(KEY_DEFAULTS, "pcoip.remote_printing_enabled", 0),
        PolEntry.dword(KEY_DEFAULTS, "pcoip.enable_session_auto_reconnect", 1),
        PolEntry.dword(KEY_DEFAULTS, "pcoip.session_auto_reconnect_timeout", 45),
    )


def test_enforced_request_writes_under_pcoip_admin(adm: AdmTemplate) -> None:
    entries = policy_entries(adm, PcoipRequest(clipboard=Clipboard.DISABLED, enforce=True))
    assert entries == (PolEntry.dword(KEY_ENFORCED, "pcoip.server_clipboard_state", 0),)


@pytest.mark.parametrize(
    ("clipboard", "number"),
    [
        (Clipboard.DISABLED, 0),
        (Clipboard.BOTH, 1),
        (Clipboard.CLIENT_TO_WORKSPACE, 2),
        (Clipboard.WORKSPACE_TO_CLIENT, 3),
    ],
)
def test_clipboard_numbers(adm: AdmTemplate, clipboard: Clipboard, number: int) -> None:
    (entry,) = policy_entries(adm, PcoipRequest(clipboard=clipboard))
    assert entry.decoded == number


def test_remote_printing_by_item_name(adm: AdmTemplate) -> None:
    (entry,) = policy_entries(adm, PcoipRequest(remote_printing="basic and NATIVE printing"))
    assert entry == PolEntry.dword(KEY_DEFAULTS, "pcoip.remote_printing_enabled", 3)


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (PcoipRequest(reconnect_timeout_minutes=0), "accepts 1 to 1440, not 0"),
        (PcoipRequest(reconnect_timeout_minutes=1441), "accepts 1 to 1440, not 1441"),
        (PcoipRequest(remote_printing=2), "offers 0 (Printing disabled), 1 (Basic printing only), 3 (Basic"),
        (PcoipRequest(remote_printing="colour"), "'colour' is not one of them"),
    ],
)
def test_values_outside_the_template_are_refused(
    adm: AdmTemplate, request_: PcoipRequest, fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        policy_entries(adm, request_)
    assert fragment in info.value.message
    assert "pcoip.adm" in info.value.message
    assert info.value.message.count(". ") == 0  # one sentence


def test_a_template_without_the_policy_is_refused() -> None:
    # Given a template that only knows the enforced clipboard policy
    adm = parse_adm(
        "CLASS MACHINE\nCATEGORY C\nKEYNAME " + KEY_ENFORCED + "\n"
        "POLICY P\nPART X DROPDOWNLIST\nVALUENAME pcoip.server_clipboard_state\n"
        "ITEMLIST\nNAME off VALUE NUMERIC 0\nEND ITEMLIST\nEND PART\nEND POLICY\nEND CATEGORY\n",
        source="old.adm",
    )

    # Then overridable clipboard, printing and reconnection each name what is missing
    with pytest.raises(
        InputError, match=r"old\.adm has no clipboard redirection policy .*\\pcoip_admin_defaults;"
    ):
        policy_entries(adm, PcoipRequest(clipboard=Clipboard.DISABLED))
    with pytest.raises(InputError, match="no remote printing policy"):
        policy_entries(adm, PcoipRequest(remote_printing=0, enforce=True))
    with pytest.raises(InputError, match="no 'Configure Session Automatic Reconnection Policy' policy"):
        policy_entries(adm, PcoipRequest(reconnect_timeout_minutes=20, enforce=True))
    with pytest.raises(InputError, match=r"offers 0 \(off\); 1 is not one of them"):
        policy_entries(adm, PcoipRequest(clipboard=Clipboard.BOTH, enforce=True))


def test_enable_policy_follows_adm_semantics() -> None:
    adm = parse_adm(
        r"""CLASS MACHINE
CATEGORY C
  KEYNAME Software\P
  POLICY "Everything"
    VALUENAME Enabled
    ACTIONLISTON VALUENAME Also VALUE NUMERIC 9 END ACTIONLISTON
    PART "Mode" DROPDOWNLIST VALUENAME Mode
      ITEMLIST
        NAME "fast" VALUE "f" ACTIONLIST KEYNAME Software\Q VALUENAME Side VALUE DELETE END ACTIONLIST
        NAME "slow" VALUE NUMERIC 0 DEFAULT
      END ITEMLIST
    END PART
    PART "N" NUMERIC TXTCONVERT VALUENAME N DEFAULT 5 END PART
    PART "Box" CHECKBOX VALUENAME Box VALUEOFF "no" END PART
    PART "Path" EDITTEXT EXPANDABLETEXT VALUENAME Path END PART
    PART "Note" TEXT END PART
  END POLICY
END CATEGORY
""",
        source="t.adm",
    )
    (policy,) = adm.policies

    # With choices for the dropdown, checkbox and text
    assert enable_policy(policy, {"mode": "fast", "Box": False, "Path": "%TEMP%"}) == (
        PolEntry.dword(r"Software\P", "Enabled", 1),
        PolEntry.dword(r"Software\P", "Also", 9),
        PolEntry.sz(r"Software\P", "Mode", "f"),
        PolEntry.delete(r"Software\Q", "Side"),
        PolEntry.sz(r"Software\P", "N", "5"),
        PolEntry.sz(r"Software\P", "Box", "no"),
        PolEntry.sz(r"Software\P", "Path", "%TEMP%", expand=True),
    )
    # A required value with no default, and a part the policy does not have
    with pytest.raises(InputError, match=r"'Path' of 'Everything' .* needs a value"):
        enable_policy(policy, {})
    with pytest.raises(InputError, match="has no part writing nope"):
        enable_policy(policy, {"nope": 1, "Path": "x"})


def test_user_policies_are_refused() -> None:
    adm = parse_adm("CLASS USER\nCATEGORY C\nKEYNAME K\nPOLICY P\nVALUENAME v\nEND POLICY\nEND CATEGORY\n")
    with pytest.raises(InputError, match="user policy"):
        enable_policy(adm.policies[0])


def test_writing_the_same_request_twice_gives_identical_bytes(adm: AdmTemplate) -> None:
    # Given an existing Registry.pol with an unrelated setting and an old clipboard value
    existing = (
        PolEntry.sz(r"Software\Policies\Other", "x", "keep"),
        PolEntry.dword(KEY_DEFAULTS, "pcoip.server_clipboard_state", 1),
    )
    request = PcoipRequest(clipboard=Clipboard.DISABLED, reconnect_timeout_minutes=20)

    # When the request is applied, written, read back and applied again
    once = encode_registry_pol(set_values(existing, policy_entries(adm, request)))
    twice = encode_registry_pol(set_values(parse_registry_pol(once), policy_entries(adm, request)))

    # Then the bytes do not change
    assert once == twice


def test_describe_reads_entries_as_the_editor_shows_them(adm: AdmTemplate) -> None:
    entries = (
        *policy_entries(
            adm,
            PcoipRequest(
                clipboard=Clipboard.BOTH, remote_printing=1, reconnect_timeout_minutes=30, enforce=True
            ),
        ),
        PolEntry.dword(KEY_DEFAULTS, "pcoip.server_clipboard_state", 7),
        PolEntry.delete(KEY_DEFAULTS, "pcoip.remote_printing_enabled"),
        PolEntry.dword(r"Software\Policies\Elsewhere", "Thing", 5),
    )

    assert describe(entries, adm) == [
        (
            "Configure clipboard redirection (Not Overridable Administration Defaults)",
            "Enabled in both directions (1)",
        ),
        ("Configure remote printing (Not Overridable Administration Defaults)", "Basic printing only (1)"),
        (
            "Configure Session Automatic Reconnection Policy (Not Overridable Administration Defaults)",
            "Enable automatic reconnection: on; Session resume timeout: 30",
        ),
        (
            "Configure clipboard redirection (Overridable Administration Defaults)",
            "7 (not one of the template's choices)",
        ),
        ("Configure remote printing (Overridable Administration Defaults)", "deleted"),
        (r"Software\Policies\Elsewhere\Thing", "5"),
    ]
