"""Facts about GPOs: a groupPolicyContainer and a SYSVOL folder as read, and a container's links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adprep.gpo.registry_pol import PolEntry
from adprep.model import ErrorReason


@dataclass(frozen=True)
class GpoObject:
    """A groupPolicyContainer as read."""

    dn: str
    guid: str
    """``{XXXXXXXX-...}`` as in the CN."""
    display_name: str | None
    file_sys_path: str | None
    version: int | None
    """``versionNumber`` (unsigned); None when the attribute is missing."""
    flags: int | None
    """MS-GPOL 2.2.2: 1 user half disabled, 2 computer half disabled."""
    machine_extensions: str | None
    functionality_version: int | None = None
    security_descriptor: bytes | None = field(default=None, repr=False)
    """``nTSecurityDescriptor`` with owner, group and DACL."""
    children: frozenset[str] = frozenset()
    """Child container names present, casefolded (``machine``, ``user``)."""


@dataclass(frozen=True)
class SysvolState:
    """A GPO's SYSVOL folder as read. Paths are relative to the folder, with ``/``."""

    folder: str
    """``<domain>/Policies/{GUID}`` inside the SYSVOL share."""
    exists: bool
    entries: Mapping[str, bool] = field(default_factory=dict)
    """Every path below the folder → is it a folder. Names as the server spells them."""
    gpt_ini: bytes | None = None
    registry_pol: bytes | None = None
    acls: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    """Path (``""`` for the folder itself) → its security descriptor."""
    adm_files: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    """``Adm/<name>.adm`` → its bytes: the ADM templates installed in the GPO ("Add/Remove Templates")."""

    def actual(self, path: str) -> str | None:
        """The server's spelling of ``path`` (SYSVOL names are case-insensitive), if it exists."""
        wanted = path.casefold()
        for name in self.entries:
            if name.casefold() == wanted:
                return name
        return None


@dataclass(frozen=True)
class LinkContainer:
    """A domain, OU or site head with its links."""

    dn: str
    gplink: str | None
    block_inheritance: bool = False
    """``gPOptions`` = 1 (MS-GPOL 2.2.2): links above this container do not apply, unless enforced."""


@dataclass(frozen=True)
class ScannedGpo:
    """What was read of one GPO that reaches the target."""

    dn: str
    guid: str
    display_name: str | None
    flags: int = 0
    registry_pol: tuple[PolEntry, ...] | None = None
    """Machine/Registry.pol entries; None when the GPO has no such file."""
    security_template: str | None = None
    """GptTmpl.inf text; None when the GPO has none."""
    exists: bool = True
    """False: a link points at a GPO that is not in LDAP."""
    error: str | None = None
    """Why the GPO could not be read (SYSVOL unreachable, a malformed file)."""
    error_reason: ErrorReason | None = None
    """With ``error``: its kind (the ``reason`` of the ``unreadable`` result)."""
