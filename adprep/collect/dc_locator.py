"""Finding the domain controller a command talks to, from a host name or from the domain alone.

Admins name DCs by host name (``samba-tool -H``, PowerShell's ``-Server``) or not at all, and let the
DC locator find one. This module does what the Windows DC locator does for a writable DC (MS-ADTS
6.3.6, locating a DC): ask DNS for ``_ldap._tcp.dc._msdcs.<domain>`` (MS-ADTS 6.3.2.3: the DCs of
the domain), take the targets in priority and weight order (RFC 2782), resolve them, and send each
an LDAP ping (MS-ADTS 6.3.3); the first whose reply carries ``DS_WRITABLE_FLAG`` (MS-ADTS 6.3.1.2)
is the DC. Its host name is what TLS is verified against.

DNS is asked of the DNS servers given (``--dns-ip``, directly, as preflight does), or else of this
host's resolver. Failures raise :class:`adprep.errors.TransportError` with what was asked and what to do.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from adprep import requirements as req
from adprep.errors import TransportError
from adprep.facts.dns import DnsAnswer, DnsProto, SrvRecord
from adprep.transport.dns import addresses_system, query, query_system
from adprep.transport.network import Network
from adprep.validate import is_address
from adprep.wire import cldap


@dataclass(frozen=True)
class LocatedDc:
    """The DC to talk to."""

    address: str
    host: str | None
    """Its host name (what TLS is verified against); None when only an address was given."""
    how: str
    """One sentence: how it was found."""


def order_srv(records: Sequence[SrvRecord]) -> list[SrvRecord]:
    """SRV targets in the order to try them: lowest priority first (RFC 2782); within a priority RFC 2782
    picks at random, weighted, where adprep takes the heaviest first, so the same DNS data always picks
    the same DC. Duplicated targets are kept once."""
    out: list[SrvRecord] = []
    for record in sorted(records, key=lambda r: (r.priority, -r.weight, r.target)):
        if all(record.target != kept.target for kept in out):
            out.append(record)
    return out


async def _ask(net: Network, servers: Sequence[str], qname: str, rdtype: str, timeout: float) -> DnsAnswer:
    """The first useful answer: each server in turn, over UDP and then TCP (for a truncated or lost
    UDP answer); the system resolver when no server is given."""
    if not servers:
        return await query_system(qname, rdtype, timeout=timeout)
    last: DnsAnswer | None = None
    protos: tuple[DnsProto, ...] = ("udp", "tcp")
    for server in servers:
        for proto in protos:
            last = await query(net, server, qname, rdtype, proto, timeout=timeout)
            if last.outcome in ("answer", "nxdomain", "nodata"):
                return last
    assert last is not None
    return last


def _asked(servers: Sequence[str]) -> str:
    return f"from {', '.join(servers)}" if servers else "from this host's resolver"


async def resolve_host(net: Network, host: str, servers: Sequence[str], *, timeout: float) -> tuple[str, ...]:
    """The addresses of ``host``: A then AAAA from the given DNS servers, or this host's resolver."""
    if not servers:
        return await addresses_system(host)
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        a = await _ask(net, servers, host, rdtype, timeout)
        found.extend(x for x in a.addresses if x not in found)
    return tuple(found)


async def dc_from_name(
    net: Network, host: str, domain: str, servers: Sequence[str], *, timeout: float
) -> LocatedDc:
    """The DC named ``host`` (a single label is taken inside ``domain``), by its first address."""
    fqdn = host.strip().rstrip(".").lower()
    if "." not in fqdn:
        fqdn = f"{fqdn}.{domain}"
    addresses = await resolve_host(net, fqdn, servers, timeout=timeout)
    if not addresses:
        raise TransportError(
            f"The DC host name {fqdn} does not resolve ({_asked(servers)})",
            hint="Check the name, pass --dns-ip with a DNS server of the domain, or give --dc as an address.",
        )
    return LocatedDc(addresses[0], fqdn, f"{fqdn} resolves to {addresses[0]} ({_asked(servers)})")


@dataclass(frozen=True)
class _Ping:
    address: str
    writable: bool | None
    """None: no LDAP ping answer from this address."""
    dns_host_name: str | None = None


