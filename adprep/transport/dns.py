"""DNS queries asked of one given server, over UDP or TCP, as AD Connector asks them.

Not the local resolver: AD Connector sends its SRV queries to the DNS IPs the user gives, so adprep
does too (dnspython's message codec, one server, one transport, from any vantage). Outcomes are facts: an answer,
NXDOMAIN, no data, a refusal or server failure, or silence.

The one exception, :func:`query_system` and :func:`addresses_system`: when a write command is told
neither a DC address nor a DNS server, it finds its DC as any domain member would, through this
host's own resolver (``/etc/resolv.conf``, ``/etc/hosts``).
"""

from __future__ import annotations

from adprep.facts.dns import DnsAnswer, DnsOutcome, DnsProto, SrvRecord
from adprep.transport.network import Network


async def query(
    net: Network, server: str, qname: str, rdtype: str, proto: DnsProto, *, timeout: float
) -> DnsAnswer:
    """Ask ``server`` for ``qname``/``rdtype`` over ``proto``, once, within ``timeout`` seconds.

    The query is built and the answer parsed here (dnspython's message codec); ``net`` only carries
    the bytes, from this host or from a relay.
    """
    import dns.exception
    import dns.message
    import dns.rcode
    import dns.rdatatype

    request = dns.message.make_query(qname, rdtype)
    wire = request.to_wire()

    def answer(outcome: DnsOutcome, elapsed: float, **kw: object) -> DnsAnswer:
        return DnsAnswer(server, proto, qname, rdtype, outcome, elapsed, **kw)  # type: ignore[arg-type]

    if proto == "udp":
        u = await net.udp_exchange(server, 53, [wire], timeout=timeout)
        outcome: str = u.outcome
        elapsed, data, errno_name = u.elapsed_ms, u.reply, u.errno_name
    else:
        # RFC 1035 §4.2.2: over TCP, a message is preceded by its length in two bytes.
        t = await net.tcp_exchange(
            server, 53, [len(wire).to_bytes(2, "big") + wire], framing="u16", timeout=timeout
        )
        outcome, elapsed, errno_name = t.outcome, t.elapsed_ms, t.errno_name
        data = t.replies[0][2:] if t.replies else None
    if outcome in ("silent", "timeout"):
        return answer("timeout", elapsed, detail=f"no answer within {timeout:g} s")
    if outcome == "refused":
        return answer("unreachable", elapsed, detail="connection refused")
    if outcome == "closed":
        return answer(
            "unreachable", elapsed, detail="the server closed the connection before a whole reply came"
        )
    if data is None:
        return answer("unreachable", elapsed, detail=f"cannot send to {server} ({errno_name})")
    try:
        response = dns.message.from_wire(data)
    except (dns.exception.DNSException, ValueError) as e:
        return answer("error", elapsed, detail=f"malformed answer: {e}")
    if not request.is_response(response):
        return answer(
            "error", elapsed, detail="malformed answer: a DNS message that does not answer this query"
        )
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return answer("nxdomain", elapsed)
    if rcode == dns.rcode.REFUSED:
        return answer("refused", elapsed, detail="the server refused the query")
    if rcode != dns.rcode.NOERROR:
        return answer("servfail", elapsed, detail=dns.rcode.to_text(rcode))
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
        return answer("nodata", elapsed, glue=glue)
    return answer("answer", elapsed, srv=tuple(srv), addresses=tuple(addresses), glue=glue)


async def query_system(qname: str, rdtype: str, *, timeout: float) -> DnsAnswer:
    """Ask this host's resolver (dnspython's, reading ``/etc/resolv.conf``) for ``qname``/``rdtype``."""
    import time

    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    started = time.perf_counter()

    def answer(outcome: DnsOutcome, **kw: object) -> DnsAnswer:
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return DnsAnswer("system resolver", "udp", qname, rdtype, outcome, elapsed, **kw)  # type: ignore[arg-type]

    try:
        resolver = dns.asyncresolver.Resolver()
    except dns.exception.DNSException as e:
        return answer("error", detail=f"this host's resolver is not configured ({e})")
    try:
        found = await resolver.resolve(qname, rdtype, lifetime=timeout, search=False)
    except dns.resolver.NXDOMAIN:
        return answer("nxdomain")
    except dns.resolver.NoAnswer:
        return answer("nodata")
    except dns.resolver.LifetimeTimeout:
        return answer("timeout", detail=f"no answer within {timeout:g} s")
    except dns.resolver.NoNameservers as e:
        return answer("servfail", detail=str(e))
    except dns.exception.DNSException as e:
        return answer("error", detail=str(e))
    if rdtype == "SRV":
        records = tuple(
            SrvRecord(rd.priority, rd.weight, rd.port, rd.target.to_text(omit_final_dot=True).lower())
            for rd in found
        )
        return answer("answer", srv=records)
    return answer("answer", addresses=tuple(rd.address for rd in found))


async def addresses_system(host: str) -> tuple[str, ...]:
    """The addresses this host's resolver gives ``host`` (``getaddrinfo``: ``/etc/hosts`` too), in its order."""
    import asyncio
    import socket

    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))
