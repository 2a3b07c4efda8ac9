"""Facts about DNS: each answer a DNS server gave, and what every server said over UDP and TCP about
the domain's DC locator records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adprep import requirements as req

DnsProto = Literal["udp", "tcp"]

DnsOutcome = Literal["answer", "nxdomain", "nodata", "refused", "servfail", "timeout", "unreachable", "error"]


@dataclass(frozen=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str
    """Host name, lower case, without the trailing dot."""


@dataclass(frozen=True)
class DnsAnswer:
    """One query's outcome."""

    server: str
    proto: DnsProto
    qname: str
    rdtype: str
    outcome: DnsOutcome
    elapsed_ms: float
    srv: tuple[SrvRecord, ...] = ()
    addresses: tuple[str, ...] = ()
    """A/AAAA answers, and A/AAAA glue for SRV targets from the additional section."""
    glue: tuple[tuple[str, str], ...] = ()
    """(host, address) pairs from the additional section."""
    detail: str | None = None


#: The SRV records adprep asks for, by key (the key is part of check ids).
SRV_QUERIES: dict[str, str] = {
    "ldap_tcp": req.SRV_LDAP_TCP,
    "kerberos_tcp": req.SRV_KERBEROS_TCP,
    "ldap_msdcs": req.SRV_LDAP_MSDCS,
    "kerberos_udp": req.SRV_KERBEROS_UDP,
    # _gc._tcp lives in the forest root domain; for a single-domain forest that is the domain.
    "gc_tcp": req.SRV_GC_TCP,
}

REQUIRED_SRV = ("ldap_tcp", "kerberos_tcp")


@dataclass(frozen=True)
class DnsView:
    """What one server said over one transport."""

    server: str
    proto: DnsProto
    srv: dict[str, DnsAnswer]
    hosts: dict[str, tuple[str, ...] | None]
    """SRV target host → its A and AAAA addresses from this server (None: the lookups failed)."""


@dataclass(frozen=True)
class DnsFacts:
    domain: str
    servers: tuple[str, ...]
    views: tuple[DnsView, ...]

    def view(self, server: str, proto: DnsProto) -> DnsView:
        """What ``server`` said over ``proto`` (every pair was asked)."""
        return next(v for v in self.views if v.server == server and v.proto == proto)
