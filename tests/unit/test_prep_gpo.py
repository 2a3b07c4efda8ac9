"""GPO plans without a DC: order, versions, re-runs, interrupted runs, links, SYSVOL ACLs."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from adprep import requirements as req
from adprep.ad.security_descriptor import Ace, encode_security_descriptor, parse_security_descriptor
from adprep.ad.sysvol_acl import (
    SE_DACL_PROTECTED,
    ds_mask_to_file_mask,
    file_security_descriptor,
    same_acl,
    security_information,
)
from adprep.errors import InputError
from adprep.facts.gpo import GpoObject, LinkContainer, SysvolState
from adprep.gpo.gpt_ini import GptIni, render_gpt_ini
from adprep.gpo.registry_pol import PolEntry, encode_registry_pol
from adprep.prep.gpo import (
    AdmFile,
    GpoWanted,
    SmbWrite,
    merge_extension_names,
    parse_extension_names,
    plan_gpo,
    plan_link,
    validate_adm_name,
)
from adprep.prep.ldap_writes import ModifyEntry

BASE = "DC=corp,DC=example"
GUID = "{11111111-2222-3333-4444-555555555555}"
DN = f"CN={GUID},CN=Policies,CN=System,{BASE}"
FOLDER = f"corp.example/Policies/{GUID}"
DOMAIN_ADMINS = "S-1-5-21-1-2-3-512"
GPO_SD = encode_security_descriptor(
    [
        Ace("allow", DOMAIN_ADMINS, 0xF01FF),
        Ace("allow", "S-1-3-0", 0xF01FF),
        Ace("allow", "S-1-5-11", 0x20094),
        Ace("allow", "S-1-5-11", 0x100, object_type="edacfd8f-ffb3-11d1-b41d-00a0c968f939"),
        Ace("allow", "S-1-5-32-554", 0x20094),
        Ace("deny", "S-1-1-0", 0x20),
    ],
    owner=DOMAIN_ADMINS,
    group=DOMAIN_ADMINS,
    control=SE_DACL_PROTECTED,
)
FILE_SD = file_security_descriptor(GPO_SD)
SETTING = (PolEntry.dword(req.PCOIP_KEY_DEFAULTS, "pcoip.server_clipboard_state", 2),)


def wanted(settings: tuple[PolEntry, ...] = (), *, may_create: bool = True) -> GpoWanted:
    return GpoWanted("WorkSpaces PCoIP", "corp.example", BASE, settings, may_create)


def existing(version: int = 0, extensions: str | None = None) -> GpoObject:
    return GpoObject(
        dn=DN, guid=GUID, display_name="WorkSpaces PCoIP",
        file_sys_path=f"\\\\corp.example\\SysVol\\corp.example\\Policies\\{GUID}", version=version, flags=0,
        machine_extensions=extensions, functionality_version=2, security_descriptor=GPO_SD,
        children=frozenset({"machine", "user"}),
    )  # fmt: skip


def sysvol(gpt_version: int = 0, pol: bytes | None = None) -> SysvolState:
    entries = {"GPT.INI": False, "Machine": True, "User": True}
    if pol is not None:
        entries["Machine/Registry.pol"] = False
    return SysvolState(
        folder=FOLDER, exists=True, entries=entries, gpt_ini=render_gpt_ini(GptIni(version=gpt_version)),
        registry_pol=pol, acls={p: FILE_SD for p in ("", *entries)},
    )  # fmt: skip


def ids(plan_changes: object) -> list[str]:
    return [c.id.split(":", 1)[0] for c in plan_changes]  # type: ignore[attr-defined]


# -- create / complete ---------------------------------------------------------------------------


def test_a_new_gpo_is_planned_ldap_first_then_sysvol_then_acls() -> None:
    plan = plan_gpo(None, None, wanted(), new_guid=GUID.lower())

    assert ids(plan.changes) == [
        "gpo.create", "gpo.container", "gpo.container", "sysvol.mkdir", "sysvol.mkdir", "sysvol.mkdir",
        "sysvol.write", "sysvol.acl", "sysvol.acl", "sysvol.acl", "sysvol.acl",
    ]  # fmt: skip
    create = plan.changes[0]
    assert create.target == DN  # GUID upper case
    attrs = create.payload.attributes  # type: ignore[attr-defined]
    assert attrs["gPCFileSysPath"] == f"\\\\corp.example\\SysVol\\corp.example\\Policies\\{GUID}"
    assert attrs["displayName"] == "WorkSpaces PCoIP" and attrs["versionNumber"] == 0
    gpt = plan.changes[6].payload
    assert isinstance(gpt, SmbWrite) and gpt.data == b"[General]\r\nVersion=0\r\n"
    # ACLs of a GPO made in this run are derived at apply time from its new descriptor
    assert all(c.payload.descriptor is None for c in plan.changes if c.action == "smb.acl")  # type: ignore[attr-defined]
    assert all(create.id in c.depends_on for c in plan.changes[1:4])


def test_a_complete_gpo_plans_nothing() -> None:
    plan = plan_gpo(existing(), sysvol(), wanted(), new_guid="{00000000-0000-0000-0000-000000000000}")
    assert plan.empty and plan.in_place


def test_a_missing_gpo_is_not_created_when_creation_is_not_allowed() -> None:
    with pytest.raises(InputError, match="no GPO named"):
        plan_gpo(None, None, wanted(SETTING, may_create=False), new_guid=GUID)


def test_settings_bump_the_machine_half_in_gpt_ini_before_registry_pol_and_ldap_last() -> None:
    plan = plan_gpo(existing(version=0x00030002), sysvol(0x00030002), wanted(SETTING), new_guid=GUID)

    writes = [c for c in plan.changes if c.action == "smb.write"]
    assert [w.target.rsplit("\\", 1)[-1] for w in writes] == ["GPT.INI", "Registry.pol"]
    assert writes[0].payload.data == render_gpt_ini(GptIni(version=0x00030003))  # type: ignore[attr-defined]
    assert writes[1].payload.data == encode_registry_pol(SETTING)  # type: ignore[attr-defined]
    last = plan.changes[-1]
    assert isinstance(last.payload, ModifyEntry) and last.id.startswith("gpo.version:")
    assert last.payload.changes["versionNumber"] == [("replace", [0x00030003])]
    assert last.payload.changes["gPCMachineExtensionNames"] == [
        ("replace", [f"[{req.REGISTRY_CSE_GUID}{req.REGISTRY_TOOL_GUID}]"])
    ]
    assert set(last.depends_on) >= {w.id for w in writes}


def test_the_same_settings_again_bump_nothing() -> None:
    ext = f"[{req.REGISTRY_CSE_GUID}{req.REGISTRY_TOOL_GUID}]"
    plan = plan_gpo(existing(1, ext), sysvol(1, encode_registry_pol(SETTING)), wanted(SETTING), new_guid=GUID)
    assert plan.empty


def test_a_run_cut_off_after_registry_pol_brings_ldap_up_to_gpt_ini() -> None:
    # GPT.INI and Registry.pol were written; versionNumber was not.
    ext = f"[{req.REGISTRY_CSE_GUID}{req.REGISTRY_TOOL_GUID}]"
    plan = plan_gpo(existing(0, ext), sysvol(1, encode_registry_pol(SETTING)), wanted(SETTING), new_guid=GUID)
    assert [c.summary for c in plan.changes] == [
        f"Set versionNumber of GPO 'WorkSpaces PCoIP' {GUID} (version 1)"
    ]


def test_a_run_cut_off_after_gpt_ini_bumps_again_and_writes_registry_pol() -> None:
    plan = plan_gpo(existing(0), sysvol(1, None), wanted(SETTING), new_guid=GUID)
    writes = [c for c in plan.changes if c.action == "smb.write"]
    assert writes[0].payload.data == render_gpt_ini(GptIni(version=2))  # type: ignore[attr-defined]
    assert writes[1].target.endswith("Registry.pol")


def test_other_registry_pol_entries_and_extensions_are_kept() -> None:
    other = PolEntry.dword(r"Software\Policies\Other", "x", 1)
    before = "[{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]"
    plan = plan_gpo(
        existing(1, before), sysvol(1, encode_registry_pol((other,))), wanted(SETTING), new_guid=GUID
    )
    pol = next(c for c in plan.changes if c.target.endswith("Registry.pol"))
    assert pol.payload.data == encode_registry_pol((other, *SETTING))  # type: ignore[attr-defined]
    final = plan.changes[-1].payload
    assert isinstance(final, ModifyEntry)
    assert final.changes["gPCMachineExtensionNames"] == [
        ("replace", [f"[{req.REGISTRY_CSE_GUID}{req.REGISTRY_TOOL_GUID}]{before}"])
    ]


def test_a_folder_with_a_wrong_acl_gets_it_set() -> None:
    state = sysvol()
    wrong = encode_security_descriptor(
        [Ace("allow", "S-1-1-0", 0x1F01FF)], owner=DOMAIN_ADMINS, group=DOMAIN_ADMINS
    )
    state = SysvolState(state.folder, True, state.entries, state.gpt_ini, None, {**state.acls, "User": wrong})
    plan = plan_gpo(existing(), state, wanted(), new_guid=GUID)
    assert [c.id for c in plan.changes] == [f"sysvol.acl:{FOLDER}/User"]
    assert plan.changes[0].payload.descriptor == FILE_SD  # type: ignore[attr-defined]


# -- ADM templates (Add/Remove Templates) ----------------------------------------------------------

ADM = AdmFile("pcoip.adm", b"CLASS MACHINE\r\n; a template\r\n")


def with_template(state: SysvolState, name: str, data: bytes) -> SysvolState:
    entries = {**state.entries, "ADM": True, f"ADM/{name}": False}
    acls = {**state.acls, "ADM": FILE_SD, f"ADM/{name}": FILE_SD}
    return dataclasses.replace(state, entries=entries, acls=acls, adm_files={f"ADM/{name}": data})


def test_a_template_is_copied_into_adm_with_the_gpo_acl_and_no_version_bump() -> None:
    # Given a complete GPO without templates
    plan = plan_gpo(existing(1), sysvol(1), dataclasses.replace(wanted(), templates=(ADM,)), new_guid=GUID)

    # Then the Adm folder is made, the file written byte for byte, both get the GPO's ACL, and no version moves
    assert [(c.action, c.target.rsplit("\\", 1)[-1]) for c in plan.changes] == [
        ("smb.mkdir", "Adm"), ("smb.write", "pcoip.adm"), ("smb.acl", "Adm"), ("smb.acl", "pcoip.adm"),
    ]  # fmt: skip
    write = plan.changes[1]
    assert write.payload == SmbWrite("SYSVOL", f"{FOLDER}/Adm/pcoip.adm", ADM.data)
    assert write.depends_on == (plan.changes[0].id,)
    assert all(c.payload.descriptor == FILE_SD for c in plan.changes if c.action == "smb.acl")  # type: ignore[attr-defined]


def test_an_installed_template_is_kept_when_its_bytes_match_and_replaced_when_not() -> None:
    # Given the template already installed (the server spells the folder ADM)
    same = plan_gpo(
        existing(1), with_template(sysvol(1), "PCOIP.ADM", ADM.data), dataclasses.replace(wanted(), templates=(ADM,)),
        new_guid=GUID,
    )  # fmt: skip
    older = plan_gpo(
        existing(1), with_template(sysvol(1), "PCOIP.ADM", b"old"), dataclasses.replace(wanted(), templates=(ADM,)),
        new_guid=GUID,
    )  # fmt: skip

    # Then the same bytes plan nothing, and other bytes replace the file under the server's spelling
    assert same.empty and any("ADM/PCOIP.ADM" in line for line in same.in_place)
    assert [(c.action, c.target.rsplit("\\", 1)[-1]) for c in older.changes] == [
        ("smb.write", "PCOIP.ADM"), ("smb.acl", "PCOIP.ADM"),
    ]  # fmt: skip
    assert older.changes[0].summary.startswith("Replace the template ADM/PCOIP.ADM")


@pytest.mark.parametrize("name", ["pcoip.txt", "../pcoip.adm", "a\\b.adm", "", "x\x01.adm"])
def test_a_template_name_that_cannot_go_into_adm_is_refused(name: str) -> None:
    with pytest.raises(InputError, match="cannot go into a GPO"):
        validate_adm_name(name)


# -- gPCMachineExtensionNames --------------------------------------------------------------------


def test_extension_names_merge_sorted_and_upper_case() -> None:
    value = "[{b1be8d72-6eac-11d2-a4ea-00c04f79f83a}{53D6AB1B-2488-11D1-A28C-00C04FB94F17}]"
    merged = merge_extension_names(value, req.REGISTRY_CSE_GUID, req.REGISTRY_TOOL_GUID)
    assert merged == (
        f"[{req.REGISTRY_CSE_GUID}{req.REGISTRY_TOOL_GUID}]"
        "[{B1BE8D72-6EAC-11D2-A4EA-00C04F79F83A}{53D6AB1B-2488-11D1-A28C-00C04FB94F17}]"
    )
    assert merge_extension_names(merged, req.REGISTRY_CSE_GUID, req.REGISTRY_TOOL_GUID) == merged
    assert parse_extension_names(" ") == {}


# -- links ---------------------------------------------------------------------------------------


OTHER = f"[LDAP://cn={{31B2F340-016D-11D2-945F-00C04FB984F9}},cn=policies,cn=system,{BASE};2]"


def test_link_adds_first_and_replaces_the_value_read_atomically() -> None:
    plan = plan_link(LinkContainer("OU=WS," + BASE, OTHER), DN, label="GPO", link=True)
    payload = plan.changes[0].payload
    assert isinstance(payload, ModifyEntry)
    assert payload.changes["gPLink"] == [("delete", [OTHER]), ("add", [f"[LDAP://{DN};0]{OTHER}"])]


def test_link_twice_and_unlink_of_an_absent_link_plan_nothing() -> None:
    container = LinkContainer("OU=WS," + BASE, f"[LDAP://{DN.lower()};1]{OTHER}")
    assert plan_link(container, DN, label="GPO", link=True).empty
    assert plan_link(LinkContainer("OU=WS," + BASE, OTHER), DN, label="GPO", link=False).empty


def test_unlink_keeps_the_others_and_removes_the_attribute_when_last() -> None:
    both = LinkContainer("OU=WS," + BASE, f"[LDAP://{DN};0]{OTHER}")
    only = LinkContainer("OU=WS," + BASE, f"[LDAP://{DN};0]")
    p1 = plan_link(both, DN, label="GPO", link=False).changes[0].payload
    p2 = plan_link(only, DN, label="GPO", link=False).changes[0].payload
    assert isinstance(p1, ModifyEntry) and isinstance(p2, ModifyEntry)
    assert p1.changes["gPLink"] == [("delete", [f"[LDAP://{DN};0]{OTHER}"]), ("add", [OTHER])]
    assert p2.changes["gPLink"] == [("delete", [f"[LDAP://{DN};0]"])]


def test_an_unreadable_gplink_is_refused() -> None:
    with pytest.raises(InputError, match="cannot be read"):
        plan_link(LinkContainer("OU=WS," + BASE, "garbage"), DN, label="GPO", link=True)


# -- SYSVOL ACL from the GPO's descriptor (Samba's dsacl2fsacl) ----------------------------------


def test_file_acl_keeps_allows_makes_them_inheritable_and_maps_rights() -> None:
    sd = parse_security_descriptor(FILE_SD)
    assert (sd.owner, sd.group) == (DOMAIN_ADMINS, DOMAIN_ADMINS)
    assert sd.control & SE_DACL_PROTECTED
    assert sd.dacl_sddl() == (
        f"D:(A;OICI;0x1f01ff;;;{DOMAIN_ADMINS})(A;OICIIO;0x1f01ff;;;S-1-3-0)(A;OICI;0x1200a9;;;S-1-5-11)"
        "(OA;OICI;;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;S-1-5-11)"
    )
    assert security_information(FILE_SD) == 0x80000007


def test_ds_rights_map_to_file_rights_as_samba_maps_them() -> None:
    assert ds_mask_to_file_mask(0xF01FF) == 0x1F01FF  # full control
    assert ds_mask_to_file_mask(0x20094) == 0x1200A9  # read
    assert ds_mask_to_file_mask(0x100) == 0  # control access has no file meaning


def test_same_acl_ignores_layout_but_not_content() -> None:
    # The same descriptor laid out owner-first compares equal.
    sd = parse_security_descriptor(FILE_SD)
    dacl = b"".join(r.data for r in sd.raw_dacl or ())
    acl = struct.pack("<BBHHH", sd.dacl_revision, 0, 8 + len(dacl), len(sd.raw_dacl or ()), 0) + dacl
    owner = FILE_SD[struct.unpack_from("<L", FILE_SD, 4)[0] :][:28]
    relaid = struct.pack("<BBHLLLL", 1, 0, sd.control, 20, 48, 0, 76) + owner + owner + acl
    assert same_acl(relaid, FILE_SD)
    assert not same_acl(GPO_SD, FILE_SD)
