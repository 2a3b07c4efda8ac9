"""Connection settings for commands that talk to a domain controller over LDAP, and opening them.

One definition for preflight, delegate, account, ou, users and gpo: which DC, which name its
certificate carries, how to protect the connection, who binds and where the password comes from.
The DC may be given by address or host name, or found from the domain alone through DNS, as the
Windows DC locator finds a writable DC (:mod:`adprep.collect.dc_locator`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from adprep.ad.names import validate_domain_fqdn
from adprep.errors import InputError
from adprep.secrets import read_secret
from adprep.transport.ldap import LdapSession, connect
from adprep.transport.ldap_settings import DirectorySettings
from adprep.validate import is_address, parse_address

if TYPE_CHECKING:
    from adprep.collect.dc_locator import LocatedDc

PASSWORD_ENV = "ADPREP_PASSWORD"


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
    dns_ips: Sequence[str] = (),
) -> DirectorySettings:
    """Validate the connection inputs, read the password from its source (never argv), then find the DC.

    ``dc`` is an IP address (used as is), a host name (resolved through ``dns_ips``, else this host's
    resolver; TLS is verified against it) or None (a writable DC of ``domain`` is located through
    DNS). A name or location that fails raises :class:`adprep.errors.TransportError`.
    """
    if not domain:
        raise InputError(
            "No domain given", hint="Pass --domain with the AD domain's DNS name, e.g. corp.example.com."
        )
    if dc and not is_address(dc):
        check_dc_host_name(dc)
    servers = tuple(
        dict.fromkeys(
            parse_address(t, what="DNS server address") for ip in dns_ips for t in ip.split(",") if t.strip()
        )
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
    fqdn = domain.strip().rstrip(".").lower()
    if dc and is_address(dc):
        address, host, how = parse_address(dc, what="domain controller"), None, None
    else:  # a host name to resolve, or a DC to locate: network traffic, after every input is checked
        ldap_port = 636 if mode == "ldaps" else 389
        found = asyncio.run(_find_dc(dc, fqdn, servers, timeout=min(timeout, 2.0), ldap_port=ldap_port))
        address, host, how = found.address, found.host, found.how
    return DirectorySettings(
        dc=address,
        domain=fqdn,
        user=user,
        password=secret,
        dc_name=dc_name or host,
        mode=mode,  # type: ignore[arg-type]
        ca_file=ca_file,
        verify=not insecure,
        timeout=timeout,
        located=how,
    )


async def _find_dc(
    dc: str | None, domain: str, servers: Sequence[str], *, timeout: float, ldap_port: int
) -> LocatedDc:
    from adprep.collect.dc_locator import find_dc
    from adprep.transport.network import LocalNetwork

    return await find_dc(
        LocalNetwork(), dc=dc, domain=domain, servers=servers, timeout=timeout, ldap_port=ldap_port
    )


def check_dc_host_name(text: str) -> None:
    """Refuse (exit 2) a ``--dc`` that is not an IP address and not a host name of DNS labels (a single
    label is taken inside the domain)."""
    name = text.strip().rstrip(".")
    try:
        validate_domain_fqdn(name if "." in name else f"{name}.invalid")
    except InputError:
        raise InputError(
            f"The domain controller {text!r} is neither an IP address nor a host name",
            hint="Give the DC's host name (dc1.corp.example.com) or its IP address.",
        ) from None


def open_session(settings: DirectorySettings) -> LdapSession:
    """Connect to the DC and bind as the configured account."""
    return connect(settings.target(), user=settings.bind_name, password=settings.password)
