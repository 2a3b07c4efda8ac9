"""Plans for GPOs: create or complete one, write its Registry.pol settings, link and unlink it.

Pure: observed facts (:mod:`adprep.collect.gpo`) and what is wanted in, a
:class:`adprep.prep.plan.Plan` out. The order of the changes is what makes a run that is cut off
half-way finish on the next run:

1. the groupPolicyContainer is created first, with its displayName, so the next run finds the
   half-made GPO by name and completes it instead of making a second one;
2. its ``CN=Machine`` and ``CN=User`` containers, the SYSVOL folder and its sub-folders;
3. GPT.INI with the new version, *then* Registry.pol: if the run stops between the two, the next
   run still sees Registry.pol differ and bumps again (a skipped version number is harmless; a
   changed file under an unchanged version would never reach clients);
   then the ADM templates asked for, copied into the folder's ``Adm`` sub-folder as the editor's
   "Add/Remove Templates" does, so the Group Policy editor shows the values under the template's
   policies instead of as "Extra Registry Settings"; clients never read ``Adm``, so it bumps no version;
4. the SYSVOL ACLs, derived from the GPO's security descriptor (:mod:`adprep.ad.sysvol_acl`);
5. ``versionNumber`` and ``gPCMachineExtensionNames`` last, in one LDAP modify: clients compare the
   LDAP version first (MS-GPOL 3.2.5.1.4), so they see the change only once the files are in place.
   When GPT.INI and ``versionNumber`` disagree (a run stopped after step 3), both are brought to
   the higher value.

The machine half of the version is bumped only when Registry.pol's bytes change (MS-GPOL 2.2.4),
so a second identical run plans nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from adprep import requirements as req
from adprep.ad.gplink import add_link, parse_gplink, remove_link
from adprep.ad.sysvol_acl import file_security_descriptor, same_acl
from adprep.collect.gpo import (
    ADM_FOLDER,
    SYSVOL_SHARE,
    GpoObject,
    LinkContainer,
    SysvolState,
    file_sys_path,
    gpo_dn,
    sysvol_folder,
)
from adprep.errors import InputError, WireFormatError
from adprep.gpo.gpt_ini import GptIni, bump_machine, join_version, ldap_version, parse_gpt_ini, render_gpt_ini
from adprep.gpo.gpt_ini import split_version as split
from adprep.gpo.registry_pol import PolEntry, encode_registry_pol, parse_registry_pol, set_values
from adprep.prep.ldap_writes import ACTION_ADD, ACTION_MODIFY, AddEntry, ModifyEntry
from adprep.prep.plan import Change, Plan

#: MS-GPOL 2.2.1: gPCFunctionalityVersion of GPOs written by current tools.
FUNCTIONALITY_VERSION = 2
DISPLAY_NAME_MAX = 255  # MS-ADA1 displayName: rangeUpper 256; GPMC stops at 255 characters
_GUID = re.compile(r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}", re.IGNORECASE)


# -- payloads the appliers read (jobs/gpo.py) --------------------------------------------------


@dataclass(frozen=True)
class SmbPath:
    share: str
    path: str


@dataclass(frozen=True)
class SmbWrite:
    share: str
    path: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class SmbAcl:
    share: str
    path: str
    descriptor: bytes | None = field(repr=False)
    """The file descriptor to set; None when the GPO is created by this plan (derive at apply time)."""
    gpo_dn: str = ""


# -- gPCMachineExtensionNames (MS-GPOL 2.2.2) --------------------------------------------------


def parse_extension_names(value: str | None) -> dict[str, set[str]]:
    """``[{CSE}{tool}...][...]`` → CSE GUID → tool GUIDs (upper case)."""
    result: dict[str, set[str]] = {}
    if not value or not value.strip():
        return result
    for group in re.findall(r"\[([^\]]*)\]", value):
        guids = [g.upper() for g in _GUID.findall(group)]
        if guids:
            result.setdefault(guids[0], set()).update(guids[1:])
    return result


def render_extension_names(names: Mapping[str, Iterable[str]]) -> str:
    """MS-GPOL 2.2.2: pairs sorted by CSE GUID, tool GUIDs sorted within each pair."""
    return "".join(f"[{cse}{''.join(sorted(tools))}]" for cse, tools in sorted(names.items()))


def merge_extension_names(value: str | None, cse: str, tool: str) -> str:
    names = parse_extension_names(value)
    names.setdefault(cse.upper(), set()).add(tool.upper())
    return render_extension_names(names)


# -- create / fill ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdmFile:
    """An ADM template to install in the GPO (``Adm/<name>``), byte for byte as the editor copies it."""

    name: str
    data: bytes = field(repr=False)


def validate_adm_name(name: str) -> str:
    """A template's file name as it will be in ``Adm``: a plain ``*.adm`` name."""
    text = name.strip()
    bad = any(c in '/\\:*?"<>|' or ord(c) < 32 for c in text)
    if bad or not text.casefold().endswith(".adm") or len(text) > 255:
        raise InputError(
            f"The template file name {name!r} cannot go into a GPO",
            hint="Give the pcoip.adm file itself (a plain name ending in .adm).",
        )
    return text


