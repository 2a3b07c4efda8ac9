"""UDP protocol probes: for each port, the request that makes its service answer, and what an answer means.

A UDP port is ``open`` only when the service answered a real protocol request: a UDP "connect" sends nothing.
Each :class:`UdpProbe` builds one datagram for a :class:`ProbeContext` and interprets whatever came
back as a :class:`ProbeAnswer`. ``recognised=True`` means *the service answered*: the reply is a
well-formed message of the probed protocol, even an error (a KRB-ERROR, a DNS REFUSED, an empty
CLDAP result). Anything else that came back is ``recognised=False`` with a one-line summary:
:meth:`UdpProbe.interpret` never raises for bytes that are not its protocol (the parsers' own errors,
:data:`PARSE_ERRORS`); any other exception is a bug in adprep and surfaces as one. No sockets here: the socket layer sends, waits, and calls
:meth:`UdpProbe.interpret` with the reply and the request it sent.

Each probe imports its protocol's codec when it first builds or reads a datagram: a TCP-only sweep
never loads dnspython, ldap3's BER codec or the Kerberos ASN.1 (start-up is part of what a user waits for).
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol

from adprep.errors import WireFormatError
from adprep.model import FactValue


@dataclass(frozen=True)
class ProbeContext:
    """What a probe may put in its request."""

    domain: str | None = None
    """The AD domain's DNS name (DNS question, CLDAP DnsDomain)."""
    realm: str | None = None
    """The Kerberos realm; defaults to the upper-cased domain."""
    netbios_name: str | None = None
    """The NetBIOS name to query; the NBNS probe sends a node status request (``*``) without it."""

    @property
    def effective_realm(self) -> str | None:
        if self.realm:
            return self.realm.upper()
        return self.domain.rstrip(".").upper() if self.domain else None


@dataclass(frozen=True)
class ProbeAnswer:
    """What one reply datagram proves."""

    service: str
    """The protocol probed: ``dns``, ``kerberos``, ``kpasswd``, ``cldap``, ``ntp``, ``nbns``."""
    recognised: bool
    """True when the reply is a message of that protocol: the service answered."""
    summary: str
    """One line for a person, e.g. ``KDC answered KRB-ERROR 6 KDC_ERR_C_PRINCIPAL_UNKNOWN``."""
    facts: dict[str, FactValue] = field(default_factory=dict)
    """What the reply said, JSON-able; ``matches_request`` when the request was given."""


class UdpProbe(Protocol):
    """One port's probe: build a request, interpret a reply. Implementations are pure."""

    @property
    def service(self) -> str: ...

    def build(self, context: ProbeContext) -> bytes:
        """The request datagram; may raise :class:`ValueError` when ``context`` lacks what it needs."""
        ...

    def interpret(self, reply: bytes, request: bytes | None = None) -> ProbeAnswer:
        """What ``reply`` proves; never raises. With ``request`` (the bytes sent), ids are matched."""
        ...


#: What a parser raises on bytes that are not its protocol: :class:`WireFormatError` (the wire modules
#: turn pyasn1's and dnspython's errors into it), and the plain errors a library may let escape on
#: hostile bytes (pyasn1 and dnspython raise ValueError, IndexError, TypeError and UnicodeError from
#: deep inside; ``struct`` its own error). Anything else is a bug in adprep and must surface as one.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    WireFormatError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    UnicodeError,
    struct.error,
)


def _dns_parse_errors() -> tuple[type[Exception], ...]:
    import dns.exception

    return (*PARSE_ERRORS, dns.exception.DNSException)