async def _ping(net: Network, address: str, domain: str, timeout: float) -> _Ping:
    """An LDAP ping (MS-ADTS 6.3.3) over UDP 389: does this DC serve ``domain``, and is it writable?"""
    pings = [cldap.build_netlogon_ping(secrets.randbelow(0x7FFFFFFF) + 1, domain) for _ in range(3)]
    exchange = await net.udp_exchange(address, 389, pings, timeout=timeout)
    if exchange.reply is None:
        return _Ping(address, None)
    try:
        reply = cldap.parse_netlogon_reply(exchange.reply, cldap.reply_message_id(exchange.reply))
    except Exception:  # a reply that is not an LDAP ping answer proves nothing about writability
        return _Ping(address, None)
    if reply.netlogon is None:
        return _Ping(address, False)  # answers, but does not serve this domain
    flags = reply.netlogon.flags
    return _Ping(address, bool(flags & cldap.DsFlag.DS_WRITABLE_FLAG), reply.netlogon.dns_host_name or None)


async def locate_writable_dc(
    net: Network, domain: str, servers: Sequence[str], *, timeout: float, ldap_port: int
) -> LocatedDc:
    """A writable DC of ``domain``, found as the DC locator finds one (see the module's docstring).

    Every candidate address is pinged at once, so a dead DC costs one timeout; among those that
    answer, SRV order decides. When no candidate answers the LDAP ping at all (UDP 389 blocked on
    the way), the first whose LDAP port (``ldap_port``) accepts a connection is taken, unconfirmed.
    """
    qname = req.SRV_LDAP_MSDCS.format(domain=domain)
    srv = await _ask(net, servers, qname, "SRV", timeout)
    if srv.outcome != "answer" or not srv.srv:
        why = {"nxdomain": "the name does not exist", "nodata": "it has no SRV records"}.get(
            srv.outcome, srv.detail or srv.outcome
        )
        raise TransportError(
            f"No domain controller of {domain} could be found: asked {qname} SRV {_asked(servers)}, and {why}",
            hint="Check --domain and --dns-ip ('adprep preflight' shows the DNS side), or pass --dc with the "
            "DC's host name or address.",
        )
    targets = order_srv(srv.srv)
    resolved = await asyncio.gather(*(resolve_host(net, t.target, servers, timeout=timeout) for t in targets))
    candidates = [(t.target, a) for t, addresses in zip(targets, resolved, strict=True) for a in addresses]
    if not candidates:
        raise TransportError(
            f"The DCs {qname} names ({', '.join(t.target for t in targets)}) have no address {_asked(servers)}",
            hint="Add their A records, or pass --dc with a DC's address.",
        )
    pings = await asyncio.gather(*(_ping(net, a, domain, timeout) for _, a in candidates))
    for (host, address), ping in zip(candidates, pings, strict=True):
        if ping.writable:
            name = (ping.dns_host_name or host).lower()
            return LocatedDc(
                address,
                name,
                f"{name} ({address}), a writable DC of {domain} found through {qname} {_asked(servers)}",
            )
    if all(p.writable is None for p in pings):
        probes = await asyncio.gather(
            *(net.tcp_connect(a, ldap_port, timeout=timeout) for _, a in candidates)
        )
        for (host, address), probe in zip(candidates, probes, strict=True):
            if probe.outcome == "open":
                return LocatedDc(
                    address, host, f"{host} ({address}), found through {qname} {_asked(servers)}; no DC answered "
                    "the LDAP ping (UDP 389), so it is not confirmed writable"
                )  # fmt: skip
    seen = ", ".join(
        f"{host} ({address}): "
        + ("no answer" if p.writable is None else "read-only or not serving the domain")
        for (host, address), p in zip(candidates, pings, strict=True)
    )
    raise TransportError(
        f"No writable domain controller of {domain} answered: {seen}",
        hint="Check that this host reaches the DCs (adprep preflight), or pass --dc with a writable DC.",
    )


async def find_dc(
    net: Network, *, dc: str | None, domain: str, servers: Sequence[str], timeout: float, ldap_port: int
) -> LocatedDc:
    """``--dc`` as given (an address is used as is, a host name is resolved), or a located writable DC."""
    if dc and is_address(dc):
        address = str(ipaddress.ip_address(dc.strip()))
        return LocatedDc(address, None, f"{address}, as given")
    if dc:
        return await dc_from_name(net, dc, domain, servers, timeout=timeout)
    return await locate_writable_dc(net, domain, servers, timeout=timeout, ldap_port=ldap_port)
