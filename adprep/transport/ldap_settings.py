"""The settings of a connection to a domain controller over LDAP: which DC, which name its certificate
carries, how to protect the connection, who binds and with which password.

A value type, shared by the collectors and the commands; :mod:`adprep.jobs.directory_session` builds
it from the command's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from adprep.facts.directory import LdapMode
from adprep.secret import Secret
from adprep.transport.ldap import LdapTarget


@dataclass(frozen=True)
class DirectorySettings:
    dc: str
    """The DC's IP address (resolved or located when it was given by name, or not at all)."""
    domain: str
    """The AD domain's DNS name, e.g. ``corp.example.com``."""
    user: str
    """The account that binds (sAMAccountName, UPN or DN)."""
    password: Secret
    dc_name: str | None = None
    """The DC's host name, checked against its certificate (``--dc-name``, else the name given or found)."""
    located: str | None = None
    """How the DC was found, when it was not given as an address."""
    mode: LdapMode = "ldaps"
    ca_file: str | None = None
    verify: bool = True
    timeout: float = 5.0

    @property
    def base_dn(self) -> str:
        return ",".join(f"DC={label}" for label in self.domain.split("."))

    @property
    def bind_name(self) -> str:
        """A bare account name binds as its UPN (``name@domain``), which AD and Samba both accept."""
        if "@" in self.user or "=" in self.user or "\\" in self.user:
            return self.user
        return f"{self.user}@{self.domain}"

    def target(self) -> LdapTarget:
        """Where and how to connect (:class:`LdapTarget`)."""
        return LdapTarget(
            address=self.dc, server_name=self.dc_name, mode=self.mode, ca_file=self.ca_file, verify=self.verify,
            timeout=self.timeout,
        )  # fmt: skip