def _unrecognised(service: str, label: str, reply: bytes, error: Exception | None) -> ProbeAnswer:
    facts: dict[str, FactValue] = {"length": len(reply), "head_hex": reply[:32].hex()}
    if error is not None:
        facts["error"] = error.sentence() if isinstance(error, WireFormatError) else repr(error)
        if error.__cause__ is not None:  # the library's own error under a WireFormatError
            facts["cause"] = f"{type(error.__cause__).__name__}: {error.__cause__}"
    return ProbeAnswer(
        service=service,
        recognised=False,
        summary=f"answered with something that is not {label} ({len(reply)} bytes)",
        facts=facts,
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# -- DNS, UDP 53 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsProbe:
    """A SOA query for the domain (root NS without one); any reply with the query's id counts."""

    service: ClassVar[str] = "dns"

    def build(self, context: ProbeContext) -> bytes:
        from adprep.wire import dns_probe

        if context.domain:
            query = dns_probe.build_dns_query(context.domain, "SOA")
        else:
            query = dns_probe.build_dns_query(dns_probe.ROOT, "NS")
        return query.to_wire()

    def interpret(self, reply: bytes, request: bytes | None = None) -> ProbeAnswer:
        import dns.flags
        import dns.message

        from adprep.wire import dns_probe

        errors = _dns_parse_errors()
        try:
            query = dns.message.from_wire(request) if request is not None else None
        except errors:  # a request we did not build; judge the reply alone
            query = None
        try:
            if query is None:
                # Without the request, accept any reply: match it against itself.
                query = dns.message.from_wire(reply, question_only=True)
                query.flags &= ~dns.flags.QR
            answer = dns_probe.parse_dns_reply(reply, query)
        except errors as e:
            return _unrecognised(self.service, "DNS", reply, e)
        facts: dict[str, FactValue] = {
            "rcode": answer.rcode,
            "authoritative": answer.authoritative,
            "truncated": answer.truncated,
            "recursion_available": answer.recursion_available,
            "answer_count": answer.answer_count,
            "question": answer.question,
        }
        if request is not None:
            facts["matches_request"] = True
        where = "authoritative" if answer.authoritative else "not authoritative"
        return ProbeAnswer(
            self.service,
            True,
            f"DNS server answered {answer.rcode} ({where}, {answer.answer_count} answers)",
            facts,
        )


# -- Kerberos, UDP 88 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KerberosProbe:
    """An AS-REQ for a random principal ``adprep-probe-<hex>``: any KRB-ERROR proves a KDC."""

    service: ClassVar[str] = "kerberos"

    def build(self, context: ProbeContext) -> bytes:
        from adprep.wire import kerberos

        realm = context.effective_realm
        if not realm:
            raise ValueError("the Kerberos probe needs a realm or a domain")
        principal = f"adprep-probe-{secrets.token_hex(4)}"
        return kerberos.build_as_req(realm, principal, secrets.randbits(31))

    def interpret(self, reply: bytes, request: bytes | None = None) -> ProbeAnswer:
        from adprep.wire import kerberos

        try:
            answer = kerberos.parse_kdc_reply(reply)
        except PARSE_ERRORS as e:
            return _unrecognised(self.service, "Kerberos", reply, e)
        facts: dict[str, FactValue] = {"kind": answer.kind, "realm": answer.realm}
        if answer.kind == "as-rep":
            return ProbeAnswer(self.service, True, f"KDC answered an AS-REP for realm {answer.realm}", facts)
        facts.update(
            error_code=answer.error_code,
            error_name=answer.error_name,
            server_time=_iso(answer.stime),
            server_principal=answer.server_principal,
            e_text=answer.e_text,
        )
        return ProbeAnswer(
            self.service,
            True,
            f"KDC answered KRB-ERROR {answer.error_code} {answer.error_name} (realm {answer.realm})",
            facts,
        )


# -- kpasswd, UDP 464 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KpasswdProbe:
    """A kpasswd request with a garbage AP-REQ (RFC 3244): a kpasswd server answers with an error."""

    service: ClassVar[str] = "kpasswd"

    def build(self, context: ProbeContext) -> bytes:
        from adprep.wire import kerberos

        return kerberos.build_kpasswd_probe()

    def interpret(self, reply: bytes, request: bytes | None = None) -> ProbeAnswer:
        from adprep.wire import kerberos

        try:
            answer = kerberos.parse_kpasswd_reply(reply)
        except PARSE_ERRORS as e:
            return _unrecognised(self.service, "kpasswd", reply, e)
        facts: dict[str, FactValue] = {"kind": answer.kind}
        if answer.error is None:
            return ProbeAnswer(self.service, True, "kpasswd server answered an AP-REP", facts)
        facts.update(
            realm=answer.error.realm,
            error_code=answer.error.error_code,
            server_time=_iso(answer.error.stime),
            server_principal=answer.error.server_principal,
            result_code=answer.result_code,
            result_name=answer.result_name,
            result_string=answer.result_string,
        )
        # Samba puts the kpasswd result code in the KRB-ERROR's error-code, so name the result.
        what = answer.result_name or f"KRB-ERROR {answer.error.error_code} {answer.error.error_name}"
        return ProbeAnswer(self.service, True, f"kpasswd server answered {what}", facts)


# -- CLDAP, UDP 389 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CldapProbe:
    """A netlogon ping (MS-ADTS 6.3.3) for the domain; any LDAP reply to it proves a CLDAP server."""

    service: ClassVar[str] = "cldap"

    def build(self, context: ProbeContext) -> bytes:
        from adprep.wire import cldap

        if not context.domain:
            raise ValueError("the CLDAP probe needs the domain's DNS name")
        return cldap.build_netlogon_ping(secrets.randbelow(0x7FFFFFFF) + 1, context.domain)

    def interpret(self, reply: bytes, request: bytes | None = None) -> ProbeAnswer:
        from adprep.wire import cldap

        ntver = int(cldap.DEFAULT_NTVER)
        sent_id: int | None = None
        if request is not None:
            try:
                sent_id, ntver = cldap.parse_netlogon_ping(request)
            except PARSE_ERRORS:  # a request we did not build; judge the reply alone
                sent_id = None
        try:
            # Any message id is a CLDAP server answering (a late reply to an earlier ping too);
            # whether it matches the ping sent is a fact.
            message_id = cldap.reply_message_id(reply)
            answer = cldap.parse_netlogon_reply(reply, message_id, ntver)
        except PARSE_ERRORS as e:
            return _unrecognised(self.service, "CLDAP", reply, e)
        facts: dict[str, FactValue] = {"result_code": answer.result_code}
        if request is not None:
            facts["matches_request"] = sent_id == message_id
        netlogon = answer.netlogon
        if netlogon is None:
            if answer.netlogon_error:
                facts["netlogon_error"] = answer.netlogon_error
                summary = "CLDAP server answered with a Netlogon value adprep cannot decode"
            else:
                summary = "CLDAP server answered with no entry: it does not serve this domain"
            return ProbeAnswer(self.service, True, summary, facts)
        facts.update(
            opcode=netlogon.opcode_name,
            flags=int(netlogon.flags),
            flag_names=list(netlogon.flag_names),
            domain_guid=str(netlogon.domain_guid),
            dns_forest_name=netlogon.dns_forest_name,
            dns_domain_name=netlogon.dns_domain_name,
            dns_host_name=netlogon.dns_host_name,
            netbios_domain_name=netlogon.netbios_domain_name,
            netbios_computer_name=netlogon.netbios_computer_name,
            dc_site_name=netlogon.dc_site_name,
            client_site_name=netlogon.client_site_name,
            next_closest_site_name=netlogon.next_closest_site_name,
            nt_version=netlogon.nt_version,
        )
        client_site = netlogon.client_site_name or "no site for this client address"
        return ProbeAnswer(
            self.service,
            True,
            f"DC {netlogon.dns_host_name} answered the LDAP ping for {netlogon.dns_domain_name}"
            f" (DC site {netlogon.dc_site_name}, client site: {client_site})",
            facts,
        )


# -- NTP, UDP 123 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NtpProbe:
    """An NTPv4 client request; a server reply (even kiss-o'-death) proves a time server."""

    service: ClassVar[str] = "ntp"

    def build(self, context: ProbeContext) -> bytes:
        from adprep.wire import ntp

        return ntp.build_ntp_request()

    def interpret(self, reply: bytes, request: bytes | None = None) -> ProbeAnswer:
        from adprep.wire import ntp

        try:
            answer = ntp.parse_ntp_reply(reply, request)
            if request is not None and not answer.origin_matches:
                # RFC 5905 §8: a reply whose origin timestamp is not the request's transmit timestamp is
                # bogus. adprep resends the same request on retries, so a late reply still matches.
                raise WireFormatError("An NTP-shaped reply whose origin timestamp does not echo the request.")
        except PARSE_ERRORS as e:
            return _unrecognised(self.service, "NTP", reply, e)
        facts: dict[str, FactValue] = {
            "version": answer.version,
            "stratum": answer.stratum,
            "leap": answer.leap,
            "reference_id": answer.reference_id,
            "transmit_time": _iso(answer.transmit_time),
            "kiss_of_death": answer.kiss_of_death,
            "synchronised": answer.synchronised,
        }
        if request is not None:
            facts["matches_request"] = answer.origin_matches
        if answer.kiss_of_death:
            summary = f"NTP server answered kiss-o'-death {answer.reference_id}"
        elif answer.synchronised:
            summary = f"NTP server answered (stratum {answer.stratum}, reference {answer.reference_id})"
        else:
            summary = f"NTP server answered but is not synchronised (stratum {answer.stratum})"
        return ProbeAnswer(self.service, True, summary, facts)


# -- NBNS, UDP 137 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NbnsProbe:
    """A node status request (``*``); Samba does not answer name queries for names it lacks."""

    service: ClassVar[str] = "nbns"

    def build(self, context: ProbeContext) -> bytes:
        from adprep.wire import nbns

        # A node status request gets an answer from any NetBIOS host; a name query for a name the
        # host does not hold gets silence from Samba 4.17, which would read as "open|filtered".
        return nbns.build_nbns_query("*", secrets.randbits(16))

    def interpret(self, reply: bytes, request: bytes | None = None) -> ProbeAnswer:
        from adprep.wire import nbns

        try:
            answer = nbns.parse_nbns_reply(reply)
        except PARSE_ERRORS as e:
            return _unrecognised(self.service, "NBNS", reply, e)
        facts: dict[str, FactValue] = {
            "rcode": answer.rcode_name,
            "authoritative": answer.authoritative,
            "queried_name": answer.queried_name,
            "addresses": list(answer.addresses),
            "names": [{"name": n.name, "suffix": n.suffix, "group": n.group} for n in answer.names],
        }
        if request is not None:
            facts["matches_request"] = request[:2] == reply[:2]
        if answer.names:
            listed = ", ".join(f"{n.name}<{n.suffix:02x}>" for n in answer.names[:4])
            summary = f"NetBIOS name service answered a node status: {listed}"
        else:
            summary = f"NetBIOS name service answered {answer.rcode_name}"
        return ProbeAnswer(self.service, True, summary, facts)


#: The UDP ports adprep can prove open, and their probes. Ports absent here (138, 445) have no
#: request/response protocol: the socket layer reports them ``unverifiable``.
UDP_PROBES: dict[int, UdpProbe] = {
    53: DnsProbe(),
    88: KerberosProbe(),
    123: NtpProbe(),
    137: NbnsProbe(),
    389: CldapProbe(),
    464: KpasswdProbe(),
}


def probe_for(port: int) -> UdpProbe | None:
    """The probe for a UDP port, or None when the port has no request/response protocol."""
    return UDP_PROBES.get(port)
