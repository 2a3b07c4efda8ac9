"""Connection settings for commands that talk to a domain controller over LDAP, and opening them.

One definition for preflight, delegate, account, ou, users and gpo: which DC, which name its
certificate carries, how to protect the connection, who binds and where the password comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adprep.errors import InputError
from adprep.secrets import Secret, read_secret
from adprep.transport.ldap import LdapMode, LdapSession, LdapTarget, connect
from adprep.validate import parse_address

PASSWORD_ENV = "ADPREP_PASSWORD"


@dataclass(frozen=True)
class DirectorySettings:
    dc: str
    """The DC's IP address."""
    domain: str
    """The AD domain's DNS name, e.g. ``corp.example.com``."""
    user: str
    """The account that binds (sAMAccountName, UPN or DN)."""
    password: Secret
    dc_name: str | None = None
    """The DC's host name, checked against its certificate."""
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
        return LdapTarget(
            address=self.dc, server_name=self.dc_name, mode=self.mode, ca_file=self.ca_file, verify=self.verify,
            timeout=self.timeout,
        )  # fmt: skip


def directory_settings(
    *,
    dc: str | None,
    domain: str | None,
    user: str | None,
    password_file: Path | None,
    dc_name: str | None = None,
    mode: str = "ldaps",
    ca_file: str | None = None,
    insecure: bool = False,
    timeout: float = 5.0,
    prompt: object = None,
) -> DirectorySettings:
    """Validate the connection inputs and read the password from its source (never argv)."""
    if not dc:
        raise InputError("No domain controller given", hint="Pass --dc with the DC's IP address.")
    if not domain:
        raise InputError(
            "No domain given", hint="Pass --domain with the AD domain's DNS name, e.g. corp.example.com."
        )
    if not user:
        raise InputError(
            "No account given to bind as", hint="Pass --user (e.g. Administrator or the service account)."
        )
    if mode not in ("ldaps", "starttls", "plain"):
        raise InputError(f"--ldap-mode {mode!r} is not known", hint="Use ldaps, starttls or plain.")
    if ca_file is not None and not Path(ca_file).is_file():
        raise InputError(
            f"The CA file {ca_file} does not exist",
            hint="Give the PEM file of the CA that signed the DC's certificate.",
        )
    secret = read_secret(
        what=f"the password of {user}",
        env_var=PASSWORD_ENV,
        file=password_file,
        prompt=prompt if callable(prompt) else None,
    )
    assert secret is not None
    return DirectorySettings(
        dc=parse_address(dc, what="domain controller"),
        domain=domain.strip().rstrip(".").lower(),
        user=user,
        password=secret,
        dc_name=dc_name,
        mode=mode,  # type: ignore[arg-type]
        ca_file=ca_file,
        verify=not insecure,
        timeout=timeout,
    )


def open_session(settings: DirectorySettings) -> LdapSession:
    """Connect to the DC and bind as the configured account."""
    return connect(settings.target(), user=settings.bind_name, password=settings.password)
