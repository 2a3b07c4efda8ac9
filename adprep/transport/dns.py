"""DNS queries asked of one given server, over UDP or TCP, as AD Connector asks them.

Not the local resolver: AD Connector sends its SRV queries to the DNS IPs the user gives, so adprep
does too (dnspython's query functions, one server, one transport). Outcomes are facts: an answer,
NXDOMAIN, no data, a refusal or server failure, or silence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

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


async def query(server: str, qname: str, rdtype: str, proto: DnsProto, *, timeout: float) -> DnsAnswer:
    """Ask ``server`` for ``qname``/``rdtype`` over ``proto``, once, within ``timeout`` seconds."""
    import dns.asyncquery
    import dns.exception
    import dns.message
    import dns.rcode
    import dns.rdatatype

    request = dns.message.make_query(qname, rdtype)
    started = time.perf_counter()

    def answer(outcome: DnsOutcome, **kw: object) -> DnsAnswer:
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return DnsAnswer(server, proto, qname, rdtype, outcome, elapsed, **kw)  # type: ignore[arg-type]

    try:
        if proto == "udp":
            response = await dns.asyncquery.udp(request, server, timeout=timeout, raise_on_truncation=False)
        else:
            response = await dns.asyncquery.tcp(request, server, timeout=timeout)
    except dns.exception.Timeout:
        return answer("timeout", detail=f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return answer("unreachable", detail="connection refused")
    except (OSError, EOFError) as e:
        return answer("unreachable", detail=f"{type(e).__name__}: {e}")
    except dns.exception.DNSException as e:
        return answer("error", detail=f"malformed answer: {e}")
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return answer("nxdomain")
    if rcode == dns.rcode.REFUSED:
        return answer("refused", detail="the server refused the query")
    if rcode != dns.rcode.NOERROR:
        return answer("servfail", detail=dns.rcode.to_text(rcode))
    srv: list[SrvRecord] = []
    addresses: list[str] = []
    want = dns.rdatatype.from_text(rdtype)
    for rrset in response.answer:
        if rrset.rdtype != want:
            continue
        for rd in rrset:
            if want == dns.rdatatype.SRV:
                srv.append(
                    SrvRecord(rd.priority, rd.weight, rd.port, rd.target.to_text(omit_final_dot=True).lower())
                )
            elif want in (dns.rdatatype.A, dns.rdatatype.AAAA):
                addresses.append(rd.address)
    glue = tuple(
        (rrset.name.to_text(omit_final_dot=True).lower(), rd.address)
        for rrset in response.additional
        if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
        for rd in rrset
    )
    if not srv and not addresses:
        return answer("nodata", glue=glue)
    return answer("answer", srv=tuple(srv), addresses=tuple(addresses), glue=glue)
