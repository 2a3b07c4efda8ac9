"""ADM template parsing: the pcoip.adm fixture, encodings, conditionals, and errors with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from adprep.errors import WireFormatError
from adprep.gpo.adm import (
    AdmAction,
    AdmItem,
    AdmSyntaxError,
    PartKind,
    PolicyClass,
    decode_adm,
    parse_adm,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gpo" / "pcoip.adm"
DEFAULTS = r"Software\Policies\Teradici\PCoIP\pcoip_admin_defaults"
ADMIN = r"Software\Policies\Teradici\PCoIP\pcoip_admin"


def test_pcoip_fixture_policies() -> None:
    # Given the hand-written pcoip.adm
    template = parse_adm(FIXTURE.read_bytes(), source="pcoip.adm")

    # Then it holds three machine policies in each of the two categories
    assert [(p.category_path, p.name, p.keyname) for p in template.policies] == [
        (("PCoIP Session Variables", "Overridable Administration Defaults"), name, DEFAULTS)
        for name in (
            "Configure clipboard redirection",
            "Configure remote printing",
            "Configure Session Automatic Reconnection Policy",
        )
    ] + [
        (("PCoIP Session Variables", "Not Overridable Administration Defaults"), name, ADMIN)
        for name in (
            "Configure clipboard redirection",
            "Configure remote printing",
            "Configure Session Automatic Reconnection Policy",
        )
    ]
    assert all(p.class_ is PolicyClass.MACHINE for p in template.policies)


def test_pcoip_fixture_clipboard_dropdown() -> None:
    template = parse_adm(FIXTURE.read_bytes(), source="pcoip.adm")
    found = template.writing(DEFAULTS.upper(), "PCOIP.server_clipboard_state")
    assert found is not None
    policy, part = found
    assert part is not None and part.kind is PartKind.DROPDOWNLIST and part.required
    assert [(i.name, i.value) for i in part.items] == [
        ("Disabled in both directions", 0),
        ("Enabled in both directions", 1),
        ("Enabled client to agent only", 2),
        ("Enabled agent to client only", 3),
    ]
    assert part.default == 2
    assert policy.supported == "At least Windows 7 with the PCoIP agent"
    assert policy.explain is not None and "\n\nBy default" in policy.explain


def test_pcoip_fixture_reconnect_parts() -> None:
    template = parse_adm(FIXTURE.read_bytes(), source="pcoip.adm")
    policy = template.find("configure session automatic reconnection policy", keyname=ADMIN)
    assert policy is not None
    enable, timeout, units = policy.parts
    assert (enable.kind, enable.valuename, enable.default, enable.value_on, enable.value_off) == (
        PartKind.CHECKBOX,
        "pcoip.enable_session_auto_reconnect",
        1,
        1,
        0,
    )
    assert (timeout.kind, timeout.minimum, timeout.maximum, timeout.default, timeout.spin) == (
        PartKind.NUMERIC,
        1,
        1440,
        20,
        5,
    )
    assert (units.kind, units.name, units.valuename) == (PartKind.TEXT, "minutes", None)
    assert timeout.keyname == ADMIN


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "utf-8", "cp1252"])
def test_encodings_are_detected(encoding: str) -> None:
    # Given the fixture with a non-ASCII category name, saved in each encoding editors use
    text = FIXTURE.read_text("utf-8").replace('"PCoIP Session Variables"', '"PCoIP Sitzungsvariablen é"')
    template = parse_adm(text.encode(encoding), source="pcoip.adm")
    assert template.policies[0].category_path[0] == "PCoIP Sitzungsvariablen é"
    assert decode_adm(text.encode(encoding)).replace("\ufeff", "") == text


SMALL = """\
; a small template
CLASS USER
CATEGORY "Top"
  KEYNAME "Software\\Policies\\Top"
  POLICY "Plain"            ; enabling writes VALUEON
    VALUENAME "On"
    VALUEON "yes" VALUEOFF DELETE
    ACTIONLISTON
      VALUENAME "Extra" VALUE NUMERIC 7
      KEYNAME "Software\\Other" VALUENAME "X" VALUE DELETE
    END ACTIONLISTON
  END POLICY
  CATEGORY "Nested"
    POLICY "Parts"
      KEYNAME Software\\Policies\\Nested
      PART "Choice" DROPDOWNLIST
        VALUENAME Choice
        ITEMLIST
          NAME "A" VALUE "alpha"
          NAME "B" VALUE NUMERIC 2 DEFAULT ACTIONLIST VALUENAME "Side" VALUE NUMERIC 1 END ACTIONLIST
          NAME "C" VALUE DELETE
        END ITEMLIST
      END PART
      PART "Count" NUMERIC
        VALUENAME Count
      END PART
      PART "Path" EDITTEXT EXPANDABLETEXT MAXLEN 255 DEFAULT "%TEMP%"
        VALUENAME Path
      END PART
      PART "Pick" COMBOBOX
        VALUENAME Pick
        SUGGESTIONS one two END SUGGESTIONS
      END PART
    END POLICY
  END CATEGORY