@dataclass(frozen=True)
class GpoWanted:
    """What the GPO should look like after the run."""

    name: str
    domain: str
    base_dn: str
    machine_settings: tuple[PolEntry, ...] = ()
    """Registry.pol entries to set on the computer side (others in the file are kept)."""
    may_create: bool = True
    """False: the GPO must already exist (``gpo pcoip set``)."""
    templates: tuple[AdmFile, ...] = ()
    """ADM templates to install in the GPO's ``Adm`` folder (others there are kept)."""


def validate_gpo_name(name: str) -> str:
    text = name.strip()
    if not text:
        raise InputError("The GPO name is empty.", hint="Give the GPO's display name.")
    if len(text) > DISPLAY_NAME_MAX or any(ord(c) < 32 for c in text):
        raise InputError(
            f"The GPO name {name!r} is too long or holds control characters",
            hint=f"Use at most {DISPLAY_NAME_MAX} printable characters.",
        )
    return text


def _unc(domain: str, path: str) -> str:
    """``\\\\<domain>\\SYSVOL\\<path>`` with backslashes, for plans people read."""
    return f"\\\\{domain}\\{SYSVOL_SHARE}\\" + path.replace("/", "\\")


def _max_version(a: int, b: int) -> int:
    ua, ma = split(a)
    ub, mb = split(b)
    return join_version(max(ua, ub), max(ma, mb))


def _version_text(version: int) -> str:
    user, machine = split(version)
    return f"{version} (user {user}, computer {machine})"


