"""``adprep fix`` without a network: the plans (unlock, pre-authentication, subnets), the subnet verdict,
which failures become which commands, and the exact command texts with their quoting."""

from __future__ import annotations

import ipaddress
import shlex
from datetime import UTC, datetime

import pytest

from adprep.ad.account_flags import UserAccountControl
from adprep.ad.sites import SubnetObject
from adprep.checks.sites import check_subnet_sites
from adprep.errors import InputError
from adprep.model import CheckResult, Report, Status, Vantage
from adprep.prep import fix as fx
from adprep.prep.manual import Bare, ManualOptions, manual_steps, ps, sh
from adprep.prep.sites import plan_subnets
from adprep.render.commands import quote_powershell, render_command
from adprep.validate import parse_subnets

CONFIG = "CN=Configuration,DC=corp,DC=example"
SITE_DN = f"CN=Default-First-Site-Name,CN=Sites,{CONFIG}"
NET = ipaddress.ip_network


def report(*results: CheckResult, vantages: tuple[Vantage, ...] = ()) -> Report:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Report("preflight", "0", at, at, Vantage("host"), ("corp.example", "10.0.0.10"), results,
                  vantages=vantages)  # fmt: skip


def port(proto: str, address: str, number: int, verdict: str, *, vantage: str | None = None) -> CheckResult:
    cid = f"ports.{proto}.{address}.{number}" + (f"@{vantage}" if vantage else "")
    status = Status.PASS if verdict == "open" else Status.FAIL
    facts = {"protocol": proto, "port": number, "verdict": verdict}
    return CheckResult(
        cid, status, f"{proto} {number}", facts, remedy="open it", target=address, vantage=vantage
    )


SUBNET_B = Vantage("relay-b", label="subnet-b", via="ssh://10.1.2.40", subnet="10.1.2.0/24")
ON_PREM = Vantage("host", label="on-prem")


# --- the plans ------------------------------------------------------------------------------------------


def test_preauth_plan_clears_only_that_bit_and_only_for_the_users_given() -> None:
    # Given one selected user without pre-authentication (and with other flags) and one that has it
    flags = UserAccountControl.NORMAL_ACCOUNT | UserAccountControl.DONT_EXPIRE_PASSWORD
    users = [
        fx.ObservedUser("CN=a,DC=corp,DC=example", "a", int(flags | UserAccountControl.DONT_REQ_PREAUTH)),
        fx.ObservedUser("CN=b,DC=corp,DC=example", "b", int(flags)),
    ]
    plan = fx.plan_preauth(users)
    # Then one modify, on a, to exactly its flags without DONT_REQ_PREAUTH; b is in place
    assert [c.target for c in plan.changes] == ["CN=a,DC=corp,DC=example"]
    assert plan.changes[0].details == {"userAccountControl": int(flags), "was": users[0].uac}
    assert plan.in_place == ("b requires Kerberos pre-authentication",)


def test_unlock_plan_only_while_the_account_is_locked() -> None:
    locked = fx.ObservedLockout("CN=svc,DC=corp,DC=example", "svc", 133_000_000_000_000_000,
                                int(UserAccountControl.NORMAL_ACCOUNT | UserAccountControl.LOCKOUT))  # fmt: skip
    plan = fx.plan_unlock(locked)
    assert [(c.action, c.details) for c in plan.changes] == [("ldap.modify", {"lockoutTime": 0})]
    # A lockout whose duration has passed (the DC's computed flag says unlocked) is left alone
    ended = fx.ObservedLockout(locked.dn, "svc", locked.lockout_time, int(UserAccountControl.NORMAL_ACCOUNT))
    assert fx.plan_unlock(ended).changes == ()
    assert fx.plan_unlock(fx.ObservedLockout(locked.dn, "svc", 0, None)).changes == ()


