"""Collect what each given DNS server says about the domain's DC locator records, over UDP and TCP.

Two rounds, each fully concurrent: every SRV query to every server over both transports, then the
A records of every SRV target, asked of the server (and transport) that named it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from adprep.facts.dns import SRV_QUERIES, DnsAnswer, DnsFacts, DnsProto, DnsView
from adprep.transport.dns import query
from adprep.transport.network import Network

PROTOS: tuple[DnsProto, ...] = ("udp", "tcp")


async def collect_dns(net: Network, domain: str, servers: Sequence[str], *, timeout: float) -> DnsFacts:
    """Every SRV query of :data:`SRV_QUERIES` to every server over UDP and TCP, then their targets'
    addresses from the server that named them (see the module docstring)."""
    keys = [(s, p, k) for s in servers for p in PROTOS for k in SRV_QUERIES]
    answers = await asyncio.gather(
        *(query(net, s, SRV_QUERIES[k].format(domain=domain), "SRV", p, timeout=timeout) for s, p, k in keys)
    )
    srv: dict[tuple[str, DnsProto], dict[str, DnsAnswer]] = {}
    for (s, p, k), a in zip(keys, answers, strict=True):
        srv.setdefault((s, p), {})[k] = a

    # Round 2: A and AAAA records of the targets, unless the additional section already had them.
    lookups: list[tuple[str, DnsProto, str, str]] = []
    hosts: dict[tuple[str, DnsProto], dict[str, tuple[str, ...] | None]] = {}
    for (s, p), by_key in srv.items():
        found: dict[str, tuple[str, ...] | None] = {}
        glue: dict[str, list[str]] = {}
        for a in by_key.values():
            for host, addr in a.glue:
                glue.setdefault(host, []).append(addr)
        for key in ("ldap_tcp", "kerberos_tcp", "ldap_msdcs"):
            for rec in by_key[key].srv:
                if rec.target in glue:
                    found[rec.target] = tuple(dict.fromkeys(glue[rec.target]))
                elif rec.target not in found:
                    found[rec.target] = None
                    lookups.extend((s, p, rec.target, rdtype) for rdtype in ("A", "AAAA"))
        hosts[(s, p)] = found
    answers_ = await asyncio.gather(*(query(net, s, h, t, p, timeout=timeout) for s, p, h, t in lookups))
    for (s, p, h, _), a in zip(lookups, answers_, strict=True):
        known = hosts[(s, p)][h]
        if a.outcome == "answer":
            hosts[(s, p)][h] = (*(known or ()), *a.addresses)
        elif a.outcome in ("nxdomain", "nodata") and known is None:
            hosts[(s, p)][h] = ()
    views = tuple(DnsView(s, p, srv[(s, p)], hosts[(s, p)]) for s in servers for p in PROTOS)
    return DnsFacts(domain, tuple(servers), views)
