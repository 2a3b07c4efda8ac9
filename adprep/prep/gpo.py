"""Plans for GPOs: create or complete one, write its Registry.pol settings, link and unlink it.

Pure: observed facts (:mod:`adprep.facts.gpo`) and what is wanted in, a
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
from adprep.errors import InputError, WireFormatError
from adprep.facts.gpo import GpoObject, LinkContainer, SysvolState
from adprep.gpo.gpt_ini import GptIni, bump_machine, join_version, ldap_version, parse_gpt_ini, render_gpt_ini
from adprep.gpo.gpt_ini import split_version as split
from adprep.gpo.paths import ADM_FOLDER, SYSVOL_SHARE, file_sys_path, gpo_dn, sysvol_folder
from adprep.gpo.registry_pol import PolEntry, encode_registry_pol, parse_registry_pol, set_values
from adprep.prep.ldap_writes import ACTION_ADD, ACTION_MODIFY, AddEntry, ModifyEntry
from adprep.prep.plan import Change, Plan

#: MS-GPOL 2.2.1: gPCFunctionalityVersion of GPOs written by current tools.
FUNCTIONALITY_VERSION = 2
DISPLAY_NAME_MAX = 255  # MS-ADA1 displayName: rangeUpper 256; GPMC stops at 255 characters
_GUID = re.compile(r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}", re.IGNORECASE)


# -- payloads the appliers read (prep/gpo_apply.py) -------------------------------------------


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
    """``gPCMachineExtensionNames`` with the pair (``cse``, ``tool``) added, in MS-GPOL 2.2.2's order."""
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
    """The GPO's display name, stripped; :class:`InputError` when empty, too long or not printable."""
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
    :class:`WireFormatError` when its GPT.INI or Registry.pol cannot be read. The steps, in the
    order the module docstring gives, each add to one draft.
    """
    if gpo is None and not wanted.may_create:
        raise InputError(
            f"There is no GPO named {wanted.name!r}",
            hint=f"Create it first: adprep gpo create {wanted.name!r}.",
        )
    guid = new_guid.upper() if gpo is None else gpo.guid
    dn = gpo_dn(guid, wanted.base_dn) if gpo is None else gpo.dn
    draft = _GpoDraft(gpo, wanted, guid, dn)
    _plan_container(draft)
    _plan_child_containers(draft)
    draft.locate_folder(sysvol)
    _plan_folders(draft)
    target = _plan_gpt_and_registry_pol(draft)
    _plan_templates(draft)
    _plan_acls(draft)
    _plan_version(draft, target)
    return Plan("gpo", tuple(draft.changes), tuple(draft.in_place))


@dataclass
class _GpoDraft:
    """A GPO plan being built: what was observed, what is wanted, and the changes so far."""

    gpo: GpoObject | None
    wanted: GpoWanted
    guid: str
    dn: str
    changes: list[Change] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)
    base: tuple[str, ...] = ()
    """The change every other depends on: the groupPolicyContainer's creation, when planned."""
    state: SysvolState | None = None
    """The SYSVOL folder as observed, when it exists."""
    folder: str = ""
    written: dict[str, str] = field(default_factory=dict)
    """Relative path -> id of the change that creates or writes it."""

    @property
    def label(self) -> str:
        return f"GPO {self.wanted.name!r} {self.guid}"

    def locate_folder(self, sysvol: SysvolState | None) -> None:
        """The GPO's SYSVOL folder: the one found (whatever its case), else the one to create."""
        self.state = sysvol if sysvol is not None and sysvol.exists else None
        self.folder = sysvol_folder(self.wanted.domain, self.guid)
        if self.state is not None and self.state.folder.casefold() != self.folder.casefold():
            self.folder = self.state.folder

    def actual(self, rel: str) -> str:
        """``rel`` as the folder spells it (SYSVOL is case-insensitive), else as given."""
        return (self.state.actual(rel) if self.state is not None else None) or rel

    def at(self, rel: str) -> str:
        return f"{self.folder}/{self.actual(rel)}" if rel else self.folder

    def unc(self, path: str) -> str:
        return _unc(self.wanted.domain, path)


