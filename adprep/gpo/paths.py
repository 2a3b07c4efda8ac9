"""Where a GPO lives: its groupPolicyContainer's DN (MS-GPOL 2.2.1) and its SYSVOL folder (MS-GPOL 2.2.4)."""

from __future__ import annotations

SYSVOL_SHARE = "SYSVOL"

#: The GPO folder's ``Adm`` sub-folder, where the editor's "Add/Remove Templates" copies ADM files.
ADM_FOLDER = "Adm"


def policies_dn(base_dn: str) -> str:
    """``CN=Policies,CN=System,<domain>``, where groupPolicyContainers live (MS-GPOL 2.2.1)."""
    return f"CN=Policies,CN=System,{base_dn}"


def gpo_dn(guid: str, base_dn: str) -> str:
    """The DN of the groupPolicyContainer named by ``guid`` (``{XXXXXXXX-...}``)."""
    return f"CN={guid},{policies_dn(base_dn)}"


def sysvol_folder(domain: str, guid: str) -> str:
    """The GPO's folder inside the SYSVOL share: ``<domain>/Policies/{GUID}``."""
    return f"{domain}/Policies/{guid}"


def file_sys_path(domain: str, guid: str) -> str:
    """``gPCFileSysPath`` as GPMC writes it (MS-GPOL 2.2.4)."""
    return f"\\\\{domain}\\SysVol\\{domain}\\Policies\\{guid}"


SECURITY_TEMPLATE = "Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf"
