"""Site verdicts from the directory: is each AD Connector subnet in an AD site? Pure.

The CLDAP reply's ClientSiteName (``dcs.site.*``) says where one probing address maps, and only on a
DC that answers "no site" for an address in no subnet: a Samba DC with a single site names that site
for every address. What the forest holds under ``CN=Subnets`` is the fact that holds everywhere, so
this check reads it (:mod:`adprep.ad.sites` for the matching rule).
"""

from __future__ import annotations

from collections.abc import Sequence

from adprep.ad.sites import Network, SubnetObject, covering, site_name
from adprep.catalogue import check_id
from adprep.model import CheckResult, FactValue, Status


def subnet_check_id(network: Network) -> str:
    """The id of ``network``'s result (``sites.subnet.<cidr>``)."""
    return check_id("sites.subnet.<cidr>", cidr=network)


def check_subnet_sites(networks: Sequence[Network], subnets: Sequence[SubnetObject]) -> list[CheckResult]:
    """``sites.subnet.<cidr>`` for each AD Connector subnet: pass when a subnet object linked to a
    site covers it, warn otherwise (as ``dcs.site.*`` does: AD Connector then may use any DC)."""
    out: list[CheckResult] = []
    remedy = (
        "Add the AD Connector subnets to an AD site in Active Directory Sites and Services (adprep fix "
        "--subnet CIDR --site NAME), so that AD Connector uses the domain controllers of that site."
    )
    for network in dict.fromkeys(networks):
        cid = subnet_check_id(network)
        cover = covering(network, subnets)
        facts: dict[str, FactValue] = {
            "subnet": str(network),
            "subnet_object": cover.dn if cover else None,
            "site": site_name(cover.site_dn) if cover and cover.site_dn else None,
        }
        if cover is not None and cover.site_dn:
            how = "" if cover.network == network else f" through the subnet object {cover.network}"
            out.append(
                CheckResult(
                    cid,
                    Status.PASS,
                    f"AD Connector subnet {network} is in AD site {facts['site']}{how}",
                    facts,
                    target=str(network),
                )
            )
            continue
        if cover is not None:
            title = f"The subnet object {cover.network} holding {network} is linked to no AD site"
        else:
            inside = sorted(str(s.network) for s in subnets if s.network.version == network.version
                            and s.network.subnet_of(network))  # type: ignore[arg-type]  # fmt: skip
            facts["subnet_objects_inside"] = inside
            title = f"AD Connector subnet {network} is in no AD subnet object" + (
                f" (only parts of it: {', '.join(inside)})" if inside else ""
            )
        out.append(CheckResult(cid, Status.WARN, title, facts, remedy=remedy, target=str(network)))
    return out
