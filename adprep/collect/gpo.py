"""Facts about GPOs: their LDAP objects, their SYSVOL folders, and the links on the way to an OU.

Collectors read through :mod:`adprep.transport.ldap` and :mod:`adprep.transport.smb` and return
frozen dataclasses; they never write. Where a GPO lives follows MS-GPOL 2.2.1 (the
groupPolicyContainer ``CN={GUID},CN=Policies,CN=System,<domain>``) and 2.2.4 (the folder
``\\\\<domain>\\SysVol\\<domain>\\Policies\\{GUID}``).

Which containers can link GPOs to a computer (MS-GPOL's "scope of management"): its site
(``CN=<site>,CN=Sites,CN=Configuration,<forest>``), its domain, and each OU above it. A plain
container such as ``CN=Computers`` is not one: its ``gPLink`` would be ignored, so the chain skips it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from adprep.ad.dn import escape_filter_value, is_descendant, parse_dn, render_dn
from adprep.collect.account import computers_container
from adprep.errors import AdprepError, InputError, LdapError, WireFormatError, reason_of
from adprep.facts.gpo import GpoObject, LinkContainer, ScannedGpo, SysvolState
from adprep.gpo.paths import ADM_FOLDER, SECURITY_TEMPLATE, SYSVOL_SHARE, policies_dn, sysvol_folder
from adprep.gpo.registry_pol import parse_registry_pol
from adprep.model import ErrorReason
from adprep.transport.ldap import SD_OWNER_GROUP_DACL, LdapSession
from adprep.transport.smb import TEMP_SUFFIX, SmbSession

GPC_ATTRIBUTES = (
    "cn", "displayName", "gPCFileSysPath", "versionNumber", "flags", "gPCMachineExtensionNames",
    "gPCFunctionalityVersion",
)  # fmt: skip


def _int(value: object) -> int | None:
    if value is None or value == []:
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _gpo(
    entry_dn: str, attrs: Mapping[str, list[object]], sd: bytes | None, children: frozenset[str]
) -> GpoObject:
    def first(name: str) -> object:
        values = attrs.get(name) or []
        return values[0] if values else None

    version = _int(first("versionNumber"))
    cn = first("cn")
    guid = str(cn) if cn else parse_dn(entry_dn)[0].value
    return GpoObject(
        dn=entry_dn,
        guid=guid.upper(),
        display_name=str(first("displayName")) if first("displayName") is not None else None,
        file_sys_path=str(first("gPCFileSysPath")) if first("gPCFileSysPath") is not None else None,
        version=None if version is None else version & 0xFFFFFFFF,
        flags=_int(first("flags")),
        machine_extensions=str(first("gPCMachineExtensionNames"))
        if first("gPCMachineExtensionNames")
        else None,
        functionality_version=_int(first("gPCFunctionalityVersion")),
        security_descriptor=sd,
        children=children,
    )


def collect_gpo(session: LdapSession, dn: str) -> GpoObject | None:
    """The GPO at ``dn``, with its security descriptor and child containers; None if absent."""
    entry = session.get(dn, (*GPC_ATTRIBUTES, "nTSecurityDescriptor"), sd_flags=SD_OWNER_GROUP_DACL)
    if entry is None:
        return None
    raw_sd = entry.raw.get("nTSecurityDescriptor") or []
    children = frozenset(
        parse_dn(child.dn)[0].value.casefold()
        for child in session.search(dn, "(objectClass=container)", scope="one", attributes=("cn",))
    )
    return _gpo(entry.dn, entry.attributes, raw_sd[0] if raw_sd else None, children)


def collect_gpos_named(session: LdapSession, base_dn: str, name: str) -> list[GpoObject]:
    """Every GPO whose displayName is ``name`` (AD compares it without case)."""
    found = session.search(
        policies_dn(base_dn),
        f"(&(objectClass=groupPolicyContainer)(displayName={escape_filter_value(name)}))",
        scope="one",
        attributes=("cn",),
    )
    result = []
    for entry in found:
        gpo = collect_gpo(session, entry.dn)
        if gpo is not None:
            result.append(gpo)
    return result


def find_gpo(session: LdapSession, base_dn: str, name: str) -> GpoObject | None:
    """The one GPO named ``name``, or None; two GPOs with the same name is an :class:`InputError`."""
    found = collect_gpos_named(session, base_dn, name)
    if len(found) > 1:
        guids = ", ".join(g.guid for g in found)
        raise InputError(
            f"Several GPOs are named {name!r} ({guids})",
            hint="Rename or delete the extra ones in the Group Policy Management Console, then run again.",
        )
    return found[0] if found else None


# -- SYSVOL -----------------------------------------------------------------------------------


def _walk(smb: SmbSession, folder: str, prefix: str, out: dict[str, bool]) -> None:
    for entry in smb.list_dir(SYSVOL_SHARE, f"{folder}/{prefix}" if prefix else folder):
        if not entry.is_dir and entry.name.endswith(TEMP_SUFFIX):
            continue  # a copy a killed run left (SmbSession.replace_file): the next write replaces it
        rel = f"{prefix}/{entry.name}" if prefix else entry.name
        out[rel] = entry.is_dir
        if entry.is_dir:
            _walk(smb, folder, rel, out)


def collect_sysvol(smb: SmbSession, domain: str, guid: str, *, with_acls: bool = True) -> SysvolState:
    """The GPO's folder: its tree, GPT.INI, Machine/Registry.pol and (``with_acls``) every ACL."""
    folder = sysvol_folder(domain, guid)
    if not smb.exists(SYSVOL_SHARE, folder):
        return SysvolState(folder=folder, exists=False)
    entries: dict[str, bool] = {}
    _walk(smb, folder, "", entries)
    state = SysvolState(folder=folder, exists=True, entries=entries)
    gpt = state.actual("GPT.INI")
    pol = state.actual("Machine/Registry.pol")
    adm = state.actual(ADM_FOLDER)
    templates = [
        rel
        for rel, is_dir in entries.items()
        if adm and not is_dir and rel.rpartition("/")[0] == adm and rel.casefold().endswith(".adm")
    ]
    acls: dict[str, bytes] = {}
    if with_acls:
        for rel in ("", *entries):
            acls[rel] = smb.read_security(SYSVOL_SHARE, f"{folder}/{rel}" if rel else folder)
    return SysvolState(
        folder=folder,
        exists=True,
        entries=entries,
        gpt_ini=smb.read_file(SYSVOL_SHARE, f"{folder}/{gpt}") if gpt else None,
        registry_pol=smb.read_file(SYSVOL_SHARE, f"{folder}/{pol}") if pol else None,
        acls=acls,
        adm_files={rel: smb.read_file(SYSVOL_SHARE, f"{folder}/{rel}") or b"" for rel in sorted(templates)},
    )


