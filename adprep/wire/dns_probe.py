"""The DNS probe of UDP 53: one query built with dnspython, and what its reply proves.

Any well-formed reply to the query proves a DNS server answered, whatever its rcode: REFUSED (a
server that does not recurse for this client) and NXDOMAIN are answers too. Whether the server
knows the domain (``authoritative``, ``answer_count``) is a separate fact for the DNS checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from adprep.errors import WireFormatError

#: What the probe asks when it knows no domain: the root zone's NS, which any server can answer
#: (from its hints, or with REFUSED).
ROOT = "."


@dataclass(frozen=True)
class DnsReply:
    """What a DNS server answered to one query (RFC 1035 4.1.1)."""

    rcode: str
    """NOERROR, NXDOMAIN, REFUSED, SERVFAIL, ..."""
    authoritative: bool
    """The AA flag: the server holds the zone."""
    truncated: bool
    """The TC flag: the full answer needs TCP."""
    recursion_available: bool
    answer_count: int
    question: str
    """The echoed question, ``name TYPE``."""


def build_dns_query(name: str, rdtype: str = "SOA", query_id: int | None = None) -> dns.message.QueryMessage:
    """A query for ``name``/``rdtype`` with RD set (what AD Connector's resolver would send).

    The socket layer sends ``query.to_wire()`` and hands the same object to :func:`parse_dns_reply`,
    which uses it to match the reply (id and question).
    """
    try:
        query = dns.message.make_query(dns.name.from_text(name), dns.rdatatype.from_text(rdtype))
    except dns.exception.DNSException as e:
        raise ValueError(f"cannot build a DNS query for {name!r} {rdtype}: {e}") from e
    if query_id is not None:
        query.id = query_id
    return query


def _from_wire(data: bytes, *, question_only: bool) -> dns.message.Message:
    try:
        return dns.message.from_wire(data, question_only=question_only)
    except dns.exception.DNSException as e:
        raise WireFormatError(f"Not a DNS reply: {e}") from e
    except (ValueError, IndexError, UnicodeError) as e:  # dnspython lets a few of these escape
        raise WireFormatError(f"Not a DNS reply: {e}") from e


def parse_dns_reply(data: bytes, query: dns.message.Message) -> DnsReply:
    """Decode ``data`` as the reply to ``query``; raise :class:`WireFormatError` if it is not one."""
    try:
        reply = _from_wire(data, question_only=False)
    except WireFormatError:
        # RFC 1035 4.1.1: with TC set the server cut its reply; its header and question still count.
        if len(data) < 12 or not data[2] & 0x02:
            raise
        reply = _from_wire(data, question_only=True)
    if not reply.flags & dns.flags.QR:
        raise WireFormatError("DNS message is a query, not a reply.", offset=2)
    if reply.id != query.id:
        raise WireFormatError(f"DNS reply id {reply.id} does not match the query id {query.id}.", offset=0)
    # RFC 5452 9.1: match the question too; a server may leave it out of an error reply (FORMERR).
    if reply.question and not query.is_response(reply):
        raise WireFormatError("DNS reply is for another question.")
    question = query.question[0] if query.question else None
    return DnsReply(
        rcode=dns.rcode.to_text(reply.rcode()),
        authoritative=bool(reply.flags & dns.flags.AA),
        truncated=bool(reply.flags & dns.flags.TC),
        recursion_available=bool(reply.flags & dns.flags.RA),
        answer_count=sum(len(rrset) for rrset in reply.answer),
        question="" if question is None else f"{question.name} {dns.rdatatype.to_text(question.rdtype)}",
    )