def test_subnet_plan_adds_links_or_leaves_alone() -> None:
    observed = [
        SubnetObject(f"CN=10.2.0.0/16,CN=Subnets,CN=Sites,{CONFIG}", NET("10.2.0.0/16"), SITE_DN),
        SubnetObject(f"CN=10.3.1.0/24,CN=Subnets,CN=Sites,{CONFIG}", NET("10.3.1.0/24"), None),
        SubnetObject(f"CN=10.4.0.0/16,CN=Subnets,CN=Sites,{CONFIG}", NET("10.4.0.0/16"), None),
    ]
    wanted = [NET("10.1.1.0/24"), NET("10.2.5.0/24"), NET("10.3.1.0/24"), NET("10.4.1.0/24")]
    plan = plan_subnets(wanted, "Branch", CONFIG, observed)
    branch = f"CN=Branch,CN=Sites,{CONFIG}"
    assert [(c.action, c.target, c.details) for c in plan.changes] == [
        ("ldap.add", f"CN=10.1.1.0/24,CN=Subnets,CN=Sites,{CONFIG}", {"siteObject": branch}),
        ("ldap.modify", f"CN=10.3.1.0/24,CN=Subnets,CN=Sites,{CONFIG}", {"siteObject": branch}),
        ("ldap.add", f"CN=10.4.1.0/24,CN=Subnets,CN=Sites,{CONFIG}", {"siteObject": branch}),
    ]
    # A subnet a site-linked object already covers is left as it is, even in another site than --site
    assert plan.in_place == (
        "subnet 10.2.5.0/24 is in AD site Default-First-Site-Name (subnet object 10.2.0.0/16)",
    )
    verdicts = {r.id: r.status for r in check_subnet_sites(wanted, observed)}
    assert verdicts == {
        "sites.subnet.10.1.1.0/24": Status.WARN, "sites.subnet.10.2.5.0/24": Status.PASS,
        "sites.subnet.10.3.1.0/24": Status.WARN, "sites.subnet.10.4.1.0/24": Status.WARN,
    }  # fmt: skip


@pytest.mark.parametrize(("text", "words"), [
    ("10.1.1.0/33", "is not a network in CIDR form"),
    ("corp", "is not a network in CIDR form"),
    ("10.1.1.5/24", "Did you mean 10.1.1.0/24?"),
])  # fmt: skip
def test_bad_subnets_are_input_errors(text: str, words: str) -> None:
    with pytest.raises(InputError) as e:
        parse_subnets([text])
    assert words in e.value.sentence()


def test_subnets_are_parsed_once_each() -> None:
    assert parse_subnets(["10.1.1.0/24,10.1.2.0/24", "10.1.1.0/24"]) == (
        NET("10.1.1.0/24"),
        NET("10.1.2.0/24"),
    )
    assert parse_subnets("10.1.1.0/24") == (NET("10.1.1.0/24"),)  # type: ignore[arg-type]


# --- which failures become which commands ---------------------------------------------------------------


