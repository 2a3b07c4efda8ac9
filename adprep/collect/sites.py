"""Facts about AD Sites and Services: the forest's subnet objects and its sites, read over LDAP.

Sites live in the configuration naming context (MS-ADTS 6.1.1.2.2.1.2.1.1): ``CN=Sites,<config NC>``
holds one ``site`` object per site and ``CN=Subnets`` the ``subnet`` objects, each named by its CIDR
and linked to its site by ``siteObject``. Every authenticated user may read them, so the service
account reads them in ``adprep preflight`` and the administrator in ``adprep fix``. Never writes.
"""

from __future__ import annotations

from adprep.ad.sites import SubnetObject, parse_subnet_name, sites_dn, subnets_dn
from adprep.transport.ldap import LdapSession


def configuration_nc(session: LdapSession, base_dn: str) -> str:
    """The forest's configuration NC, from the rootDSE (``CN=Configuration,<base>`` if it does not say)."""
    root = session.get("", ("configurationNamingContext",))
    value = root.first("configurationNamingContext") if root is not None else None
    return str(value) if value else f"CN=Configuration,{base_dn}"


def collect_subnets(session: LdapSession, config_nc: str) -> list[SubnetObject]:
    """Every subnet object whose name is a CIDR network, with the site it is linked to (if any)."""
    out: list[SubnetObject] = []
    for e in session.search(subnets_dn(config_nc), "(objectClass=subnet)", scope="one",
                            attributes=("cn", "siteObject")):  # fmt: skip
        network = parse_subnet_name(str(e.first("cn") or ""))
        if network is not None:
            site = e.first("siteObject")
            out.append(SubnetObject(e.dn, network, str(site) if site else None))
    return out


def collect_site_names(session: LdapSession, config_nc: str) -> list[str]:
    """The names of the forest's sites."""
    found = session.search(sites_dn(config_nc), "(objectClass=site)", scope="one", attributes=("cn",))
    return sorted(str(e.first("cn")) for e in found if e.first("cn"))
