"""AD Connector's subnets in Active Directory Sites and Services, as a plan: the subnets wanted
(desired) and the subnet objects the forest holds (observed) → changes (the matching rule is in
:mod:`adprep.ad.sites`).

Only what is missing is written: a subnet already covered by a subnet object linked to a site is left
alone (even when it is another site than ``--site``: someone chose that), a subnet object named
exactly like the wanted one but linked to no site gets its ``siteObject``, and an uncovered subnet
gets a new object linked to the site named.
"""

from __future__ import annotations

from collections.abc import Sequence

from adprep.ad.sites import Network, SubnetObject, covering, site_dn, site_name, subnet_dn
from adprep.prep.ldap_writes import ACTION_ADD, ACTION_MODIFY, AddEntry, ModifyEntry
from adprep.prep.plan import Change, Plan

SUBNET_CLASSES = ("top", "subnet")
DESCRIPTION = "AWS AD Connector subnet (adprep)"


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
