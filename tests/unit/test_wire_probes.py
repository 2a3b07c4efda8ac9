"""The UDP probe registry: recorded replies are recognised, anything else is data, never an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.wire import cldap
from adprep.wire.probes import (
    UDP_PROBES,
    CldapProbe,
    DnsProbe,
    KerberosProbe,
    KpasswdProbe,
    NbnsProbe,
    NtpProbe,
    ProbeAnswer,
    ProbeContext,
    probe_for,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wire"
CONTEXT = ProbeContext(domain="wire.test")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def assert_json(answer: ProbeAnswer) -> None:
    assert json.loads(json.dumps(answer.facts)) == answer.facts
    assert "\n" not in answer.summary


def test_registry_covers_the_ports_with_a_protocol() -> None:
    assert set(UDP_PROBES) == {53, 88, 123, 137, 389, 464}
    assert probe_for(138) is None and probe_for(445) is None
    assert {port: probe.service for port, probe in UDP_PROBES.items()} == {
        53: "dns",
        88: "kerberos",
        123: "ntp",
        137: "nbns",
        389: "cldap",
        464: "kpasswd",
    }


# -- what each probe sends -----------------------------------------------------------------------


def test_every_probe_builds_a_request_for_a_domain() -> None:
    for probe in UDP_PROBES.values():
        assert probe.build(CONTEXT)


def test_probes_that_need_the_domain_say_so() -> None:
    empty = ProbeContext()
    for probe in (CldapProbe(), KerberosProbe()):
        with pytest.raises(ValueError):
            probe.build(empty)
    assert DnsProbe().build(empty)  # a root NS query
    assert NbnsProbe().build(empty)


def test_realm_defaults_to_the_upper_cased_domain() -> None:
    assert ProbeContext(domain="corp.example.com.").effective_realm == "CORP.EXAMPLE.COM"
    assert ProbeContext(domain="a.b", realm="other.realm").effective_realm == "OTHER.REALM"
    assert ProbeContext().effective_realm is None


def test_kerberos_probe_asks_for_a_random_principal() -> None:
    first, second = KerberosProbe().build(CONTEXT), KerberosProbe().build(CONTEXT)
    assert first != second
    assert b"adprep-probe-" in first and b"WIRE.TEST" in first


def test_cldap_probe_pings_the_domain_with_the_default_ntver() -> None:
    message_id, ntver = cldap.parse_netlogon_ping(CldapProbe().build(CONTEXT))
    assert message_id > 0 and ntver == cldap.DEFAULT_NTVER


# -- recorded replies are recognised --------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "exchange", "summary"),
    [
        (53, "dns_samba_soa", "DNS server answered NOERROR (authoritative, 1 answers)"),
        (53, "dns_samba_root_ns", "DNS server answered FORMERR (not authoritative, 0 answers)"),
        (
            88,
            "kdc_samba_principal_unknown",
            "KDC answered KRB-ERROR 6 KDC_ERR_C_PRINCIPAL_UNKNOWN (realm WIRE.TEST)",
        ),
        (
            88,
            "kdc_samba_preauth_required",
            "KDC answered KRB-ERROR 25 KDC_ERR_PREAUTH_REQUIRED (realm WIRE.TEST)",
        ),
        (464, "kpasswd_samba_hard_error", "kpasswd server answered KRB5_KPASSWD_HARDERROR"),
        (
            389,
            "cldap_samba_ex",
            "DC wiredc.wire.test answered the LDAP ping for wire.test"
            " (DC site Default-First-Site-Name, client site: Default-First-Site-Name)",
        ),
        (
            389,
            "cldap_samba_other_domain",
            "CLDAP server answered with no entry: it does not serve this domain",
        ),
        (123, "ntp_handmade_stratum2", "NTP server answered (stratum 2, reference 192.0.2.1)"),
        (
            137,
            "nbns_samba_node_status",
            "NetBIOS name service answered a node status: WIREDC<00>, WIREDC<03>, WIREDC<20>, WIRE<1b>",
        ),
    ],
)
def test_recorded_replies_are_recognised(port: int, exchange: str, summary: str) -> None:
    # Given a request and the reply a real service (or a hand-made NTP server) sent
    request = fixture(f"{exchange}.request.bin")
    reply = fixture(f"{exchange}.reply.bin")

    # When the port's probe interprets the reply
    answer = UDP_PROBES[port].interpret(reply, request)

    # Then the service is proven to have answered
    assert answer.recognised
    assert answer.summary == summary
    assert answer.facts.get("matches_request", True) is True
    assert_json(answer)


def test_cldap_facts_carry_the_sites_and_flags() -> None:
    answer = CldapProbe().interpret(
        fixture("cldap_samba_ex.reply.bin"), fixture("cldap_samba_ex.request.bin")
    )
    assert answer.facts["client_site_name"] == "Default-First-Site-Name"
    assert answer.facts["dns_host_name"] == "wiredc.wire.test"
    flag_names = answer.facts["flag_names"]
    assert isinstance(flag_names, list) and "DS_KDC_FLAG" in flag_names


def test_replies_are_recognised_without_the_request() -> None:
    assert DnsProbe().interpret(fixture("dns_samba_soa.reply.bin")).recognised
    assert CldapProbe().interpret(fixture("cldap_samba_ex_with_ip.reply.bin")).recognised
    assert NbnsProbe().interpret(fixture("nbns_samba_name_query_dc.reply.bin")).recognised
    answer = NtpProbe().interpret(fixture("ntp_handmade_kod_rate.reply.bin"))
    assert answer.recognised and answer.summary == "NTP server answered kiss-o'-death RATE"


def test_a_reply_to_an_earlier_request_is_recognised_but_does_not_match() -> None:
    # Given replies to other pings/queries than the ones just sent (a late reply to a retry)
    cldap_answer = CldapProbe().interpret(fixture("cldap_samba_ex.reply.bin"), CldapProbe().build(CONTEXT))
    nbns_answer = NbnsProbe().interpret(
        fixture("nbns_samba_node_status.reply.bin"), fixture("nbns_samba_name_query_dc.request.bin")
    )

    # Then the service still answered, and the mismatch is a fact
    assert cldap_answer.recognised and cldap_answer.facts["matches_request"] is False
    assert nbns_answer.recognised and nbns_answer.facts["matches_request"] is False


def test_dns_reply_to_another_query_is_not_recognised() -> None:
    answer = DnsProbe().interpret(
        fixture("dns_samba_soa.reply.bin"), fixture("dns_samba_nxdomain.request.bin")
    )
    assert not answer.recognised


# -- anything else is data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "label"),
    [(53, "DNS"), (88, "Kerberos"), (123, "NTP"), (137, "NBNS"), (389, "CLDAP"), (464, "kpasswd")],
)
def test_garbage_is_not_recognised(port: int, label: str) -> None:
    answer = UDP_PROBES[port].interpret(b"\xff" * 17, UDP_PROBES[port].build(CONTEXT))
    assert not answer.recognised
    assert answer.summary == f"answered with something that is not {label} (17 bytes)"
    assert answer.facts["length"] == 17
    assert "error" in answer.facts
    assert_json(answer)


def test_a_reply_from_the_wrong_service_is_not_recognised() -> None:
    # A KRB-ERROR arriving on the CLDAP port, a CLDAP reply on the Kerberos port
    assert not CldapProbe().interpret(fixture("kdc_samba_principal_unknown.reply.bin")).recognised
    assert not KerberosProbe().interpret(fixture("cldap_samba_ex.reply.bin")).recognised
    assert not KpasswdProbe().interpret(fixture("dns_samba_soa.reply.bin")).recognised


@pytest.mark.parametrize(
    "exchange",
    [
        "cldap_samba_ex",
        "kdc_samba_preauth_required",
        "kpasswd_samba_hard_error",
        "nbns_samba_node_status",
        "dns_samba_soa",
        "ntp_handmade_stratum2",
    ],
)
def test_truncated_replies_never_raise(exchange: str) -> None:
    reply = fixture(f"{exchange}.reply.bin")
    request = fixture(f"{exchange}.request.bin")
    for probe in UDP_PROBES.values():
        for cut in range(len(reply)):
            answer = probe.interpret(reply[:cut], request)
            assert isinstance(answer, ProbeAnswer)
            assert_json(answer)


@given(
    st.sampled_from(sorted(UDP_PROBES)), st.binary(max_size=300), st.one_of(st.none(), st.binary(max_size=80))
)
def test_interpret_never_raises(port: int, reply: bytes, request: bytes | None) -> None:
    answer = UDP_PROBES[port].interpret(reply, request)
    assert isinstance(answer, ProbeAnswer)
    assert_json(answer)
