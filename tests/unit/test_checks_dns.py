"""DNS/SRV verdicts from hand-built facts (pure)."""

from __future__ import annotations

from adprep import requirements as req
from adprep.checks.dns import check_dns, discovered_dcs
from adprep.facts.dns import SRV_QUERIES, DnsAnswer, DnsFacts, DnsProto, DnsView, SrvRecord
from adprep.model import Status

DOMAIN = "corp.example.com"


def srv(*targets: str) -> DnsAnswer:
    recs = tuple(SrvRecord(0, 100, 389, t) for t in targets)
    return DnsAnswer("10.0.0.2", "udp", "q", "SRV", "answer" if recs else "nxdomain", 1.0, srv=recs)


def view(server: str, proto: DnsProto, *, ldap=("dc1.corp.example.com",), krb=("dc1.corp.example.com",),
         hosts=None, dead=False) -> DnsView:  # type: ignore[no-untyped-def]  # fmt: skip
    answers = {k: srv("dc1.corp.example.com") for k in SRV_QUERIES}
    answers["ldap_tcp"] = srv(*ldap)
    answers["kerberos_tcp"] = srv(*krb)
    if dead:
        answers = {
            k: DnsAnswer(server, proto, "q", "SRV", "timeout", 2000.0, detail="no answer within 2 s")
            for k in SRV_QUERIES
        }
    if hosts is None:
        hosts = {h: ("10.0.0.10",) for h in (*ldap, *krb)}
    return DnsView(server, proto, answers, hosts)


def by_id(facts: DnsFacts) -> dict[str, object]:
    return {r.id: r for r in check_dns(facts)}


def test_healthy_server_passes_everything() -> None:
    facts = DnsFacts(DOMAIN, ("10.0.0.2",), (view("10.0.0.2", "udp"), view("10.0.0.2", "tcp")))
    results = check_dns(facts)
    assert all(r.status is Status.PASS for r in results), [r for r in results if r.status is not Status.PASS]
    ids = {r.id for r in results}
    assert {
        "dns.server.10.0.0.2.tcp",
        "dns.srv.ldap_tcp.10.0.0.2.udp",
        "dns.common_dc.10.0.0.2.tcp",
        "dns.consistent",
    } <= ids
    (dc,) = discovered_dcs(facts)
    assert dc.addresses == ("10.0.0.10",) and dc.ldap and dc.kerberos


def test_tcp_53_blocked_gives_dns_unavailable_text() -> None:
    facts = DnsFacts(DOMAIN, ("10.0.0.2",), (view("10.0.0.2", "udp"), view("10.0.0.2", "tcp", dead=True)))
    r = by_id(facts)["dns.server.10.0.0.2.tcp"]
    assert r.status is Status.FAIL  # type: ignore[attr-defined]
    assert r.adc_error == "DNS unavailable (TCP port 53) for IP: 10.0.0.2"  # type: ignore[attr-defined]
    assert by_id(facts)["dns.server.10.0.0.2.udp"].status is Status.PASS  # type: ignore[attr-defined]


def test_missing_ldap_srv_gives_the_verbatim_text() -> None:
    facts = DnsFacts(DOMAIN, ("10.0.0.2",), (view("10.0.0.2", "udp", ldap=()),))
    r = by_id(facts)["dns.srv.ldap_tcp.10.0.0.2.udp"]
    assert r.status is Status.FAIL  # type: ignore[attr-defined]
    assert r.adc_error == req.ADC_SRV_LDAP_MISSING.format(ip="10.0.0.2")  # type: ignore[attr-defined]


def test_no_common_dc_fails_with_internal_error() -> None:
    facts = DnsFacts(
        DOMAIN,
        ("10.0.0.2",),
        (view("10.0.0.2", "udp", ldap=("a.corp.example.com",), krb=("b.corp.example.com",)),),
    )
    r = by_id(facts)["dns.common_dc.10.0.0.2.udp"]
    assert r.status is Status.FAIL  # type: ignore[attr-defined]
    assert r.adc_error == req.ADC_INTERNAL_ERROR  # type: ignore[attr-defined]


def test_unresolvable_target_and_disagreeing_servers() -> None:
    v1 = view("10.0.0.2", "udp", hosts={"dc1.corp.example.com": ()})
    v2 = view("10.0.0.3", "udp", ldap=("dc9.corp.example.com",), krb=("dc9.corp.example.com",))
    results = by_id(DnsFacts(DOMAIN, ("10.0.0.2", "10.0.0.3"), (v1, v2)))
    assert results["dns.srv_targets.10.0.0.2.udp"].status is Status.FAIL  # type: ignore[attr-defined]
    assert results["dns.consistent"].status is Status.WARN  # type: ignore[attr-defined]