def plan_gpo(gpo: GpoObject | None, sysvol: SysvolState | None, wanted: GpoWanted, *, new_guid: str) -> Plan:
    """The changes that make the GPO named ``wanted.name`` complete and holding ``machine_settings``.

    ``gpo``/``sysvol`` are what was observed (None: absent); ``new_guid`` names the GPO if it must
    be created. Raises :class:`InputError` when the GPO is missing and may not be created, and
    :class:`WireFormatError` when its GPT.INI or Registry.pol cannot be read.
    """
    changes: list[Change] = []
    in_place: list[str] = []
    if gpo is None and not wanted.may_create:
        raise InputError(
            f"There is no GPO named {wanted.name!r}",
            hint=f"Create it first: adprep gpo create {wanted.name!r}.",
        )
    guid = new_guid.upper() if gpo is None else gpo.guid
    dn = gpo_dn(guid, wanted.base_dn) if gpo is None else gpo.dn
    label = f"GPO {wanted.name!r} {guid}"
    fs_path = file_sys_path(wanted.domain, guid)
    base: tuple[str, ...] = ()

    # 1. the groupPolicyContainer (MS-GPOL 2.2.1 / 2.3)
    if gpo is None:
        create_id = f"gpo.create:{dn}"
        changes.append(
            Change(
                id=create_id, action=ACTION_ADD, target=dn, summary=f"Create {label} in LDAP",
                details={"displayName": wanted.name, "gPCFileSysPath": fs_path},
                payload=AddEntry(dn, ("groupPolicyContainer",), {
                    "displayName": wanted.name, "gPCFileSysPath": fs_path, "flags": 0, "versionNumber": 0,
                    "gPCFunctionalityVersion": FUNCTIONALITY_VERSION,
                }),
            )
        )  # fmt: skip
        base = (create_id,)
    else:
        fix: dict[str, list[tuple[str, list[str | int]]]] = {}
        if gpo.file_sys_path is None or gpo.file_sys_path.casefold() != fs_path.casefold():
            fix["gPCFileSysPath"] = [("replace", [fs_path])]
        if gpo.flags is None:
            fix["flags"] = [("replace", [0])]
        if gpo.functionality_version is None:
            fix["gPCFunctionalityVersion"] = [("replace", [FUNCTIONALITY_VERSION])]
        if fix:
            changes.append(
                Change(
                    id=f"gpo.complete:{dn}", action=ACTION_MODIFY, target=dn,
                    summary=f"Complete {label}: set {', '.join(sorted(fix))}",
                    details={k: str(v[0][1][0]) for k, v in fix.items()}, payload=ModifyEntry(dn, fix),
                )
            )  # fmt: skip
        else:
            in_place.append(f"{label} exists in LDAP")

    # 2. CN=Machine and CN=User, as Windows and samba-tool create them
    for child in ("Machine", "User"):
        if gpo is not None and child.casefold() in gpo.children:
            continue
        child_dn = f"CN={child},{dn}"
        changes.append(
            Change(
                id=f"gpo.container:{child_dn}", action=ACTION_ADD, target=child_dn,
                summary=f"Create the {child} container of {label}", depends_on=base,
                payload=AddEntry(child_dn, ("container",), {}),
            )
        )  # fmt: skip

    state = sysvol if sysvol is not None and sysvol.exists else None
    folder = sysvol_folder(wanted.domain, guid)
    if state is not None and state.folder.casefold() != folder.casefold():
        folder = state.folder

    def actual(rel: str) -> str:
        return (state.actual(rel) if state is not None else None) or rel

    def at(rel: str) -> str:
        return f"{folder}/{actual(rel)}" if rel else folder

    written: dict[str, str] = {}  # rel path -> id of the change that creates/writes it

    # 3a. folders
    for rel in ("", "Machine", "User"):
        if state is not None and (rel == "" or state.actual(rel) is not None):
            continue
        change_id = f"sysvol.mkdir:{at(rel)}"
        parent = written.get("")
        changes.append(
            Change(
                id=change_id, action="smb.mkdir", target=_unc(wanted.domain, at(rel)),
                summary=f"Create the SYSVOL folder {at(rel)}",
                depends_on=base + ((parent,) if parent else ()), payload=SmbPath(SYSVOL_SHARE, at(rel)),
            )
        )  # fmt: skip
        written[rel] = change_id

    # 3b. versions and files
    gpt_raw = state.gpt_ini if state is not None else None
    gpt = parse_gpt_ini(gpt_raw) if gpt_raw is not None else GptIni()
    ldap_v = (gpo.version or 0) if gpo is not None else 0
    current = _max_version(ldap_v, gpt.version)
    pol_raw = state.registry_pol if state is not None else None
    new_pol: bytes | None = None
    if wanted.machine_settings:
        existing = parse_registry_pol(pol_raw) if pol_raw is not None else ()
        candidate = encode_registry_pol(set_values(existing, wanted.machine_settings))
        if candidate != pol_raw:
            new_pol = candidate
    target = bump_machine(current) if new_pol is not None else current
    if gpt_raw is None or gpt.version != target:
        rel = actual("GPT.INI")
        change_id = f"sysvol.write:{at(rel)}"
        why = "create" if gpt_raw is None else f"was {gpt.version}"
        changes.append(
            Change(
                id=change_id, action="smb.write", target=_unc(wanted.domain, at(rel)),
                summary=f"Write GPT.INI of {label}: Version={target} ({why})",
                details={"version": _version_text(target)},
                depends_on=base + ((written[""],) if "" in written else ()),
                payload=SmbWrite(SYSVOL_SHARE, at(rel), render_gpt_ini(gpt.with_version(target))),
            )
        )  # fmt: skip
        written[rel] = change_id
    else:
        in_place.append(f"GPT.INI of {label} is at version {target}")
    if new_pol is not None:
        machine = actual("Machine")
        rel = f"{machine}/Registry.pol"
        change_id = f"sysvol.write:{folder}/{rel}"
        changes.append(
            Change(
                id=change_id, action="smb.write", target=_unc(wanted.domain, f"{folder}/{rel}"),
                summary=f"Write Machine/Registry.pol of {label} ({len(wanted.machine_settings)} setting(s))",
                details={"bytes": len(new_pol), "settings": [f"{e.key}\\{e.value}" for e in wanted.machine_settings]},
                depends_on=tuple(x for x in (written.get(actual("GPT.INI")), written.get(machine)) if x) or base,
                payload=SmbWrite(SYSVOL_SHARE, f"{folder}/{rel}", new_pol),
            )
        )  # fmt: skip
        written[rel] = change_id
    elif wanted.machine_settings:
        in_place.append(f"Machine/Registry.pol of {label} already holds the settings")

    # 3c. ADM templates, as "Add/Remove Templates" copies them (see the module docstring)
    for template in wanted.templates:
        adm = actual(ADM_FOLDER)
        if (state is None or state.actual(ADM_FOLDER) is None) and adm not in written:
            change_id = f"sysvol.mkdir:{at(adm)}"
            changes.append(
                Change(
                    id=change_id, action="smb.mkdir", target=_unc(wanted.domain, at(adm)),
                    summary=f"Create the SYSVOL folder {at(adm)}",
                    depends_on=base + ((written[""],) if "" in written else ()), payload=SmbPath(SYSVOL_SHARE, at(adm)),
                )
            )  # fmt: skip
            written[adm] = change_id
        rel = actual(f"{adm}/{template.name}")
        have = state.adm_files.get(rel) if state is not None else None
        if have == template.data:
            in_place.append(f"The template {rel} of {label} is installed, byte for byte")
            continue
        change_id = f"sysvol.write:{folder}/{rel}"
        changes.append(
            Change(
                id=change_id, action="smb.write", target=_unc(wanted.domain, f"{folder}/{rel}"),
                summary=f"{'Replace' if have is not None else 'Install'} the template {rel} of {label} "
                "(Add/Remove Templates)",
                details={"bytes": len(template.data), "template": template.name},
                depends_on=tuple(x for x in (written.get(adm),) if x) or base,
                payload=SmbWrite(SYSVOL_SHARE, f"{folder}/{rel}", template.data),
            )
        )  # fmt: skip
        written[rel] = change_id

    # 4. ACLs: every path of the folder, derived from the GPO's security descriptor
    descriptor = None
    if gpo is not None and gpo.security_descriptor is not None:
        descriptor = file_security_descriptor(gpo.security_descriptor)
    paths = {""} | set(state.entries if state is not None else ()) | set(written)
    acl_changes = 0
    for rel in sorted(paths, key=lambda p: (p.count("/"), p.casefold())):
        have = state.acls.get(rel) if state is not None else None
        if descriptor is not None and have is not None and rel not in written and same_acl(have, descriptor):
            continue
        path = f"{folder}/{rel}" if rel else folder
        deps = tuple(x for x in (written.get(rel),) if x) or base
        changes.append(
            Change(
                id=f"sysvol.acl:{path}", action="smb.acl", target=_unc(wanted.domain, path),
                summary=f"Set the ACL of {path} from the GPO's security descriptor", depends_on=deps,
                payload=SmbAcl(SYSVOL_SHARE, path, descriptor, dn),
            )
        )  # fmt: skip
        acl_changes += 1
    if not acl_changes:
        in_place.append(f"SYSVOL ACLs of {label} match its security descriptor")

    # 5. versionNumber and the client-side extension list, last
    final: dict[str, list[tuple[str, list[str | int]]]] = {}
    if (gpo.version if gpo is not None else 0) != target:
        final["versionNumber"] = [("replace", [ldap_version(target)])]
    if wanted.machine_settings:
        have_ext = gpo.machine_extensions if gpo is not None else None
        merged = merge_extension_names(have_ext, req.REGISTRY_CSE_GUID, req.REGISTRY_TOOL_GUID)
        if have_ext != merged:
            final["gPCMachineExtensionNames"] = [("replace", [merged])]
    if final:
        deps = tuple(c.id for c in changes if c.action.startswith("smb.")) or base
        changes.append(
            Change(
                id=f"gpo.version:{dn}", action=ACTION_MODIFY, target=dn,
                summary=f"Set {' and '.join(sorted(final))} of {label}"
                + (f" (version {target})" if "versionNumber" in final else ""),
                details={k: str(v[0][1][0]) for k, v in final.items()}, depends_on=deps,
                payload=ModifyEntry(dn, final),
            )
        )  # fmt: skip
    elif gpo is not None:
        in_place.append(f"versionNumber of {label} is {target}")
    return Plan("gpo", tuple(changes), tuple(in_place))