# -- links ------------------------------------------------------------------------------------


def collect_gpo_links(session: LdapSession, base_dn: str, guid: str) -> tuple[str, ...]:
    """The DNs of the containers under ``base_dn`` whose gPLink names the GPO ``guid``."""
    return tuple(e.dn for e in session.search(base_dn, f"(gPLink=*{guid}*)", attributes=("gPLink",)))


def collect_link_container(session: LdapSession, dn: str) -> LinkContainer | None:
    """The container's ``gPLink`` and block inheritance (``gPOptions``); None when it does not exist."""
    entry = session.get(dn, ("gPLink", "gPOptions"))
    if entry is None:
        return None
    gplink = entry.first("gPLink")
    return LinkContainer(
        dn=entry.dn,
        gplink=str(gplink) if gplink is not None else None,
        block_inheritance=(_int(entry.first("gPOptions")) or 0) & 1 == 1,
    )


def collect_scope(session: LdapSession, base_dn: str, ou_dn: str) -> tuple[LinkContainer, ...]:
    """The domain and each OU down to ``ou_dn`` (top first), with their links.

    Plain containers on the way (``CN=Computers``) are checked to exist but left out: they cannot
    link GPOs (see the module docstring).
    """
    if not is_descendant(ou_dn, base_dn):
        raise InputError(f"{ou_dn} is not in the domain {base_dn}", hint="Give an OU of this domain.")
    rdns = parse_dn(ou_dn)
    depth = len(rdns) - len(parse_dn(base_dn))
    chain: list[LinkContainer] = []
    for i in range(depth, -1, -1):
        dn = render_dn(rdns[i:])
        if i == depth or rdns[i].attr.casefold() == "ou":
            container = collect_link_container(session, dn)
            if container is None:
                raise InputError(f"{dn} does not exist", hint="Check the OU's distinguished name.")
            chain.append(container)
        elif i == 0 and not session.exists(dn):
            raise InputError(f"{dn} does not exist", hint="Check the container's distinguished name.")
    return tuple(chain)


