"""AD sites and subnets as names and networks (MS-ADTS 6.1.1.2.2.1.2.1.1): where site and subnet objects
live in the configuration NC, and which subnet object holds a network. Pure.

A subnet is an object of class ``subnet`` named by its CIDR (``CN=10.1.1.0/24``) under
``CN=Subnets,CN=Sites,<configuration NC>``; its ``siteObject`` is the DN of the site its addresses
belong to. A DC maps a client address to the site of the most specific subnet object that contains it
(MS-ADTS 6.3.3.2, the DC locator's ClientSiteName), so a network is "in a site" when the longest-prefix
subnet object containing all of it has a ``siteObject``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from adprep.ad.dn import parse_dn, rdn

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_SITE = "Default-First-Site-Name"


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