def test_ports_filtered_from_an_aws_subnet_become_security_group_and_firewall_rules() -> None:
    # Given TCP 389 and UDP 88 dropped from subnet-b (open from on-prem), TCP 53 open everywhere
    r = report(
        port("tcp", "10.0.0.10", 389, "open", vantage="on-prem"),
        port("tcp", "10.0.0.10", 389, "filtered", vantage="subnet-b"),
        port("udp", "10.0.0.10", 88, "open|filtered", vantage="subnet-b"),
        port("tcp", "10.0.0.10", 53, "open", vantage="subnet-b"),
        vantages=(ON_PREM, SUBNET_B),
    )
    options = ManualOptions(domain="corp.example", security_group="sg-0123456789abcdef0",
                            dc_security_group="sg-0fedcba9876543210", dc_hosts={"10.0.0.10": "dc1.corp.example"})  # fmt: skip
    steps, left = manual_steps(r, options)
    assert left == []
    by_id = {s.id: s for s in steps}
    sg = by_id["aws.security-groups:10.0.0.10"]
    assert [render_command(c) for c in sg.commands] == [
        "aws ec2 authorize-security-group-egress --group-id sg-0123456789abcdef0 --ip-permissions "
        """'[{"IpProtocol":"tcp","FromPort":389,"ToPort":389,"IpRanges":[{"CidrIp":"10.0.0.10/32","Description":"""
        """"AD Connector to 10.0.0.10 (adprep)"}]},{"IpProtocol":"udp","FromPort":88,"ToPort":88,"IpRanges":"""
        """[{"CidrIp":"10.0.0.10/32","Description":"AD Connector to 10.0.0.10 (adprep)"}]}]'""",
        "aws ec2 authorize-security-group-ingress --group-id sg-0fedcba9876543210 --ip-permissions "
        """'[{"IpProtocol":"tcp","FromPort":389,"ToPort":389,"IpRanges":[{"CidrIp":"10.1.2.0/24","Description":"""
        """"AD Connector subnet (adprep)"}]},{"IpProtocol":"udp","FromPort":88,"ToPort":88,"IpRanges":"""
        """[{"CidrIp":"10.1.2.0/24","Description":"AD Connector subnet (adprep)"}]}]'""",
    ]
    assert sg.addresses == ("ports.tcp.10.0.0.10.389@subnet-b", "ports.udp.10.0.0.10.88@subnet-b")
    fw = by_id["windows-firewall:10.0.0.10"]
    assert fw.where == "PowerShell (as an administrator) on 10.0.0.10 (dc1.corp.example)"
    assert [render_command(c) for c in fw.commands] == [
        "New-NetFirewallRule -Name 'adprep-adc-tcp-389-from-10.1.2.0_24' -DisplayName "
        "'AD Connector TCP 389 from 10.1.2.0/24 (adprep)' -Direction Inbound -Action Allow -Protocol TCP "
        "-LocalPort 389 -RemoteAddress '10.1.2.0/24'",
        "New-NetFirewallRule -Name 'adprep-adc-udp-88-from-10.1.2.0_24' -DisplayName "
        "'AD Connector UDP 88 from 10.1.2.0/24 (adprep)' -Direction Inbound -Action Allow -Protocol UDP "
        "-LocalPort 88 -RemoteAddress '10.1.2.0/24'",
    ]
    # The AWS CLI's JSON is one shell word that parses back to the rules
    import json

    words = shlex.split(render_command(sg.commands[1]))
    assert json.loads(words[-1])[0]["IpRanges"][0]["CidrIp"] == "10.1.2.0/24"


def test_a_port_filtered_from_this_host_needs_the_subnets_to_name_a_rule() -> None:
    r = report(port("tcp", "10.0.0.10", 389, "filtered"), port("tcp", "10.0.0.10", 88, "filtered"))
    # Without an AD Connector subnet no rule can be written: said so, per check
    steps, left = manual_steps(r, ManualOptions())
    assert steps == [] and [x.check_id for x in left] == ["ports.tcp.10.0.0.10.389", "ports.tcp.10.0.0.10.88"]
    assert "--subnet" in left[0].reason
    # With --subnet: the DC's firewall for every subnet, one rule for both ports; no security group (no
    # vantage in AWS saw it fail)
    subnets = (NET("10.1.1.0/24"), NET("10.1.2.0/24"))
    steps, left = manual_steps(r, ManualOptions(subnets=subnets))
    assert left == [] and [s.id for s in steps] == ["windows-firewall:10.0.0.10"]
    assert [render_command(c) for c in steps[0].commands] == [
        "New-NetFirewallRule -Name 'adprep-adc-tcp-88-389-from-10.1.1.0_24-10.1.2.0_24' -DisplayName "
        "'AD Connector TCP 88, 389 from 10.1.1.0/24, 10.1.2.0/24 (adprep)' -Direction Inbound -Action Allow "
        "-Protocol TCP -LocalPort 88,389 -RemoteAddress '10.1.1.0/24','10.1.2.0/24'"
    ]


def test_a_closed_port_is_no_firewall_matter() -> None:
    # Nothing listens (refused everywhere): a rule would not help; the check's own remedy is kept
    steps, left = manual_steps(report(port("tcp", "10.0.0.10", 389, "closed")), ManualOptions())
    assert steps == [] and [(x.check_id, x.reason) for x in left] == [("ports.tcp.10.0.0.10.389", "open it")]


