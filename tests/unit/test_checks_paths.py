"""Path verdicts across vantages (pure): a difference names the vantage, the source and what lies between."""

from __future__ import annotations

import ipaddress

from adprep import requirements as req
from adprep.checks.paths import check_paths, check_subnet, tag_result
from adprep.model import CheckResult, Status


def port(label: str, verdict: str, status: Status) -> CheckResult:
    r = CheckResult(
        "ports.tcp.10.0.0.10.389",
        status,
        f"TCP 389 (LDAP) on 10.0.0.10: {verdict}",
        {"verdict": verdict, "protocol": "tcp", "port": 389},
        adc_error=None if status is Status.PASS else req.adc_error_for_port("tcp", 389, "10.0.0.10"),
        target="10.0.0.10",
    )
    return tag_result(r, label, suffix=True)


SOURCES = {"on-prem": {"10.0.0.10": "10.0.5.5"}, "subnet-a": {"10.0.0.10": "10.1.1.23"}}


def test_a_dropped_path_is_named_with_its_vantage_source_and_adc_error() -> None:
    # Given LDAP open from on-prem and filtered from subnet-a
    results = [port("on-prem", "open", Status.PASS), port("subnet-a", "filtered", Status.FAIL)]
    # When the paths are compared
    out = check_paths(results, ["on-prem", "subnet-a"], SOURCES)
    # Then a summary fails and one result says where the traffic is dropped
    summary, diff = out
    assert summary.id == "paths.summary" and summary.status is Status.FAIL
    assert diff.id == "paths.ports.tcp.10.0.0.10.389"
    assert diff.title == (
        "TCP 389 to 10.0.0.10: open from on-prem (source 10.0.5.5), filtered from subnet-a (source 10.1.1.23): "
        "a firewall or security group between subnet-a and 10.0.0.10 drops it"
    )
    assert diff.adc_error and "LDAP unavailable (TCP port 389)" in diff.adc_error
    assert diff.facts["differs_from"] == ["subnet-a"]


def test_same_verdicts_everywhere_is_a_pass_summary_only() -> None:
    results = [port("on-prem", "open", Status.PASS), port("subnet-a", "open", Status.PASS)]
    out = check_paths(results, ["on-prem", "subnet-a"], SOURCES)
    assert [(r.id, r.status) for r in out] == [("paths.summary", Status.PASS)]


def test_failing_everywhere_is_not_a_path_difference() -> None:
    # Closed from both: the service is down, no firewall between the vantages to name.
    results = [port("on-prem", "closed", Status.FAIL), port("subnet-a", "closed", Status.FAIL)]
    assert [r.id for r in check_paths(results, ["on-prem", "subnet-a"], SOURCES)] == ["paths.summary"]


def test_radius_silence_from_one_subnet_means_an_unregistered_client() -> None:
    ok = CheckResult(
        "radius.probe.10.0.0.5", Status.PASS, "answered", {"outcome": "reject"}, target="10.0.0.5"
    )
    silent = CheckResult("radius.probe.10.0.0.5", Status.FAIL, "no response", {"outcome": "no_response"},
                         target="10.0.0.5")  # fmt: skip
    results = [tag_result(ok, "subnet-a", suffix=True), tag_result(silent, "subnet-b", suffix=True)]
    diff = check_paths(results, ["subnet-a", "subnet-b"], {})[1]
    assert "subnet-b's address is not a registered RADIUS client of 10.0.0.5" in diff.title


def test_subnet_proof() -> None:
    net = ipaddress.ip_network("10.1.1.0/24")
    assert check_subnet("subnet-a", net, {"10.0.0.10": "10.1.1.23"}).status is Status.PASS
    outside = check_subnet("subnet-a", net, {"10.0.0.10": "10.9.9.9"})
    assert outside.status is Status.ERROR and "did not prove that subnet's path" in outside.title
    assert check_subnet("subnet-a", net, {}).status is Status.ERROR
