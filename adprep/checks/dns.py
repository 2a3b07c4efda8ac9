"""DNS/SRV verdicts, reproducing AD Connector's discovery (pure).

For each DNS IP the user gives, over UDP and over TCP 53: the server answers; ``_ldap._tcp`` and
``_kerberos._tcp`` exist; their targets resolve; LDAP and Kerberos targets share at least one DC.
Across servers: they name the same DCs.
"""

from __future__ import annotations

from dataclasses import dataclass

from adprep import requirements as req
from adprep.catalogue import check_id
from adprep.facts.dns import REQUIRED_SRV, SRV_QUERIES, DnsFacts, DnsView
from adprep.model import CheckResult, ErrorReason, FactValue, Status

_ANSWERED = ("answer", "nxdomain", "nodata", "servfail", "refused")
_NAMES = {"ldap_tcp": "LDAP", "kerberos_tcp": "Kerberos"}
#: A query that got no usable answer: "error" is a malformed reply (or this host's resolver unusable).
_ERROR_REASONS = {
    "timeout": ErrorReason.TIMEOUT,
    "unreachable": ErrorReason.UNREACHABLE,
    "error": ErrorReason.MALFORMED,
}


@dataclass(frozen=True)
class DiscoveredDc:
    host: str
    addresses: tuple[str, ...]
    ldap: bool
    kerberos: bool
    named_by: tuple[str, ...]
    """The DNS servers that returned it."""


def _answered(view: DnsView) -> bool:
    return any(a.outcome in _ANSWERED for a in view.srv.values())


def _targets(view: DnsView, key: str) -> set[str]:
    return {r.target for r in view.srv[key].srv}


def _srv_id(key: str, ip: str, proto: str) -> str:
    """``dns.srv.<record>.<address>.<proto>``: the two records AD Connector needs are checks of their own."""
    if key in ("ldap_tcp", "kerberos_tcp"):
        return check_id(f"dns.srv.{key}.<address>.<proto>", address=ip, proto=proto)
    return check_id("dns.srv.<record>.<address>.<proto>", record=key, address=ip, proto=proto)


def check_dns(facts: DnsFacts) -> list[CheckResult]:
    """Every server's verdicts over UDP and TCP (reach, SRV records, their targets, a DC in common),
    then whether the servers agree."""
    results: list[CheckResult] = []
    for view in facts.views:
        results.extend(_check_view(facts.domain, view))
    results.extend(_check_agreement(facts))
    return results


def _check_view(domain: str, view: DnsView) -> list[CheckResult]:
    ip, proto, p = view.server, view.proto, view.proto.upper()
    out: list[CheckResult] = []
    reach_id = check_id("dns.server.<address>.<proto>", address=ip, proto=proto)
    if not _answered(view):
        detail = next((a.detail for a in view.srv.values() if a.detail), "no answer")
        malformed = any(a.outcome == "error" for a in view.srv.values())
        out.append(
            CheckResult(
                reach_id,
                Status.FAIL,
                f"DNS server {ip} answered over {p} 53 with a malformed reply, not DNS ({detail})"
                if malformed
                else f"DNS server {ip} does not answer over {p} 53 ({detail})",
                {"outcome": view.srv["ldap_tcp"].outcome, "detail": detail},
                remedy=f"Allow {p} 53 from the AD Connector subnets to {ip}, and check that {ip} runs a DNS server "
                f"that serves {domain}.",
                adc_error=req.ADC_DNS_UNAVAILABLE.format(ip=ip),
                target=ip,
            )
        )
        return out
    out.append(CheckResult(reach_id, Status.PASS, f"DNS server {ip} answers over {p} 53", {}, target=ip))
    out.extend(_check_srv(domain, view, key) for key in SRV_QUERIES)
    out.extend(_check_srv_targets(view))
    out.extend(_check_common_dc(view))
    return out


def _check_srv(domain: str, view: DnsView, key: str) -> CheckResult:
    """One SRV record set on one server: present (pass), lost on the way (error), absent (fail if AD
    Connector needs it, else warn)."""
    ip, proto, p = view.server, view.proto, view.proto.upper()
    a = view.srv[key]
    qname = SRV_QUERIES[key].format(domain=domain)
    cid = _srv_id(key, ip, proto)
    facts: dict[str, FactValue] = {
        "qname": qname,
        "outcome": a.outcome,
        "records": [f"{r.priority} {r.weight} {r.port} {r.target}" for r in a.srv],
        "elapsed_ms": a.elapsed_ms,
    }
    if a.outcome == "answer" and a.srv:
        return CheckResult(cid, Status.PASS, f"{qname} SRV from {ip} over {p}: {len(a.srv)} record(s)", facts,
                           target=ip)  # fmt: skip
    if a.outcome in ("timeout", "unreachable", "error"):
        return CheckResult(cid, Status.ERROR, f"{qname} SRV from {ip} over {p}: {a.outcome}", facts,
                           remedy=a.detail, target=ip, reason=_ERROR_REASONS[a.outcome])  # fmt: skip
    if key in REQUIRED_SRV:
        adc = (req.ADC_SRV_LDAP_MISSING if key == "ldap_tcp" else req.ADC_SRV_KERBEROS_MISSING).format(ip=ip)
        return CheckResult(
            cid,
            Status.FAIL,
            f"{qname} SRV does not exist on {ip} ({p}: {a.outcome})",
            facts,
            remedy=f"Register the DC locator records of {domain} in the zone served by {ip} (on a Windows DC: "
            "restart the Netlogon service, or run 'nltest /dsregdns'; on Samba: 'samba_dnsupdate'); "
            f"if {ip} forwards, make it forward {domain} to the domain's DNS servers.",
            adc_error=adc,
            target=ip,
        )
    return CheckResult(
        cid,
        Status.WARN,
        f"{qname} SRV does not exist on {ip} ({p}: {a.outcome})",
        facts,
        remedy=f"AD Connector does not need {qname}, but Windows clients and WorkSpaces domain join look "
        "it up: register the DC locator records.",
        target=ip,
    )


