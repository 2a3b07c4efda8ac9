"""Port verdicts from probe facts (pure)."""

from __future__ import annotations

from adprep import requirements as req
from adprep.checks.ports import check_tcp_port
from adprep.facts.ports import TcpProbe
from adprep.model import Status


def test_open_port_passes() -> None:
    # Given a completed handshake
    probe = TcpProbe("10.0.0.10", 389, "open", 1.2, source="10.0.0.5")
    # When it is checked
    result = check_tcp_port(probe)
    # Then it passes under a stable id, with no remedy
    assert result.id == "ports.tcp.10.0.0.10.389"
    assert result.status is Status.PASS
    assert result.facts["verdict"] == "open"
    assert result.remedy is None and result.adc_error is None


def test_refused_ldap_is_closed_with_connectivity_error_text() -> None:
    result = check_tcp_port(TcpProbe("10.0.0.10", 389, "refused", 0.3, errno_name="ECONNREFUSED"))
    assert result.status is Status.FAIL
    assert result.facts["verdict"] == "closed"
    assert result.adc_error == req.ADC_CONNECTIVITY.format(ip="10.0.0.10")
    assert "LDAP" in (result.remedy or "")


def test_silent_dns_is_filtered_with_dns_unavailable_text_and_direction() -> None:
    result = check_tcp_port(TcpProbe("10.0.0.10", 53, "timeout", 2000.0))
    assert result.status is Status.FAIL
    assert result.facts["verdict"] == "filtered"
    assert result.adc_error == "DNS unavailable (TCP port 53) for IP: 10.0.0.10"
    assert "from the AD Connector subnets to 10.0.0.10" in (result.remedy or "")


def test_no_route_is_an_error_not_a_failure() -> None:
    result = check_tcp_port(TcpProbe("10.0.0.10", 88, "error", 0.1, errno_name="ENETUNREACH"))
    assert result.status is Status.ERROR
    assert "ENETUNREACH" in (result.remedy or "")


def test_advisory_port_warns() -> None:
    result = check_tcp_port(TcpProbe("10.0.0.10", 9389, "refused", 0.1), advisory=True)
    assert result.status is Status.WARN
    assert result.adc_error is None


def _cldap(address: str, client_site: str | None) -> object:
    from adprep.facts.exchanges import UdpExchange, UdpProbeFact
    from adprep.wire.probes import ProbeAnswer

    facts = {"dns_host_name": "dc1.corp.example.com", "dc_site_name": "HQ", "client_site_name": client_site}
    return UdpProbeFact(address, 389, UdpExchange(address, 389, "reply", 1.0, 1, b"x"),
                        ProbeAnswer("cldap", True, "DC answered", facts))  # type: ignore[arg-type]  # fmt: skip


def test_client_site_known_passes_and_missing_warns() -> None:
    from adprep.checks.ports import check_client_sites

    # Given CLDAP replies, one naming this host's site and one naming none
    results = check_client_sites([_cldap("10.0.0.10", "HQ"), _cldap("10.0.0.11", None)])  # type: ignore[list-item]
    # Then the first passes and the second warns with the fix (subnets into a site)
    assert [(r.id, r.status) for r in results] == [
        ("dcs.site.10.0.0.10", Status.PASS),
        ("dcs.site.10.0.0.11", Status.WARN),
    ]
    assert "Sites and Services" in (results[1].remedy or "")
