"""The appliers of GPO plans (:mod:`adprep.prep.gpo`): SYSVOL folders, files and ACLs over SMB, and the
groupPolicyContainer's LDAP writes (:mod:`adprep.prep.ldap_apply`), registered by payload type."""

from __future__ import annotations

from adprep.ad.sysvol_acl import file_security_descriptor, security_information
from adprep.errors import LdapError
from adprep.prep.gpo import SmbAcl, SmbPath, SmbWrite
from adprep.prep.ldap_apply import ldap_appliers
from adprep.prep.plan import Appliers
from adprep.transport.ldap import SD_OWNER_GROUP_DACL, LdapSession
from adprep.transport.smb import SmbSession


def gpo_appliers(ldap: LdapSession, smb: SmbSession) -> Appliers:
    """The appliers for the payloads :mod:`adprep.prep.gpo` plans, through one DC's two sessions."""
    derived: dict[str, bytes] = {}

    def smb_mkdir(p: SmbPath) -> None:
        smb.make_dir(p.share, p.path)

    def smb_write(p: SmbWrite) -> None:
        # Never truncated in place: a kill between truncating and writing would lose the file's
        # other settings (the plan sets the written file's ACL afterwards).
        smb.replace_file(p.share, p.path, p.data)

    def smb_acl(p: SmbAcl) -> None:
        descriptor = p.descriptor
        if descriptor is None:  # a GPO created by this run: its descriptor exists only now
            if p.gpo_dn not in derived:
                entry = ldap.get(p.gpo_dn, ("nTSecurityDescriptor",), sd_flags=SD_OWNER_GROUP_DACL)
                blobs = entry.raw.get("nTSecurityDescriptor") if entry is not None else None
                if not blobs:
                    raise LdapError(
                        f"Reading the security descriptor of {p.gpo_dn} returned nothing",
                        hint="The account needs read access to the GPO's permissions.",
                    )
                derived[p.gpo_dn] = file_security_descriptor(blobs[0])
            descriptor = derived[p.gpo_dn]
        smb.write_security(p.share, p.path, descriptor, info=security_information(descriptor))

    return ldap_appliers(ldap).merged(
        Appliers().on(SmbPath, smb_mkdir).on(SmbWrite, smb_write).on(SmbAcl, smb_acl)
    )