def collect_sites(session: LdapSession) -> tuple[LinkContainer, ...]:
    """Every AD site that links at least one GPO (``CN=Sites`` of the configuration partition)."""
    root = session.get("", ("configurationNamingContext",))
    config = root.first("configurationNamingContext") if root is not None else None
    if not config:
        raise LdapError(
            "The rootDSE does not name the configuration partition",
            hint="Check that the server is an Active Directory domain controller.",
        )
    found = session.search(
        f"CN=Sites,{config}",
        "(&(objectClass=site)(gPLink=*))",
        scope="one",
        attributes=("gPLink", "gPOptions"),
    )
    sites: list[LinkContainer] = []
    for entry in sorted(found, key=lambda e: e.dn.casefold()):
        gplink = entry.first("gPLink")
        if gplink is not None and str(gplink).strip():
            sites.append(LinkContainer(dn=entry.dn, gplink=str(gplink)))
    return tuple(sites)


def collect_computers_container(
    session: LdapSession, base_dn: str
) -> tuple[str, Literal["wellKnownObjects", "default"]]:
    """Where new computers go: the domain head's ``wellKnownObjects`` entry (redircmp), else CN=Computers."""
    head = session.get(base_dn, ("wellKnownObjects",))
    return computers_container([str(v) for v in head.all("wellKnownObjects")] if head else [], base_dn)


def _share_path(gpo: GpoObject, domain: str) -> tuple[str, str]:
    """(share, folder) from gPCFileSysPath ``\\\\host\\share\\path``; the default place otherwise."""
    fs = gpo.file_sys_path or ""
    parts = [p for p in fs.split("\\") if p]
    if len(parts) >= 3:
        return parts[1], "/".join(parts[2:])
    return SYSVOL_SHARE, sysvol_folder(domain, gpo.guid)


def collect_scanned_gpo(
    session: LdapSession, smb: SmbSession, dn: str, domain: str, base_dn: str
) -> ScannedGpo:
    """What a scan reads of the GPO at ``dn``: its object, Machine/Registry.pol and the security template;
    a GPO of another domain, or one that cannot be read, says so instead of raising."""
    guid = parse_dn(dn)[0].value.upper()
    if not is_descendant(dn, base_dn):
        # A site can link a GPO of another domain of the forest: its SYSVOL is on that domain's DCs.
        return ScannedGpo(dn=dn, guid=guid, display_name=None,
                          error=f"it belongs to another domain ({dn}); adprep reads the GPOs of {base_dn} only",
                          error_reason=ErrorReason.NOT_SUPPORTED)  # fmt: skip
    try:
        gpo = collect_gpo(session, dn)
    except AdprepError as e:
        return ScannedGpo(dn=dn, guid=guid, display_name=None, error=e.sentence(), error_reason=reason_of(e))
    if gpo is None:
        return ScannedGpo(dn=dn, guid=guid, display_name=None, exists=False)
    share, folder = _share_path(gpo, domain)
    try:
        pol = smb.read_file(share, f"{folder}/Machine/Registry.pol")
        inf = smb.read_file(share, f"{folder}/{SECURITY_TEMPLATE}")
        entries = parse_registry_pol(pol) if pol is not None else None
    except (AdprepError, WireFormatError) as e:
        return ScannedGpo(dn=gpo.dn, guid=gpo.guid, display_name=gpo.display_name, flags=gpo.flags or 0,
                          error=e.sentence(), error_reason=reason_of(e))  # fmt: skip
    return ScannedGpo(
        dn=gpo.dn, guid=gpo.guid, display_name=gpo.display_name, flags=gpo.flags or 0, registry_pol=entries,
        security_template=_decode_inf(inf) if inf is not None else None,
    )  # fmt: skip


def _decode_inf(data: bytes) -> str:
    # GptTmpl.inf is UTF-16LE with a BOM as the Security Settings editor writes it.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8", "replace")
