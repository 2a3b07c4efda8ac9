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
    PolicyChoice,
    describe,
    enable_policy,
    parse_policy_choice,
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


# -- any policy by its title (--policy) ---------------------------------------------------------


def choices(*texts: str) -> tuple[PolicyChoice, ...]:
    return tuple(parse_policy_choice(t) for t in texts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Configure remote printing=Basic printing only", PolicyChoice("Configure remote printing", None, "Basic printing only")),
        (" Title > Part = a=b ", PolicyChoice("Title", "Part", "a=b")),
        ("Title=", PolicyChoice("Title", None, "")),
    ],
)  # fmt: skip
def test_policy_options_are_read_as_title_part_and_value(text: str, expected: PolicyChoice) -> None:
    assert parse_policy_choice(text) == expected


@pytest.mark.parametrize("text", ["Configure remote printing", "=1", "Title > =1"])
def test_malformed_policy_options_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="is not TITLE=VALUE"):
        parse_policy_choice(text)


def test_a_policy_by_title_sets_its_one_part_by_item_name_or_number(adm: AdmTemplate) -> None:
    # Given the remote printing policy named by its title, its item by name, then by number
    by_name = policy_entries(
        adm, PcoipRequest(policies=choices("configure REMOTE printing=basic printing only"))
    )
    by_number = policy_entries(adm, PcoipRequest(policies=choices("Configure remote printing=1")))

    # Then both write the item's VALUE under the overridable defaults, as the shortcut option does
    assert by_name == by_number == (PolEntry.dword(KEY_DEFAULTS, "pcoip.remote_printing_enabled", 1),)
    assert by_name == policy_entries(adm, PcoipRequest(remote_printing=1))


def test_enforce_picks_the_not_overridable_policy_of_the_same_title(adm: AdmTemplate) -> None:
    request = PcoipRequest(policies=choices("Configure clipboard redirection=0"), enforce=True)
    assert policy_entries(adm, request) == (PolEntry.dword(KEY_ENFORCED, "pcoip.server_clipboard_state", 0),)


def test_parts_of_a_policy_combine_and_the_others_take_their_defaults(adm: AdmTemplate) -> None:
    # Given the reconnection policy's timeout part, named by its title in the editor
    request = PcoipRequest(
        policies=choices("Configure Session Automatic Reconnection Policy > Session resume timeout=45")
    )

    # Then the policy is enabled: the checkbox takes its default (checked) and the timeout is set
    assert policy_entries(adm, request) == (
        PolEntry.dword(KEY_DEFAULTS, "pcoip.enable_session_auto_reconnect", 1),
        PolEntry.dword(KEY_DEFAULTS, "pcoip.session_auto_reconnect_timeout", 45),
    )
    # and a part can be named by its value name too, a checkbox by on/off
    both = choices(
        "Configure Session Automatic Reconnection Policy > pcoip.enable_session_auto_reconnect=off",
        "Configure Session Automatic Reconnection Policy > Session resume timeout=45",
    )
    assert policy_entries(adm, PcoipRequest(policies=both))[0] == PolEntry.dword(
        KEY_DEFAULTS, "pcoip.enable_session_auto_reconnect", 0
    )


def test_enabled_takes_the_defaults_and_disabled_deletes_the_values(adm: AdmTemplate) -> None:
    title = "Configure Session Automatic Reconnection Policy"
    assert policy_entries(adm, PcoipRequest(policies=choices(f"{title}=enabled"))) == (
        PolEntry.dword(KEY_DEFAULTS, "pcoip.enable_session_auto_reconnect", 1),
        PolEntry.dword(KEY_DEFAULTS, "pcoip.session_auto_reconnect_timeout", 20),
    )
    assert policy_entries(adm, PcoipRequest(policies=choices(f"{title}=Disabled"))) == (
        PolEntry.delete(KEY_DEFAULTS, "pcoip.enable_session_auto_reconnect"),
        PolEntry.delete(KEY_DEFAULTS, "pcoip.session_auto_reconnect_timeout"),
    )


