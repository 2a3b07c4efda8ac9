"""AD Connector's subnets in Active Directory Sites and Services, as a plan: the subnets wanted
(desired) and the subnet objects the forest holds (observed) → changes.

MS-ADTS 6.1.1.2.2.1.2.1.1: a subnet is an object of class ``subnet`` named by its CIDR
(``CN=10.1.1.0/24``) under ``CN=Subnets,CN=Sites,<configuration NC>``; its ``siteObject`` is the DN
of the site its addresses belong to. A DC maps a client address to the site of the most specific
subnet object that contains it (MS-ADTS 6.3.3.2, the DC locator's ClientSiteName), so a subnet is
"in a site" when the longest-prefix subnet object containing all of it has a ``siteObject``.

Only what is missing is written: a subnet already covered by a subnet object linked to a site is left
alone (even when it is another site than ``--site``: someone chose that), a subnet object named
exactly like the wanted one but linked to no site gets its ``siteObject``, and an uncovered subnet
gets a new object linked to the site named.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adprep.ad.dn import parse_dn, rdn
from adprep.prep.ldap_writes import ACTION_ADD, ACTION_MODIFY, AddEntry, ModifyEntry
from adprep.prep.plan import Change, Plan

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SUBNET_CLASSES = ("top", "subnet")
DEFAULT_SITE = "Default-First-Site-Name"
DESCRIPTION = "AWS AD Connector subnet (adprep)"


def sites_dn(config_nc: str) -> str:
    return f"CN=Sites,{config_nc}"


def subnets_dn(config_nc: str) -> str:
    return f"CN=Subnets,CN=Sites,{config_nc}"


def site_dn(site: str, config_nc: str) -> str:
    return f"{rdn('CN', site)},{sites_dn(config_nc)}"


def subnet_dn(network: Network, config_nc: str) -> str:
    return f"{rdn('CN', str(network))},{subnets_dn(config_nc)}"


def site_name(dn: str) -> str:
    """The site's name: the value of the first RDN of its DN."""
    return parse_dn(dn)[0].value


@dataclass(frozen=True)
class SubnetObject:
    """One subnet object of the forest."""

    dn: str
    network: Network
    site_dn: str | None
    """``siteObject``; None when the subnet is linked to no site."""


def parse_subnet_name(cn: str) -> Network | None:
    """The network a subnet object's name denotes; None for a name that is not a CIDR network."""
    try:
        return ipaddress.ip_network(cn.strip(), strict=True)
    except ValueError:
        return None


def covering(network: Network, subnets: Iterable[SubnetObject]) -> SubnetObject | None:
    """The most specific subnet object containing all of ``network`` (itself included), if any."""
    best: SubnetObject | None = None
    for s in subnets:
        if s.network.version != network.version or not network.subnet_of(s.network):  # type: ignore[arg-type]
            continue
        if best is None or s.network.prefixlen > best.network.prefixlen:
            best = s
    return best


def plan_subnets(
    wanted: Sequence[Network], site: str, config_nc: str, observed: Sequence[SubnetObject]
) -> Plan:
    """Subnet objects for the ``wanted`` networks that no site-linked subnet object covers, linked to ``site``."""
    target_site = site_dn(site, config_nc)
    changes: list[Change] = []
    in_place: list[str] = []
    for network in dict.fromkeys(wanted):
        cover = covering(network, observed)
        if cover is not None and cover.site_dn:
            where = "" if cover.network == network else f" (subnet object {cover.network})"
            in_place.append(f"subnet {network} is in AD site {site_name(cover.site_dn)}{where}")
            continue
        if cover is not None and cover.network == network:
            changes.append(
                Change(
                    id=f"site.link-subnet:{cover.dn}",
                    action=ACTION_MODIFY,
                    target=cover.dn,
                    summary=f"link subnet {network} to AD site {site}",
                    details={"siteObject": target_site},
                    payload=ModifyEntry(cover.dn, {"siteObject": [("replace", [target_site])]}),
                )
            )
            continue
        dn = subnet_dn(network, config_nc)
        changes.append(
            Change(
                id=f"site.add-subnet:{dn}",
                action=ACTION_ADD,
                target=dn,
                summary=f"add subnet {network} to AD site {site}",
                details={"siteObject": target_site},
                payload=AddEntry(dn, SUBNET_CLASSES, {"siteObject": target_site, "description": DESCRIPTION}),
            )
        )
    return Plan("fix", tuple(changes), tuple(in_place))