def _check_srv_targets(view: DnsView) -> list[CheckResult]:
    """The LDAP and Kerberos SRV targets must resolve, from the same server (none named: no verdict)."""
    ip, proto, p = view.server, view.proto, view.proto.upper()
    targets = _targets(view, "ldap_tcp") | _targets(view, "kerberos_tcp")
    if not targets:
        return []
    unresolved = sorted(h for h in targets if not view.hosts.get(h))
    cid = check_id("dns.srv_targets.<address>.<proto>", address=ip, proto=proto)
    resolved: dict[str, FactValue] = {h: list(view.hosts.get(h) or ()) for h in sorted(targets)}
    if unresolved:
        return [CheckResult(cid, Status.FAIL, f"SRV targets without an address on {ip} ({p}): {', '.join(unresolved)}",
                            {"addresses": resolved},
                            remedy=f"Add A records for {', '.join(unresolved)} in the zone {ip} serves.",
                            adc_error=req.ADC_INTERNAL_ERROR, target=ip)]  # fmt: skip
    return [CheckResult(cid, Status.PASS, f"Every SRV target resolves on {ip} ({p})", {"addresses": resolved},
                        target=ip)]  # fmt: skip


def dcs_in_common(ldap_targets: set[str], kerberos_targets: set[str]) -> list[str]:
    """AD Connector's "one DC in common" rule: the DCs named by both the ``_ldap._tcp`` and the
    ``_kerberos._tcp`` SRV records (it needs at least one that serves both), sorted."""
    return sorted(ldap_targets & kerberos_targets)


def _check_common_dc(view: DnsView) -> list[CheckResult]:
    """The "one DC in common" rule on one server's answers (no verdict unless both record sets exist)."""
    ip, proto, p = view.server, view.proto, view.proto.upper()
    ldap, krb = _targets(view, "ldap_tcp"), _targets(view, "kerberos_tcp")
    if not (ldap and krb):
        return []
    common = dcs_in_common(ldap, krb)
    cid = check_id("dns.common_dc.<address>.<proto>", address=ip, proto=proto)
    facts: dict[str, FactValue] = {
        "ldap_targets": sorted(ldap),
        "kerberos_targets": sorted(krb),
        "common": common,
    }
    if common:
        return [CheckResult(cid, Status.PASS, f"LDAP and Kerberos SRV records on {ip} share {len(common)} DC(s)",
                            facts, target=ip)]  # fmt: skip
    return [
        CheckResult(
            cid,
            Status.FAIL,
            f"No DC is in both the LDAP and the Kerberos SRV records on {ip} ({p})",
            facts,
            remedy="AD Connector needs at least one DC that serves both LDAP and Kerberos: fix the SRV records "
            "so that the same DC names appear in _ldap._tcp and _kerberos._tcp.",
            adc_error=req.ADC_INTERNAL_ERROR,
            target=ip,
        )
    ]


def _check_agreement(facts: DnsFacts) -> list[CheckResult]:
    """The servers (and each server's UDP and TCP answers) should name the same DCs."""
    sets: dict[str, list[str]] = {}
    for view in facts.views:
        if _answered(view):
            sets[f"{view.server}/{view.proto}"] = dcs_in_common(
                _targets(view, "ldap_tcp"), _targets(view, "kerberos_tcp")
            )
    if len(sets) < 2:
        return []
    distinct = {tuple(v) for v in sets.values()}
    if len(distinct) == 1:
        return [CheckResult(check_id("dns.consistent"), Status.PASS, "All DNS servers name the same DCs over UDP and TCP",
                            {"dcs": sets}, target=None)]  # fmt: skip
    return [
        CheckResult(
            check_id("dns.consistent"),
            Status.WARN,
            "The DNS servers (or UDP and TCP answers) name different DCs",
            {"dcs": sets},
            remedy="AD Connector may then find different DCs depending on which DNS server it asks: make the "
            "zones agree (replication between the DNS servers, or the same forwarders).",
        )
    ]


def discovered_dcs(facts: DnsFacts) -> tuple[DiscoveredDc, ...]:
    """The DCs the SRV records name, with their addresses, in a stable order."""
    addresses: dict[str, list[str]] = {}
    services: dict[str, set[str]] = {}
    named_by: dict[str, list[str]] = {}
    for view in facts.views:
        for key in ("ldap_tcp", "kerberos_tcp"):
            for host in _targets(view, key):
                services.setdefault(host, set()).add(key)
                known = addresses.setdefault(host, [])
                known.extend(a for a in view.hosts.get(host) or () if a not in known)
                servers = named_by.setdefault(host, [])
                if view.server not in servers:
                    servers.append(view.server)
    return tuple(
        DiscoveredDc(
            host=host,
            addresses=tuple(addresses[host]),
            ldap="ldap_tcp" in services[host],
            kerberos="kerberos_tcp" in services[host],
            named_by=tuple(named_by[host]),
        )
        for host in sorted(services)
    )
