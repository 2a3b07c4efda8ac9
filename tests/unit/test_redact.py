"""Redaction (--redact): every name and address becomes a stable token that says what it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema

from adprep.model import CheckResult, Report, Status, Vantage
from adprep.render.json import render_json
from adprep.render.redact import Redactor, redact_report
from tests.conftest import REPO

SCHEMA = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())
T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

DC1, DC2, DNS, SRC_A, SRC_B = "10.0.0.10", "10.0.0.11", "10.0.0.53", "10.1.1.23", "10.1.2.40"


def vantage_report() -> Report:
    """A preflight from this host and two subnets, shaped like a real one (see the lab tests)."""
    vantages = (
        Vantage(host="jump01", label="on-prem", source_addresses={DC1: "10.0.5.5"}),
        Vantage(host="jump01", label="subnet-a", source_addresses={DC1: SRC_A}, via="ssh://ec2-user@10.1.1.23",
                subnet="10.1.1.0/24", relay={"impl": "python", "version": "3.9.16", "host": "ip-10-1-1-23"}),
        Vantage(host="jump01", label="subnet-b", source_addresses={DC1: SRC_B}, via="ssh://bastion-b.corp.example.com",
                subnet="10.1.2.0/24"),
    )  # fmt: skip
    results = (
        CheckResult("dns.srv.ldap_tcp.10.0.0.53.udp@subnet-a", Status.PASS,
                    "_ldap._tcp.corp.example.com SRV from 10.0.0.53 over UDP: 2 record(s)",
                    {"qname": "_ldap._tcp.corp.example.com",
                     "records": ["0 100 389 dc01.corp.example.com", "0 100 389 dc02.corp.example.com"]},
                    target=DNS, vantage="subnet-a"),
        CheckResult("dcs.found", Status.PASS, "2 domain controller(s) to check",
                    {"dcs": ["dc01.corp.example.com (10.0.0.10)", "dc02.corp.example.com (10.0.0.11)"]}),
        CheckResult("ports.udp.10.0.0.10.389@subnet-a", Status.PASS,
                    "UDP 389 on 10.0.0.10: open: DC dc01.corp.example.com answered the LDAP ping for corp.example.com "
                    "(DC site Frankfurt, client site: Default-First-Site-Name)",
                    {"verdict": "open", "dns_domain_name": "corp.example.com", "dns_host_name": "dc01.corp.example.com",
                     "netbios_domain_name": "CORP", "netbios_computer_name": "DC01", "dc_site_name": "Frankfurt",
                     "client_site_name": "Default-First-Site-Name"},
                    target=DC1, vantage="subnet-a"),
        CheckResult("ports.tcp.10.0.0.10.389@subnet-b", Status.FAIL, "TCP 389 (LDAP) on 10.0.0.10: filtered",
                    {"verdict": "filtered", "elapsed_ms": 2001.0}, remedy="Allow TCP 389 from 10.1.2.0/24.",
                    adc_error="Connectivity issues detected: LDAP unavailable (TCP port 389) for IP: 10.0.0.10",
                    target=DC1, vantage="subnet-b"),
        CheckResult("ports.tcp.10.0.0.11.389@subnet-b", Status.PASS, "TCP 389 (LDAP) on 10.0.0.11: open",
                    {"verdict": "open"}, target=DC2, vantage="subnet-b"),
        CheckResult("account.bind", Status.PASS, "Bound as svc-adc@corp.example.com over LDAPS",
                    {"bind_name": "svc-adc@corp.example.com"}, target=DC1),
        CheckResult("account.state", Status.PASS, "The service account is enabled",
                    {"dn": "CN=svc-adc,OU=Service Accounts,OU=Berlin,DC=corp,DC=example,DC=com"}, target=DC1),
        CheckResult("account.rights.create_computer", Status.FAIL,
                    "The service account may not create computer objects in "
                    "OU=WorkSpaces,OU=Berlin,DC=corp,DC=example,DC=com",
                    {"container": "OU=WorkSpaces,OU=Berlin,DC=corp,DC=example,DC=com"},
                    remedy="Delegate the rights to the account's group (adprep delegate).", target=DC1),
        CheckResult("account.kerberos", Status.PASS, "Kerberos: svc-adc@CORP.EXAMPLE.COM got a ticket from 10.0.0.10",
                    {"kdc": DC1, "principal": "svc-adc@CORP.EXAMPLE.COM"}, target=DC1),
        CheckResult("directory.preauth", Status.WARN, "1 account does not require Kerberos pre-authentication",
                    {"accounts": ["jdoe"]}, remedy="Clear DONT_REQ_PREAUTH on CORP\\jdoe in Amazon WorkSpaces."),
        CheckResult("radius.probe.10.0.0.5", Status.PASS, "10.0.0.5:1812 rejected 'fakeusername' in PAP",
                    {"user": "fakeusername", "address": "10.0.0.5", "source_address": "10.0.5.5"},
                    target="10.0.0.5"),
    )  # fmt: skip
    return Report(
        command="preflight", tool_version="0.0.0-test", started_at=T, finished_at=T,
        vantage=Vantage(host="jump01", source_addresses={DC1: "10.0.5.5"}),
        targets=("corp.example.com", DNS), results=results, vantages=vantages,
    )  # fmt: skip


ORIGINALS = (
    DC1, DC2, DNS, SRC_A, SRC_B, "10.0.5.5", "10.1.1.0", "10.1.2.0", "10.0.0.5",
    "corp.example.com", "dc01", "dc02", "jump01", "ip-10-1-1-23", "bastion-b", "svc-adc", "jdoe", "ec2-user",
    "DC=corp", "Service Accounts", "OU=Berlin", "Frankfurt",
)  # fmt: skip


def test_no_name_or_address_survives_and_the_result_still_matches_the_schema() -> None:
    # Given a report from several vantages full of names, addresses and DNs
    report = vantage_report()
    # When it is redacted and rendered as JSON
    text = render_json(redact_report(report), exit_status=1)
    # Then no original value is left, whatever its case, and the JSON is still a valid report
    for value in ORIGINALS:
        assert value.casefold() not in text.casefold(), value
    assert "CORP" not in text.replace("CORP.", "")  # the NetBIOS domain name too
    data = json.loads(text)
    jsonschema.validate(data, SCHEMA)
    assert data["redacted"] is True


def test_tokens_name_roles_and_stay_the_same_everywhere() -> None:
    # When the report is redacted
    r = {x.id: x for x in redact_report(vantage_report()).results}
    # Then domain controllers, DNS servers, RADIUS servers and sources get tokens by role
    failed = r["ports.tcp.DC-1.389@subnet-b"]
    assert failed.title == "TCP 389 (LDAP) on DC-1: filtered"
    assert failed.adc_error is not None and failed.adc_error.endswith("for IP: DC-1")
    assert failed.target == "DC-1" and failed.vantage == "subnet-b"  # labels the user chose stay
    assert failed.remedy == "Allow TCP 389 from NET-2/24."
    assert "ports.tcp.DC-2.389@subnet-b" in r
    assert "dns.srv.ldap_tcp.DNS-1.udp@subnet-a" in r and "radius.probe.RADIUS-1" in r
    # And host names keep their shape, label by label, with one token per value in any case
    ping = r["ports.udp.DC-1.389@subnet-a"]
    host = ping.facts["netbios_computer_name"]
    assert isinstance(host, str) and host.startswith("HOST-")
    assert ping.facts["dns_host_name"] == f"{host}.DOMAIN-1"
    assert ping.facts["netbios_domain_name"] == "DOMAIN-1"
    assert (
        ping.facts["dc_site_name"] == "SITE-1" and ping.facts["client_site_name"] == "Default-First-Site-Name"
    )
    assert f"DC {host}.DOMAIN-1 answered the LDAP ping for DOMAIN-1 (DC site SITE-1" in ping.title
    assert r["dcs.found"].facts["dcs"][0] == f"{host}.DOMAIN-1 (DC-1)"  # type: ignore[index]
    user = r["account.kerberos"].facts["principal"]
    assert isinstance(user, str) and user.startswith("USER-") and user.endswith("@DOMAIN-1")
    assert r["account.kerberos"].facts["kdc"] == "DC-1"
    assert r["account.bind"].title == f"Bound as {user} over LDAPS"
    # And a RADIUS probe's fixed user name is AWS's, not a customer's: it stays
    assert "'fakeusername'" in r["radius.probe.RADIUS-1"].title
    assert r["radius.probe.RADIUS-1"].facts["source_address"] == "SRC-1"  # 10.0.5.5, the lowest source


def test_dns_are_redacted_component_by_component() -> None:
    r = {x.id: x for x in redact_report(vantage_report()).results}
    # Then well-known containers stay, OUs and account CNs become tokens, the DC= run becomes the domain
    user = str(r["account.kerberos"].facts["principal"]).split("@")[0]
    dn = str(r["account.state"].facts["dn"])
    assert dn.startswith(f"CN={user},OU=OU-") and dn.endswith(",DC=DOMAIN-1")
    berlin = dn.split(",")[2]
    rights = r["account.rights.create_computer"]
    assert rights.title.endswith(f",{berlin},DC=DOMAIN-1") and "OU=OU-" in rights.title
    assert r["account.rights.create_computer"].facts["container"] == rights.title.rsplit(" ", 1)[1]
    # And an OU named like the product is replaced in DNs only, never in sentences
    assert "(adprep delegate)" in (rights.remedy or "")
    remedy = r["directory.preauth"].remedy or ""
    assert remedy.startswith("Clear DONT_REQ_PREAUTH on DOMAIN-1\\USER-") and remedy.endswith(
        "in Amazon WorkSpaces."
    )


def test_vantages_are_redacted_but_keep_their_labels() -> None:
    redacted = redact_report(vantage_report())
    a, b = redacted.vantages[1], redacted.vantages[2]
    # Then the labels stay, and the relay's address is the source its probes left from
    assert a.label == "subnet-a" and b.label == "subnet-b"
    assert a.via.startswith("ssh://USER-") and a.via.endswith("@SRC-2")
    assert (a.subnet, dict(a.source_addresses)) == ("NET-1/24", {"DC-1": "SRC-2"})
    assert a.relay["impl"] == "python" and a.relay["host"].startswith("HOST-")
    assert b.via.startswith("ssh://HOST-") and b.via.endswith(".DOMAIN-1")  # bastion-b.corp.example.com
    assert redacted.targets == ("DOMAIN-1", "DNS-1")
    assert {v.host for v in redacted.vantages} == {redacted.vantage.host}


def test_tokens_are_numbered_by_value_so_two_runs_agree() -> None:
    # Given the same report with its results in another order
    report = vantage_report()
    shuffled = Report(**{**report.__dict__, "results": tuple(reversed(report.results))})
    # Then the tokens are the same
    assert {r.id for r in redact_report(report).results} == {r.id for r in redact_report(shuffled).results}


def test_adprep_words_are_never_taken_for_names() -> None:
    # Given a host and a user named like adprep's own words
    report = Report(
        command="ports", tool_version="0", started_at=T, finished_at=T,
        vantage=Vantage(host="dns", source_addresses={}), targets=("10.0.0.1",),
        results=(CheckResult("ports.tcp.10.0.0.1.53", Status.PASS, "TCP 53 (DNS) on 10.0.0.1: open",
                             {"user": "user", "host": "ldap.corp.example"}, target="10.0.0.1"),),
    )  # fmt: skip
    (r,) = redact_report(report).results
    # Then the title's words stay, and the address is still replaced
    assert r.id == "ports.tcp.DC-1.53" and r.title == "TCP 53 (DNS) on DC-1: open"
    assert r.facts == {"user": "user", "host": "ldap.DOMAIN-1"}


def test_ipv6_addresses_are_replaced_in_any_spelling() -> None:
    report = Report(
        command="ports", tool_version="0", started_at=T, finished_at=T,
        vantage=Vantage(host="h", source_addresses={}), targets=("fd00::10",),
        results=(CheckResult("ports.tcp.fd00::10.389", Status.FAIL, "TCP 389 on fd00:0:0:0:0:0:0:10: filtered",
                             {}, target="fd00::10"),),
    )  # fmt: skip
    (r,) = redact_report(report).results
    assert (r.id, r.title, r.target) == ("ports.tcp.DC-1.389", "TCP 389 on DC-1: filtered", "DC-1")


def test_one_redactor_shares_its_tokens_across_reports() -> None:
    # Given two reports that name the same DC
    first, second = vantage_report(), vantage_report()
    redactor = Redactor()
    redactor.learn(first)
    redactor.learn(second)
    # Then the DC has one token in both
    assert redactor.text(f"{DC1} and {DC2}") == "DC-1 and DC-2"