@pytest.mark.parametrize(
    ("texts", "enforce", "fragment"),
    [
        (("Configure remote printer=0",), False, "no policy titled 'Configure remote printer'"),
        (("Configure Session Automatic Reconnection Policy=30",), False, "has several parts"),
        (("Configure Session Automatic Reconnection Policy > Minutes=30",), False, "has no part 'Minutes'"),
        (("Configure Session Automatic Reconnection Policy > Session resume timeout=soon",), False,
         "takes a whole number, not 'soon'"),
        (("Configure Session Automatic Reconnection Policy > Session resume timeout=0",), False,
         "accepts 1 to 1440, not 0"),
        (("Configure Session Automatic Reconnection Policy > Enable automatic reconnection=maybe",), False,
         "give on or off"),
        (("Configure remote printing=2",), True, "offers 0 (Printing disabled)"),
        (("Configure remote printing=disabled", "Configure remote printing=1"), False, "both disabled and set"),
    ],
)  # fmt: skip
def test_policy_values_are_checked_against_the_template(
    adm: AdmTemplate, texts: tuple[str, ...], enforce: bool, fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        policy_entries(adm, PcoipRequest(policies=choices(*texts), enforce=enforce))
    assert fragment in info.value.message


def test_an_unknown_title_suggests_the_closest_one(adm: AdmTemplate) -> None:
    with pytest.raises(InputError) as info:
        policy_entries(adm, PcoipRequest(policies=choices("Configure remote printer=0")))
    assert info.value.hint == "Did you mean 'Configure remote printing'?"


def test_a_policy_in_one_category_only_needs_the_matching_enforce() -> None:
    # Given a template whose audio policy exists only under the enforced key
    adm = parse_adm(
        "CLASS MACHINE\nCATEGORY !!NotOverridable\nKEYNAME " + KEY_ENFORCED + "\n"
        'POLICY "Enable/disable audio in the PCoIP session"\nVALUENAME pcoip.enable_audio\n'
        "VALUEON NUMERIC 1 VALUEOFF NUMERIC 0\nEND POLICY\nEND CATEGORY\n"
        '[strings]\nNotOverridable="Not Overridable Administration Defaults"\n',
        source="pcoip.adm",
    )
    title = "Enable/disable audio in the PCoIP session"

    # Then without --enforce it says so, and with it VALUEON/VALUEOFF are written
    with pytest.raises(InputError) as info:
        policy_entries(adm, PcoipRequest(policies=choices(f"{title}=enabled")))
    assert "only in Not Overridable Administration Defaults" in info.value.message
    assert info.value.hint == "Add --enforce to set it."
    assert policy_entries(adm, PcoipRequest(policies=choices(f"{title}=enabled"), enforce=True)) == (
        PolEntry.dword(KEY_ENFORCED, "pcoip.enable_audio", 1),
    )
    assert policy_entries(adm, PcoipRequest(policies=choices(f"{title}=disabled"), enforce=True)) == (
        PolEntry.dword(KEY_ENFORCED, "pcoip.enable_audio", 0),
    )
    with pytest.raises(InputError, match="has no value to set, only a state"):
        policy_entries(adm, PcoipRequest(policies=choices(f"{title}=1"), enforce=True))


def test_text_parts_are_checked_for_required_and_maxlen() -> None:
    adm = parse_adm(
        r"""CLASS MACHINE
CATEGORY "PCoIP Session Variables"
  KEYNAME "Software\Policies\Teradici\PCoIP\pcoip_admin_defaults"
  POLICY "Configure PCoIP USB allowed and unallowed device rules"
    PART "Authorized USB devices" EDITTEXT REQUIRED MAXLEN 8
      VALUENAME pcoip.usb_auth_table
    END PART
    PART "Unauthorized USB devices" EDITTEXT
      VALUENAME pcoip.usb_unauth_table
    END PART
    PART "Mode" LISTBOX KEYNAME "Software\Policies\Teradici\PCoIP\usb_list" END PART
  END POLICY
END CATEGORY
""",
        source="pcoip.adm",
    )
    title = "Configure PCoIP USB allowed and unallowed device rules"

    def entries(*texts: str) -> tuple[PolEntry, ...]:
        return policy_entries(adm, PcoipRequest(policies=choices(*texts)))

    assert entries(f"{title} > Authorized USB devices=+o1", f"{title} > Unauthorized USB devices=-c08") == (
        PolEntry.sz(KEY_DEFAULTS, "pcoip.usb_auth_table", "+o1"),
        PolEntry.sz(KEY_DEFAULTS, "pcoip.usb_unauth_table", "-c08"),
    )
    with pytest.raises(InputError, match="takes at most 8 characters, not 9"):
        entries(f"{title} > Authorized USB devices=123456789", f"{title} > Unauthorized USB devices=x")
    with pytest.raises(InputError, match="needs a value; it cannot be empty"):
        entries(f"{title} > Authorized USB devices=", f"{title} > Unauthorized USB devices=x")
    # disabling deletes each part's value and a list part's whole key
    assert entries(f"{title}=disabled")[-1] == PolEntry.delete_values(
        r"Software\Policies\Teradici\PCoIP\usb_list"
    )


def test_a_shortcut_and_a_policy_that_disagree_are_refused(adm: AdmTemplate) -> None:
    # Given --remote-printing 0 and the same policy by title with another value
    request = PcoipRequest(remote_printing=0, policies=choices("Configure remote printing=3"))
    with pytest.raises(InputError, match=r"pcoip\.remote_printing_enabled is set twice"):
        policy_entries(adm, request)
    # while the same value given both ways is written once
    same = PcoipRequest(remote_printing=0, policies=choices("Configure remote printing=Printing disabled"))
    assert policy_entries(adm, same) == (PolEntry.dword(KEY_DEFAULTS, "pcoip.remote_printing_enabled", 0),)
