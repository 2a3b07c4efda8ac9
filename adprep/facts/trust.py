"""Facts about trusts: the trustedDomain objects and forest domains of the account domain, and what a DC of
the target domain showed."""

from __future__ import annotations

from dataclasses import dataclass

from adprep.facts.account import BindOutcome, ContainerRights
from adprep.facts.directory import Observed, RootDse


@dataclass(frozen=True)
class TrustedDomain:
    """One trustedDomain object, as stored in the account domain."""

    dn: str
    partner: str
    """``trustPartner``: the other domain's DNS name (its NetBIOS name for a downlevel trust)."""
    flat_name: str | None
    direction: int
    """``trustDirection`` (MS-ADTS 6.1.6.7.12): 1 inbound (the partner trusts this domain), 2 outbound,
    3 both, 0 disabled."""
    type: int
    """``trustType`` (6.1.6.7.15): 1 downlevel (NT4), 2 uplevel (AD), 3 MIT Kerberos realm."""
    attributes: int
    """``trustAttributes`` (6.1.6.7.9): 0x4 quarantined (SID filtering), 0x8 forest transitive, 0x10
    cross-organization (selective authentication), 0x20 within forest, 0x40 treat as external..."""


@dataclass(frozen=True)
class ForestDomain:
    """A domain of the account domain's forest (a domain crossRef)."""

    dns_root: str
    netbios: str | None
    nc: str | None


@dataclass(frozen=True)
class TrustFacts:
    domain: str
    """The account domain the objects were read from."""
    dc: str
    trusts: tuple[TrustedDomain, ...]
    forest: tuple[ForestDomain, ...]


@dataclass(frozen=True)
class TargetDcFacts:
    """What one DC of the target domain showed: its rootDSE (anonymously), and, as the service account
    through the trust, the rights on the container where computers go."""

    address: str
    root_dse: Observed[RootDse]
    container_dn: str
    bind: BindOutcome | None = None
    """None: no bind was tried (``not_tried`` says why)."""
    container: Observed[ContainerRights] | None = None
    not_tried: str | None = None