def _plan_container(d: _GpoDraft) -> None:
    """1. The groupPolicyContainer (MS-GPOL 2.2.1 / 2.3): created, or its missing attributes set."""
    gpo, wanted, dn, label = d.gpo, d.wanted, d.dn, d.label
    fs_path = file_sys_path(wanted.domain, d.guid)
    if gpo is None:
        create_id = f"gpo.create:{dn}"
        d.changes.append(
            Change(
                id=create_id, action=ACTION_ADD, target=dn, summary=f"Create {label} in LDAP",
                details={"displayName": wanted.name, "gPCFileSysPath": fs_path},
                payload=AddEntry(dn, ("groupPolicyContainer",), {
                    "displayName": wanted.name, "gPCFileSysPath": fs_path, "flags": 0, "versionNumber": 0,
                    "gPCFunctionalityVersion": FUNCTIONALITY_VERSION,
                }),
            )
        )  # fmt: skip
        d.base = (create_id,)
        return
    fix: dict[str, list[tuple[str, list[str | int]]]] = {}
    if gpo.file_sys_path is None or gpo.file_sys_path.casefold() != fs_path.casefold():
        fix["gPCFileSysPath"] = [("replace", [fs_path])]
    if gpo.flags is None:
        fix["flags"] = [("replace", [0])]
    if gpo.functionality_version is None:
        fix["gPCFunctionalityVersion"] = [("replace", [FUNCTIONALITY_VERSION])]
    if fix:
        d.changes.append(
            Change(
                id=f"gpo.complete:{dn}", action=ACTION_MODIFY, target=dn,
                summary=f"Complete {label}: set {', '.join(sorted(fix))}",
                details={k: str(v[0][1][0]) for k, v in fix.items()}, payload=ModifyEntry(dn, fix),
            )
        )  # fmt: skip
    else:
        d.in_place.append(f"{label} exists in LDAP")


def _plan_child_containers(d: _GpoDraft) -> None:
    """2. ``CN=Machine`` and ``CN=User``, as Windows and samba-tool create them."""
    for child in ("Machine", "User"):
        if d.gpo is not None and child.casefold() in d.gpo.children:
            continue
        child_dn = f"CN={child},{d.dn}"
        d.changes.append(
            Change(
                id=f"gpo.container:{child_dn}", action=ACTION_ADD, target=child_dn,
                summary=f"Create the {child} container of {d.label}", depends_on=d.base,
                payload=AddEntry(child_dn, ("container",), {}),
            )
        )  # fmt: skip


def _plan_folders(d: _GpoDraft) -> None:
    """3a. The SYSVOL folder and its ``Machine`` and ``User`` sub-folders."""
    for rel in ("", "Machine", "User"):
        if d.state is not None and (rel == "" or d.state.actual(rel) is not None):
            continue
        change_id = f"sysvol.mkdir:{d.at(rel)}"
        parent = d.written.get("")
        d.changes.append(
            Change(
                id=change_id, action="smb.mkdir", target=d.unc(d.at(rel)),
                summary=f"Create the SYSVOL folder {d.at(rel)}",
                depends_on=d.base + ((parent,) if parent else ()), payload=SmbPath(SYSVOL_SHARE, d.at(rel)),
            )
        )  # fmt: skip
        d.written[rel] = change_id


def _plan_gpt_and_registry_pol(d: _GpoDraft) -> int:
    """3b. GPT.INI with the new version, then Registry.pol; returns the version the GPO ends at."""
    gpo, wanted, state, label, folder = d.gpo, d.wanted, d.state, d.label, d.folder
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
        rel = d.actual("GPT.INI")
        change_id = f"sysvol.write:{d.at(rel)}"
        why = "create" if gpt_raw is None else f"was {gpt.version}"
        d.changes.append(
            Change(
                id=change_id, action="smb.write", target=d.unc(d.at(rel)),
                summary=f"Write GPT.INI of {label}: Version={target} ({why})",
                details={"version": _version_text(target)},
                depends_on=d.base + ((d.written[""],) if "" in d.written else ()),
                payload=SmbWrite(SYSVOL_SHARE, d.at(rel), render_gpt_ini(gpt.with_version(target))),
            )
        )  # fmt: skip
        d.written[rel] = change_id
    else:
        d.in_place.append(f"GPT.INI of {label} is at version {target}")
    if new_pol is not None:
        machine = d.actual("Machine")
        rel = f"{machine}/Registry.pol"
        change_id = f"sysvol.write:{folder}/{rel}"
        d.changes.append(
            Change(
                id=change_id, action="smb.write", target=d.unc(f"{folder}/{rel}"),
                summary=f"Write Machine/Registry.pol of {label} ({len(wanted.machine_settings)} setting(s))",
                details={"bytes": len(new_pol), "settings": [f"{e.key}\\{e.value}" for e in wanted.machine_settings]},
                depends_on=tuple(x for x in (d.written.get(d.actual("GPT.INI")), d.written.get(machine)) if x) or d.base,
                payload=SmbWrite(SYSVOL_SHARE, f"{folder}/{rel}", new_pol),
            )
        )  # fmt: skip
        d.written[rel] = change_id
    elif wanted.machine_settings:
        d.in_place.append(f"Machine/Registry.pol of {label} already holds the settings")
    return target