END CATEGORY
"""


def test_small_template_covers_the_grammar() -> None:
    template = parse_adm(SMALL, source="small.adm")
    plain, parts = template.policies

    assert plain.class_ is PolicyClass.USER
    assert (plain.valuename, plain.value_on, plain.value_off) == ("On", "yes", None)
    assert plain.actions_on == (
        AdmAction("", "Extra", 7),
        AdmAction("Software\\Other", "X", None),
    )
    assert parts.category_path == ("Top", "Nested")
    assert parts.keyname == "Software\\Policies\\Nested"
    choice, count, path, pick = parts.parts
    assert choice.items == (
        AdmItem("A", "alpha"),
        AdmItem("B", 2, default=True, actions=(AdmAction("", "Side", 1),)),
        AdmItem("C", None),
    )
    assert choice.default == 2
    assert (count.minimum, count.maximum, count.default) == (0, 9999, None)
    assert (path.kind, path.expandable, path.default) == (PartKind.EDITTEXT, True, "%TEMP%")
    assert pick.kind is PartKind.COMBOBOX
    assert parts.part("count") is count


def test_if_version_blocks() -> None:
    text = """\
CLASS MACHINE
CATEGORY "C"
  KEYNAME K
#if version >= 4
  POLICY "New" VALUENAME a END POLICY
#else
  POLICY "Old" VALUENAME a END POLICY
#endif
#if version > 99
  POLICY "Future" VALUENAME b
    PART "x" SOMETHINGNEW END PART
  END POLICY
#if version >= 4
  POLICY "NestedFuture" VALUENAME c END POLICY
#endif
#endif
#ifdef SOMETHING
  POLICY "Unknown condition" VALUENAME d END POLICY
#endif
END CATEGORY
"""
    assert [p.name for p in parse_adm(text).policies] == ["New"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "CLASS MACHINE\nCATEGORY C\nKEYNAME K\nPOLICY P\nPART X NUMERIC\nVALUENAME v\nEND POLICY\n",
            7,
            "expected END PART, found 'END POLICY'",
        ),
        (
            "CLASS MACHINE\nCATEGORY C\nKEYNAME K\nPOLICY P\nPART X NUMERIC\nVALUENAME v\n",
            6,
            "found end of file",
        ),
        ("CATEGORY C\nEND CATEGORY\n", 1, "expected CLASS MACHINE or CLASS USER before CATEGORY"),
        ("CLASS SOMETIMES\n", 1, "expected MACHINE or USER"),
        ("CLASS MACHINE\nCATEGORY !!missing\n", 2, "!!missing is not defined"),
        ('CLASS MACHINE\nCATEGORY "open\n', 2, "unterminated quoted string"),
        ("CLASS MACHINE\nCATEGORY C\nPOLICY P\nPART X SLIDER\n", 4, "expected a part type"),
        (
            "CLASS MACHINE\nCATEGORY C\nKEYNAME K\nPOLICY P\nPART X DROPDOWNLIST\nVALUENAME v\nEND PART\n",
            5,
            "has no ITEMLIST",
        ),
        (
            "CLASS MACHINE\nCATEGORY C\nKEYNAME K\nPOLICY P\nPART X NUMERIC\nVALUENAME v\nMIN 5 MAX 1\nEND PART\n",
            5,
            "MIN 5 above MAX 1",
        ),
        (
            "CLASS MACHINE\nCATEGORY C\nKEYNAME K\nPOLICY P\nPART X NUMERIC\nVALUENAME v\nMIN ten\n",
            7,
            "expected a number after MIN, found 'ten'",
        ),
        ("CLASS MACHINE\nCATEGORY C\nPOLICY P\nVALUENAME v\nEND POLICY\n", 5, "has no KEYNAME"),
        ("CLASS MACHINE\n#if version >= 4\nCATEGORY C\n", 2, "#if without #endif"),
        ("CLASS MACHINE\n#endif\n", 2, "#endif without #if"),
        ("CLASS MACHINE\nCATEGORY C\nEND CATEGORY\n[strings]\nbroken line\n", 5, 'expected name="value"'),
        (
            "CLASS MACHINE\nCATEGORY C\nKEYNAME K\nPOLICY P\nPART X CHECKBOX\nEND PART\n",
            5,
            "has no VALUENAME",
        ),
        ("CLASS MACHINE\nCATEGORY C\nEND POLICY\n", 3, "expected END CATEGORY, found 'END POLICY'"),
    ],
)
def test_malformed_templates_report_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(AdmSyntaxError) as info:
        parse_adm(text, source="pcoip.adm")
    assert info.value.line == line
    assert str(info.value).startswith(f"pcoip.adm line {line}: ")
    assert message in str(info.value)
    assert isinstance(info.value, WireFormatError)


def test_fixture_with_a_missing_end_part_names_its_line() -> None:
    # Given the fixture with the first "END PART" removed
    lines = FIXTURE.read_text("utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines) if line.strip() == "END PART")
    lines[broken] = ""

    # Then the error points at the END POLICY that came instead, one line later
    with pytest.raises(AdmSyntaxError) as info:
        parse_adm("\n".join(lines), source="pcoip.adm")
    assert info.value.line == broken + 2
    assert str(info.value) == f"pcoip.adm line {broken + 2}: expected END PART, found 'END POLICY'"
