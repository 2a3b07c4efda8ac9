"""What a run covered: the port profile's scope against WorkSpaces' whole list, ICMP echo verdicts and
a preflight without a service account (pure)."""

from __future__ import annotations

import pytest

from adprep import requirements as req
from adprep.checks.account import NEEDS_ACCOUNT, NO_ACCOUNT_REASON, check_without_account
from adprep.checks.ports import check_icmp_echo, check_port_scope
from adprep.facts.exchanges import IcmpEcho
from adprep.model import Status


def test_the_default_profile_names_what_it_leaves_untested() -> None:
    # Given the default profile, AD Connector's minimum
    result = check_port_scope(req.PORT_PROFILES[req.DEFAULT_PORT_PROFILE])
    # Then the scope names it and lists everything of WorkSpaces' list it did not test
    assert result.id == "ports.scope" and result.status is Status.SKIP
    assert "profile adc-minimum (AD Connector's minimum)" in result.title
    assert result.facts["untested"] == [
        "TCP 135", "TCP 139", "TCP 445", "TCP 464", "TCP 636", "TCP 3268", "TCP 3269",
        "UDP 123", "UDP 137", "UDP 138", "UDP 445", "UDP 464", "dynamic RPC", "ICMP echo",
    ]  # fmt: skip
    assert "--profile workspaces" in (result.remedy or "")


def test_the_workspaces_profile_covers_the_whole_list() -> None:
    result = check_port_scope(req.PORT_PROFILES[req.WORKSPACES_PROFILE])
    assert result.status is Status.PASS and result.facts["untested"] == []


def test_the_workspaces_profile_is_the_guides_union() -> None:
    # The 2016 guide's Requirements list and its WorkSpaces Security Group rules towards the DCs
    requirements_tcp, requirements_udp = {53, 88, 135, 139, 389, 445}, {53, 88, 123, 137, 138, 389, 445}
    security_group_tcp, security_group_udp = {53, 88, 135, 389, 445, 464, 636, 3268, 3269}, {53, 88, 123, 138,
                                                                                            389, 445, 464}  # fmt: skip
    profile = req.PORT_PROFILES[req.WORKSPACES_PROFILE]
    assert set(profile.tcp) == requirements_tcp | security_group_tcp
    assert set(profile.udp) == requirements_udp | security_group_udp
    assert profile.icmp


def test_dynamic_rpc_is_untested_without_the_endpoint_mapper() -> None:
    result = check_port_scope(req.PORT_PROFILES[req.WORKSPACES_PROFILE], rpc=False)
    assert result.facts["untested"] == ["dynamic RPC"]


def test_hand_picked_ports_are_measured_against_the_list_too() -> None:
    full = req.PORT_PROFILES[req.WORKSPACES_PROFILE]
    result = check_port_scope(None, tcp=full.tcp, udp=full.udp)
    assert result.facts["profile"] == "custom" and result.facts["untested"] == ["ICMP echo"]


@pytest.mark.parametrize(
    ("echo", "status", "verdict"),
    [
        (IcmpEcho("10.0.0.10", "reply", 0.4, 1, socket_kind="raw"), Status.PASS, "open"),
        (IcmpEcho("10.0.0.10", "silent", 2000.0, 3), Status.WARN, "filtered"),
        (IcmpEcho("10.0.0.10", "unreachable", 1.0, 1, "host administratively prohibited"), Status.WARN, "closed"),
        (IcmpEcho("10.0.0.10", "not_allowed", detail="this host allows neither"), Status.SKIP, "untested"),
        (IcmpEcho("10.0.0.10", "not_carried", detail="the relay at subnet-a carries no ICMP"), Status.SKIP,
         "untested"),
        (IcmpEcho("10.0.0.10", "error", detail="EINVAL"), Status.ERROR, "error"),
    ],
)  # fmt: skip
def test_icmp_echo_verdicts(echo: IcmpEcho, status: Status, verdict: str) -> None:
    result = check_icmp_echo(echo)
    assert result.id == "ports.icmp.10.0.0.10" and result.target == "10.0.0.10"
    assert result.status is status and result.facts["verdict"] == verdict
    if status is not Status.PASS:
        assert result.remedy


def test_a_relay_says_why_icmp_was_not_tested() -> None:
    result = check_icmp_echo(
        IcmpEcho("10.0.0.10", "not_carried", detail="the relay at subnet-a carries no ICMP")
    )
    assert "relay" in result.title and "subnet-a" in (result.remedy or "")


def test_without_an_account_every_account_check_is_a_skip_with_the_reason() -> None:
    # Given a preflight without --user
    results = check_without_account("10.0.0.10")
    ids = [r.id for r in results]
    # Then every check that needs the bind is skipped, with the reason, and account.scope says so once
    assert ids == [*(cid for cid, _ in NEEDS_ACCOUNT), "account.scope"]
    assert all(r.status is Status.SKIP and r.facts["reason"] == NO_ACCOUNT_REASON for r in results)
    assert {"account.bind", "account.kerberos", "directory.vlv.search", "gpo.scan"} <= set(ids)
    assert not {"directory.functional_level.forest", "directory.time_skew.10.0.0.10"} & set(ids)