def _plan_templates(d: _GpoDraft) -> None:
    """3c. ADM templates, as "Add/Remove Templates" copies them (see the module docstring)."""
    state, label, folder = d.state, d.label, d.folder
    for template in d.wanted.templates:
        adm = d.actual(ADM_FOLDER)
        if (state is None or state.actual(ADM_FOLDER) is None) and adm not in d.written:
            change_id = f"sysvol.mkdir:{d.at(adm)}"
            d.changes.append(
                Change(
                    id=change_id, action="smb.mkdir", target=d.unc(d.at(adm)),
                    summary=f"Create the SYSVOL folder {d.at(adm)}",
                    depends_on=d.base + ((d.written[""],) if "" in d.written else ()),
                    payload=SmbPath(SYSVOL_SHARE, d.at(adm)),
                )
            )  # fmt: skip
            d.written[adm] = change_id
        rel = d.actual(f"{adm}/{template.name}")
        have = state.adm_files.get(rel) if state is not None else None
        if have == template.data:
            d.in_place.append(f"The template {rel} of {label} is installed, byte for byte")
            continue
        change_id = f"sysvol.write:{folder}/{rel}"
        d.changes.append(
            Change(
                id=change_id, action="smb.write", target=d.unc(f"{folder}/{rel}"),
                summary=f"{'Replace' if have is not None else 'Install'} the template {rel} of {label} "
                "(Add/Remove Templates)",
                details={"bytes": len(template.data), "template": template.name},
                depends_on=tuple(x for x in (d.written.get(adm),) if x) or d.base,
                payload=SmbWrite(SYSVOL_SHARE, f"{folder}/{rel}", template.data),
            )
        )  # fmt: skip
        d.written[rel] = change_id


def _plan_acls(d: _GpoDraft) -> None:
    """4. ACLs: every path of the folder, derived from the GPO's security descriptor."""
    state, folder = d.state, d.folder
    descriptor = None
    if d.gpo is not None and d.gpo.security_descriptor is not None:
        descriptor = file_security_descriptor(d.gpo.security_descriptor)
    paths = {""} | set(state.entries if state is not None else ()) | set(d.written)
    acl_changes = 0
    for rel in sorted(paths, key=lambda p: (p.count("/"), p.casefold())):
        have = state.acls.get(rel) if state is not None else None
        if (
            descriptor is not None
            and have is not None
            and rel not in d.written
            and same_acl(have, descriptor)
        ):
            continue
        path = f"{folder}/{rel}" if rel else folder
        deps = tuple(x for x in (d.written.get(rel),) if x) or d.base
        d.changes.append(
            Change(
                id=f"sysvol.acl:{path}", action="smb.acl", target=d.unc(path),
                summary=f"Set the ACL of {path} from the GPO's security descriptor", depends_on=deps,
                payload=SmbAcl(SYSVOL_SHARE, path, descriptor, d.dn),
            )
        )  # fmt: skip
        acl_changes += 1
    if not acl_changes:
        d.in_place.append(f"SYSVOL ACLs of {d.label} match its security descriptor")


def _plan_version(d: _GpoDraft, target: int) -> None:
    """5. ``versionNumber`` and the client-side extension list, last, in one modify."""
    gpo, dn, label = d.gpo, d.dn, d.label
    final: dict[str, list[tuple[str, list[str | int]]]] = {}
    if (gpo.version if gpo is not None else 0) != target:
        final["versionNumber"] = [("replace", [ldap_version(target)])]
    if d.wanted.machine_settings:
        have_ext = gpo.machine_extensions if gpo is not None else None
        merged = merge_extension_names(have_ext, req.REGISTRY_CSE_GUID, req.REGISTRY_TOOL_GUID)
        if have_ext != merged:
            final["gPCMachineExtensionNames"] = [("replace", [merged])]
    if final:
        deps = tuple(c.id for c in d.changes if c.action.startswith("smb.")) or d.base
        d.changes.append(
            Change(
                id=f"gpo.version:{dn}", action=ACTION_MODIFY, target=dn,
                summary=f"Set {' and '.join(sorted(final))} of {label}"
                + (f" (version {target})" if "versionNumber" in final else ""),
                details={k: str(v[0][1][0]) for k, v in final.items()}, depends_on=deps,
                payload=ModifyEntry(dn, final),
            )
        )  # fmt: skip
    elif gpo is not None:
        d.in_place.append(f"versionNumber of {label} is {target}")


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