def test_missing_srv_records_become_nltest_and_the_records_themselves() -> None:
    srv = CheckResult("dns.srv.ldap_tcp.10.0.0.10.udp", Status.FAIL, "missing", {}, target="10.0.0.10")
    found = CheckResult("dns.srv.kerberos_tcp.10.0.0.10.udp", Status.PASS, "ok",
                        {"records": ["0 100 88 dc1.corp.example."]}, target="10.0.0.10")  # fmt: skip
    steps, left = manual_steps(report(srv, found), ManualOptions(domain="corp.example"))
    assert left == []
    texts = {s.id: [render_command(c) for c in s.commands] for s in steps}
    assert texts == {
        "dns.register-dc-records": ["nltest /dsregdns"],
        "dns.add-srv:10.0.0.10": [
            "Add-DnsServerResourceRecord -ComputerName '10.0.0.10' -ZoneName 'corp.example' -Srv -Name "
            "'_ldap._tcp' -DomainName 'dc1.corp.example' -Priority 0 -Weight 100 -Port 389"
        ],
        "dns.add-srv-samba:10.0.0.10": [
            "samba-tool dns add 10.0.0.10 corp.example _ldap._tcp SRV 'dc1.corp.example 389 0 100' -U Administrator"
        ],
    }
    assert all(s.addresses == ("dns.srv.ldap_tcp.10.0.0.10.udp",) for s in steps)


def test_clock_skew_becomes_w32tm_on_the_pdc_emulator() -> None:
    skew = CheckResult("directory.time_skew.10.0.0.10", Status.FAIL, "Clock of 10.0.0.10: 400 s ahead", {},
                       target="10.0.0.10")  # fmt: skip
    cldap = CheckResult("ports.udp.10.0.0.10.389", Status.PASS, "CLDAP", {"flag_names": ["DS_PDC_FLAG"]},
                        target="10.0.0.10")  # fmt: skip
    steps, _ = manual_steps(report(skew, cldap), ManualOptions())
    assert [render_command(c) for c in steps[0].commands] == [
        "w32tm /config '/manualpeerlist:time.aws.com,0x8' /syncfromflags:manual /reliable:yes /update",
        "Restart-Service w32time",
        "w32tm /resync /rediscover",
    ]
    assert steps[0].where.endswith("the PDC emulator") and steps[0].addresses == (skew.id,)
    # Another DC follows the domain hierarchy
    other = CheckResult(
        "ports.udp.10.0.0.10.389", Status.PASS, "CLDAP", {"flag_names": []}, target="10.0.0.10"
    )
    steps, _ = manual_steps(report(skew, other), ManualOptions())
    assert [render_command(c) for c in steps[0].commands] == [
        "w32tm /config /syncfromflags:domhier /update",
        "w32tm /resync /rediscover",
    ]


# --- quoting ----------------------------------------------------------------------------------------------


def _powershell_words(line: str) -> list[str]:
    """Split a line as PowerShell does for bare words and verbatim ('...') strings, with '' for '."""
    words, i = [], 0
    quotes = "'\u2018\u2019\u201a\u201b"
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        if line[i] in quotes:
            i, buf = i + 1, []
            while True:
                if line[i] in quotes:
                    if i + 1 < len(line) and line[i + 1] in quotes:
                        buf.append(line[i])
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(line[i])
                i += 1
            words.append("".join(buf))
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            words.append(line[i:j])
            i = j
    return words


HOSTILE = ["it's", "a'; Remove-Item C:\\ -Recurse; '", '$(whoami) `n "x"', "\u2019; calc; \u2018", "a b\tc"]


@pytest.mark.parametrize("value", HOSTILE)
def test_values_reach_each_shell_as_one_unchanged_word(value: str) -> None:
    assert shlex.split(render_command(sh(Bare("aws"), value))) == ["aws", value]
    assert _powershell_words(render_command(ps(Bare("w32tm"), value))) == ["w32tm", value]


def test_quote_powershell_doubles_every_kind_of_single_quote() -> None:
    assert quote_powershell("it's") == "'it''s'"
    assert quote_powershell("\u2019") == "'\u2019\u2019'"


def test_a_bare_word_with_shell_characters_is_refused() -> None:
    with pytest.raises(ValueError):
        render_command(sh(Bare("rm -rf")))
    with pytest.raises(ValueError):
        render_command(ps(Bare("$x")))