# -- links ------------------------------------------------------------------------------------


def plan_link(
    container: LinkContainer,
    gpo_dn_: str,
    *,
    label: str,
    link: bool,
    depends_on: Sequence[str] = (),
    enforced: bool = False,
) -> Plan:
    """Add (``link``) or remove the link to ``gpo_dn_`` in ``container``'s gPLink, keeping every other link.

    The modify deletes the value read and adds the new one, so if someone else changed gPLink in
    between, the server refuses it (noSuchAttribute) instead of silently dropping their link.
    """
    try:
        parse_gplink(container.gplink)
    except WireFormatError as e:
        raise InputError(
            f"The gPLink of {container.dn} cannot be read ({e.message})",
            hint="Fix it in the Group Policy Management Console; adprep will not rewrite it.",
        ) from None
    old = container.gplink
    new = add_link(old, gpo_dn_, enforced) if link else remove_link(old, gpo_dn_)
    verb = "Link" if link else "Unlink"
    if (new or None) == (old if old and old.strip() else None):
        state = "linked to" if link else "not linked to"
        return Plan("gpo", (), (f"{label} is already {state} {container.dn}",))
    ops: list[tuple[str, list[str | int]]] = []
    if old:
        ops.append(("delete", [old]))
    if new:
        ops.append(("add", [new]))
    return Plan(
        "gpo",
        (
            Change(
                id=f"gpo.{verb.lower()}:{container.dn}", action=ACTION_MODIFY, target=container.dn,
                summary=f"{verb} {label} {'to' if link else 'from'} {container.dn}",
                details={"gPLink.before": old or "", "gPLink.after": new}, depends_on=tuple(depends_on),
                payload=ModifyEntry(container.dn, {"gPLink": ops}),
            ),
        ),
    )  # fmt: skip
