"""``adprep fix`` against a real Samba DC of this module's own (dc5 on 127.0.0.6), so that breaking the
directory never touches the DCs other tests rely on.

Each fix follows one story: break the state → ``preflight`` flags the check → ``fix --dry-run`` shows
the plan and writes nothing → ``fix`` applies it and shows the check before and after → ``preflight``
passes that check → a second ``fix`` plans nothing. Every object a test makes is removed afterwards;
what a test breaks on dc5 (the delegation group, its ACEs, an SRV record) is put back.

What adprep cannot write is proven too: the routed lab's subnet-b (its "security group" drops TCP 389
and UDP 88) gives the security-group and firewall rules for exactly those ports and that CIDR, and the
samba-tool command printed for a missing SRV record is run as printed. On dc1 and dc4, shared with
other tests, only dry runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adprep.ad.delegation import workspaces_2016_aces
from adprep.ad.security_descriptor import _assemble, _encode_acl, parse_security_descriptor
from adprep.cli.main import main
from adprep.errors import LdapError
from adprep.prep.ldap_apply import entry_sid, read_security_descriptor
from adprep.requirements import DELEGATION_GROUP
from adprep.secret import Secret
from adprep.transport.ldap import LdapSession, LdapTarget, connect
from tests.cli.test_cli_fix import validate_fix
from tests.conftest import LabDc, LabNet, _dc, _facts, missing_peer
from tests.integration.test_account_lab import (
    DONT_REQ_PREAUTH,
    NORMAL_ACCOUNT,
    LabAccount,
    admin_session,
    lockout_policy,
    service_account,
)
from tests.integration.test_directory_lab import lab

pytestmark = pytest.mark.lab

DC5_ADDRESS = "127.0.0.6"


@pytest.fixture(scope="session")
def dc5() -> Iterator[LabDc]:
    """dc5, provisioned by scripts/lab on first use; brought down at the end if this fixture started it."""
    started = "dc5" not in (_facts().get("dcs") or {})
    if started:
        lab("up", "dc5", "--addr", DC5_ADDRESS)
    try:
        yield _dc("dc5")
    finally:
        if started:
            lab("down", "dc5")


@dataclass(frozen=True)
class Svc:
    """The service account of this module: in WorkSpaces_Connectors, with its password in a file."""

    name: str
    dn: str
    password_file: Path


@pytest.fixture(scope="module")
def admin(dc5: LabDc) -> Iterator[LdapSession]:
    with admin_session(dc5) as session:
        yield session


@pytest.fixture(scope="module")
def svc(dc5: LabDc, admin: LdapSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Svc]:
    """``adprep delegate`` then ``adprep account create``, as the README says to prepare a directory."""
    name = f"svc-{secrets.token_hex(3)}"
    pw = tmp_path_factory.mktemp("svc") / "svc.pw"
    conn = _admin_args(dc5)
    assert main(["delegate", *conn]) == 0
    assert main(["account", "create", name, "--generate-password", "--password-out", str(pw), *conn]) == 0
    dn = f"CN={name},CN=Users,{dc5.base_dn}"
    try:
        yield Svc(name, dn, pw)
    finally:
        admin.delete(dn)


def _admin_args(dc: LabDc) -> list[str]:
    return ["--dc", dc.address, "--dc-name", dc.fqdn, "--domain", dc.domain, "--user", dc.admin_user,
            "--password-file", dc.raw["admin_password_file"], "--ca-file", dc.tls_ca]  # fmt: skip


class Adprep:
    """The CLI in this process: ``preflight`` and ``fix`` with the module's inputs.

    Live (``fix`` runs the preflight itself) or from a report (``fix --from``, the preflight run once
    and written to a file): both paths are exercised, and ``--from`` keeps the module fast.
    """

    def __init__(self, dc: LabDc, svc: Svc, capsys: pytest.CaptureFixture[str], tmp: Path) -> None:
        self.dc, self.svc, self.capsys, self.tmp = dc, svc, capsys, tmp
        self.reports = 0

    def run(self, *argv: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = main(list(argv))
        return code, self.capsys.readouterr().out

    def preflight(self, *extra: str) -> dict[str, dict[str, Any]]:
        """The preflight's results by id (JSON)."""
        _, out = self.run("preflight", *self.preflight_inputs(), *extra, "--format", "json")
        return {r["id"]: r for r in json.loads(out)["results"]}

    def report(self, *extra: str) -> tuple[dict[str, dict[str, Any]], Path]:
        """The preflight written to a file, and its results by id."""
        self.reports += 1
        path = self.tmp / f"preflight-{self.reports}.json"
        self.run("preflight", *self.preflight_inputs(), *extra, "--format", "json", "-o", str(path))
        return {r["id"]: r for r in json.loads(path.read_text())["results"]}, path

    def preflight_inputs(self) -> list[str]:
        d = self.dc
        return ["--domain", d.domain, "--dns-ip", d.address, "--user", self.svc.name,
                "--password-file", str(self.svc.password_file), "--ca-file", d.tls_ca]  # fmt: skip

    def admin_inputs(self) -> list[str]:
        d = self.dc
        return [
            "--user",
            d.admin_user,
            "--password-file",
            d.raw["admin_password_file"],
            "--ca-file",
            d.tls_ca,
        ]

    def fix_args(self, *extra: str) -> list[str]:
        d = self.dc
        return ["fix", "--domain", d.domain, "--dns-ip", d.address, "--service-account", self.svc.name,
                "--service-password-file", str(self.svc.password_file), *self.admin_inputs(), *extra]  # fmt: skip

    def fix_json(self, *extra: str) -> tuple[int, dict[str, Any]]:
        """``fix`` with the preflight run now."""
        return self._json(self.fix_args(*extra))

    def fix_from(self, report: Path, *extra: str) -> tuple[int, dict[str, Any]]:
        """``fix --from REPORT``, writing to the DC the report's checks used (its host name from the report)."""
        return self._json(["fix", "--from", str(report), *self.admin_inputs(), *extra])

    def _json(self, argv: list[str]) -> tuple[int, dict[str, Any]]:
        code, out = self.run(*argv, "--format", "json")
        data = json.loads(out)
        validate_fix(data)
        return code, data

    def fix_table(self, *extra: str) -> tuple[int, str]:
        return self.run(*self.fix_args(*extra))

    def delegate(self) -> None:
        """The delegation whole again (group, ACEs, the account in the group), whatever a test left."""
        d = self.dc
        assert main(["delegate", "--member", self.svc.name, "--dc", d.address, "--dc-name", d.fqdn,
                     "--domain", d.domain, *self.admin_inputs()]) == 0  # fmt: skip


@pytest.fixture
def adprep(
    dc5: LabDc, svc: Svc, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Adprep:
    # fix --from runs the account's checks again as the service account: its password from the environment
    monkeypatch.setenv("ADPREP_SERVICE_PASSWORD", svc.password_file.read_text().strip())
    return Adprep(dc5, svc, capsys, tmp_path)


def remedies(fix: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in fix["remedies"]}


def checks(fix: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in fix["checks"]}


def changes(fix: dict[str, Any]) -> list[dict[str, Any]]:
    return list(fix["plan"]["changes"])


def group_dn(dc: LabDc) -> str:
    return f"CN={DELEGATION_GROUP},CN=Users,{dc.base_dn}"


def assert_nothing_planned(fix: tuple[int, dict[str, Any]]) -> None:
    code, again = fix
    assert code == 0, again
    assert changes(again) == [], changes(again)
    assert all(r["status"] in ("in_place", "not_planned") for r in again["remedies"]), again["remedies"]


# --- the delegation and the service account's group ---------------------------------------------------


CREATE = "account.rights.create_computer"


def test_delegation_removed_is_put_back(adprep: Adprep, dc5: LabDc, admin: LdapSession, svc: Svc) -> None:
    # Given the delegation group deleted (and with it the account's membership)
    adprep.delegate()
    admin.delete(group_dn(dc5))
    assert adprep.preflight()[CREATE]["status"] == "fail"

    # When fix runs dry: the group, the preset's ACEs and the membership are planned, nothing is written
    code, dry = adprep.fix_json("--dry-run")
    assert code == 0 and dry["dry_run"] is True and dry["source"]["kind"] == "live"
    planned = remedies(dry)
    assert [planned[r]["status"] for r in ("delegation", "account.membership")] == ["planned", "planned"]
    assert CREATE in planned["delegation"]["addresses"]
    actions = sorted(c["action"] for c in changes(dry))
    assert actions == ["acl.add_aces", "ldap.add", "ldap.add_members"], actions
    assert checks(dry)[CREATE]["before"]["status"] == "fail" and checks(dry)[CREATE]["after"] is None
    assert not admin.exists(group_dn(dc5))

    # When fix applies: the check runs again and is shown before → after
    code, table = adprep.fix_table()
    assert code == 0, table
    assert "Checks the fixes address, before → after" in table
    row = next(line for line in table.splitlines() if CREATE in line)
    assert row.index("FAIL") < row.index("PASS")
    assert admin.exists(group_dn(dc5))

    # Then preflight passes, and a second fix plans nothing
    assert adprep.preflight()[CREATE]["status"] == "pass"
    assert_nothing_planned(adprep.fix_json())


def _without_aces(blob: bytes, removed: set[Any]) -> bytes:
    """``blob`` (a DACL-only descriptor) with the ACEs in ``removed`` taken out, the others byte for byte."""
    sd = parse_security_descriptor(blob)
    assert sd.raw_dacl is not None
    kept = [r.data for r in sd.raw_dacl if r.ace is None or r.ace not in removed]
    return _assemble(sd.control, sacl=None, dacl=_encode_acl(sd.dacl_revision, kept), owner=None, group=None)


def test_incomplete_delegation_gets_only_the_missing_ace(
    adprep: Adprep, dc5: LabDc, admin: LdapSession, svc: Svc
) -> None:
    # Given the delegation with its "join a computer" ACE taken off the domain root
    adprep.delegate()
    group = admin.get(group_dn(dc5), ("objectSid",))
    assert group is not None
    read_users, create_computers = workspaces_2016_aces(entry_sid(group))
    root = read_security_descriptor(admin, dc5.base_dn)
    admin.write_security_descriptor(dc5.base_dn, _without_aces(root, {create_computers}))
    results, report = adprep.report()
    assert results[CREATE]["status"] == "fail"

    # When fix reads the report, dry: one change, the missing ACE; the group and the membership are in place
    code, dry = adprep.fix_from(report, "--dry-run")
    assert code == 0 and dry["source"]["kind"] == "report"
    assert [c["action"] for c in changes(dry)] == ["acl.add_aces"], changes(dry)
    assert "add 1 ACE(s)" in changes(dry)[0]["summary"]
    assert remedies(dry)["account.membership"]["status"] == "in_place"
    unchanged = parse_security_descriptor(read_security_descriptor(admin, dc5.base_dn))
    assert create_computers not in unchanged.dacl and read_users in unchanged.dacl

    # When fix applies it
    code, done = adprep.fix_from(report)
    assert code == 0 and checks(done)[CREATE]["after"]["status"] == "pass"
    assert create_computers in parse_security_descriptor(read_security_descriptor(admin, dc5.base_dn)).dacl

    # Then the preflight passes, and a fix from its report plans nothing
    results, report = adprep.report()
    assert results[CREATE]["status"] == "pass"
    assert_nothing_planned(adprep.fix_from(report))


def test_account_missing_from_its_group_is_put_back(
    adprep: Adprep, dc5: LabDc, admin: LdapSession, svc: Svc, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the service account taken out of WorkSpaces_Connectors (the delegation itself whole)
    adprep.delegate()
    admin.modify(group_dn(dc5), {"member": [("delete", [svc.dn])]})
    results, report = adprep.report()
    assert results[CREATE]["status"] == "fail"

    # When fix runs dry: the membership only, and nothing left over as "in place already"
    code, dry = adprep.fix_from(report, "--dry-run")
    assert code == 0
    assert [c["action"] for c in changes(dry)] == ["ldap.add_members"]
    assert remedies(dry)["delegation"]["status"] == "in_place"
    assert [x["id"] for x in dry["not_fixed"]] == []
    group = admin.get(group_dn(dc5), ("member",))
    assert group is not None and svc.dn.casefold() not in {str(m).casefold() for m in group.all("member")}

    # When fix applies it without the service account's password: the account's check is not run again
    monkeypatch.delenv("ADPREP_SERVICE_PASSWORD")
    code, done = adprep.fix_from(report)
    assert code == 0
    assert checks(done)[CREATE]["after"]["status"] == "skip"
    assert "password" in checks(done)[CREATE]["after"]["title"]

    # And with it (the membership taken out again): before → after
    admin.modify(group_dn(dc5), {"member": [("delete", [svc.dn])]})
    code, done = adprep.fix_from(report, "--service-password-file", str(svc.password_file))
    assert code == 0
    row = checks(done)[CREATE]
    assert row["remedies"] == ["delegation", "account.membership"]
    assert (row["before"]["status"], row["after"]["status"]) == ("fail", "pass")

    # Then
    results, report = adprep.report()
    assert results[CREATE]["status"] == "pass"
    assert_nothing_planned(adprep.fix_from(report))


# --- the locked-out service account ----------------------------------------------------------------------


def test_locked_out_service_account_is_unlocked(
    adprep: Adprep, dc5: LabDc, admin: LdapSession, svc: Svc
) -> None:
    target = LdapTarget(dc5.address, server_name=dc5.fqdn, ca_file=dc5.tls_ca)
    account = LabAccount(svc.name, svc.dn, Secret(svc.password_file.read_text().strip(), "file"))
    with lockout_policy(admin, dc5, account, threshold=2):
        # Given the account locked out by two bad passwords (a policy for this account only)
        for _ in range(2):
            with pytest.raises(LdapError):
                connect(target, user=f"{svc.name}@{dc5.domain}", password=Secret("wrong-Pw-1", "test"))
        results, report = adprep.report()
        assert results["account.state"]["status"] == "fail"
        assert results["account.state"]["facts"]["state"] == "locked"

        # When fix runs dry: unlock is planned, nothing else; the account stays locked
        code, dry = adprep.fix_from(report, "--dry-run")
        assert code == 0
        assert remedies(dry)["account.unlock"]["status"] == "planned"
        assert [(c["target"], c["details"]) for c in changes(dry)] == [(svc.dn, {"lockoutTime": 0})]
        assert _lockout_time(admin, svc) != 0

        # When fix applies: account.state runs again as the account, and passes
        code, done = adprep.fix_from(report)
        assert code == 0, done
        row = checks(done)["account.state"]
        assert (row["before"]["status"], row["after"]["status"]) == ("fail", "pass")
        assert _lockout_time(admin, svc) == 0

        # Then
        results, report = adprep.report()
        assert results["account.state"]["status"] == "pass"
        assert_nothing_planned(adprep.fix_from(report))


def _lockout_time(admin: LdapSession, svc: Svc) -> int:
    entry = admin.get(svc.dn, ("lockoutTime",))
    assert entry is not None
    return int(entry.first("lockoutTime") or 0)


# --- Kerberos pre-authentication: only the users named ---------------------------------------------------


def _uac(admin: LdapSession, dn: str) -> int:
    entry = admin.get(dn, ("userAccountControl",))
    assert entry is not None
    return int(entry.first("userAccountControl"))


def test_preauth_is_turned_on_only_for_the_users_named(
    adprep: Adprep, dc5: LabDc, admin: LdapSession
) -> None:
    roastable = NORMAL_ACCOUNT | DONT_REQ_PREAUTH
    with service_account(admin, dc5, uac=roastable) as a, service_account(admin, dc5, uac=roastable) as b:
        # Given two users without Kerberos pre-authentication
        results, report = adprep.report()
        pre = results["directory.preauth"]
        assert pre["status"] == "warn" and {a.name, b.name} <= set(pre["facts"]["accounts"])

        # When fix runs without --preauth-user: nothing is planned for them, both are listed as not fixed
        code, none = adprep.fix_from(report, "--dry-run")
        assert code == 0 and "preauth" not in remedies(none)
        left = next(x for x in none["not_fixed"] if x["id"] == "directory.preauth")
        assert a.name in left["title"] and b.name in left["title"]

        # When fix runs dry for a alone: one change, on a; nothing written
        code, dry = adprep.fix_from(report, "--dry-run", "--preauth-user", a.name)
        assert code == 0
        assert [c["target"] for c in changes(dry)] == [a.dn]
        assert _uac(admin, a.dn) == roastable

        # When fix applies for a alone: a requires pre-authentication, b is untouched
        code, done = adprep.fix_from(report, "--preauth-user", a.name)
        assert code == 0
        assert _uac(admin, a.dn) == NORMAL_ACCOUNT
        assert _uac(admin, b.dn) == roastable
        after = checks(done)["directory.preauth"]["after"]
        assert after["status"] == "warn" and b.name in after["title"] and a.name not in after["title"]

        # When fix applies for b too: the check passes
        code, done = adprep.fix_from(report, "--preauth-user", b.name)
        assert code == 0 and checks(done)["directory.preauth"]["after"]["status"] == "pass"

        # Then
        results, report = adprep.report()
        assert results["directory.preauth"]["status"] == "pass"
        assert_nothing_planned(adprep.fix_from(report, "--preauth-user", a.name, "--preauth-user", b.name))


# --- AD Connector's subnets in AD Sites and Services -----------------------------------------------------


@contextlib.contextmanager
def fresh_subnets(admin: LdapSession, dc: LabDc, count: int) -> Iterator[list[str]]:
    """Random /24s in 10.0.0.0/8 that no subnet object holds; their subnet objects removed afterwards."""
    nets = [f"10.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.0/24" for _ in range(count)]
    config = f"CN=Subnets,CN=Sites,CN=Configuration,{dc.base_dn}"
    try:
        yield nets
    finally:
        for net in nets:
            dn = f"CN={net},{config}"
            if admin.exists(dn):
                admin.delete(dn)


def test_missing_subnets_are_added_to_the_site(adprep: Adprep, dc5: LabDc, admin: LdapSession) -> None:
    with fresh_subnets(admin, dc5, 2) as nets:
        flags = [arg for net in nets for arg in ("--subnet", net)]
        ids = [f"sites.subnet.{net}" for net in nets]
        # Given two AD Connector subnets that no subnet object holds
        before = adprep.preflight(*flags)
        assert [before[i]["status"] for i in ids] == ["warn", "warn"]

        # When fix runs dry: a subnet object for each, linked to the default site; nothing written
        code, dry = adprep.fix_json("--dry-run", *flags)
        assert code == 0
        assert sorted(c["summary"] for c in changes(dry)) == sorted(
            f"add subnet {n} to AD site Default-First-Site-Name" for n in nets
        )
        assert not any(admin.exists(c["target"]) for c in changes(dry))

        # An AD site that does not exist is bad input, before anything is written
        code, _ = adprep.run(*adprep.fix_args("--subnet", nets[0], "--site", "No-Such-Site"))
        assert code == 2

        # When fix applies: both checks run again
        code, done = adprep.fix_json(*flags)
        assert code == 0
        assert [checks(done)[i]["after"]["status"] for i in ids] == ["pass", "pass"]
        for c in changes(done):
            entry = admin.get(c["target"], ("siteObject",))
            assert entry is not None
            assert str(entry.first("siteObject")).startswith("CN=Default-First-Site-Name,CN=Sites,")

        # Then
        after = adprep.preflight(*flags)
        assert [after[i]["status"] for i in ids] == ["pass", "pass"]
        assert_nothing_planned(adprep.fix_json(*flags))


# --- the demo's dry run on the shared DC -----------------------------------------------------------------


def test_dry_run_against_dc1_writes_nothing(dc1: LabDc, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the shared lab DC and its administrator as both accounts, and two subnets in no site
    pw = dc1.raw["admin_password_file"]
    args = ["fix", "--domain", dc1.domain, "--dns-ip", dc1.address, "--service-account", dc1.admin_user,
            "--service-password-file", pw, "--user", dc1.admin_user, "--password-file", pw, "--ca-file",
            dc1.tls_ca, "--dc", dc1.address, "--dc-name", dc1.fqdn, "--subnet", "198.18.1.0/24",
            "--subnet", "198.18.2.0/24", "--dry-run"]  # fmt: skip
    with admin_session(dc1) as admin:
        config = f"CN=Subnets,CN=Sites,CN=Configuration,{dc1.base_dn}"
        before = sorted(e.dn for e in admin.search(config, "(objectClass=subnet)", scope="one"))
        # When fix runs dry
        assert main(args) == 0
        out = capsys.readouterr().out
        # Then it shows the plan, and dc1's subnets are as they were
        assert "Dry run: nothing was written." in out or "nothing to change" in out
        assert sorted(e.dn for e in admin.search(config, "(objectClass=subnet)", scope="one")) == before


# --- what adprep cannot write: the routed lab's subnet-b, whose "security group" drops TCP 389 and UDP 88 -


def test_ports_dropped_from_an_aws_subnet_become_the_rules_to_add(
    lab_net: LabNet, capsys: pytest.CaptureFixture[str]
) -> None:
    dc4 = _dc("dc4")
    pw = dc4.raw["admin_password_file"]
    a, b = lab_net.subnets["subnet-a"], lab_net.subnets["subnet-b"]
    # When fix runs dry from this host and both subnets (dc4 is shared: nothing may be written)
    code = main(["fix", "--domain", dc4.domain, "--dns-ip", lab_net.dc, "--service-account", dc4.admin_user,
                 "--service-password-file", pw, "--user", dc4.admin_user, "--password-file", pw, "--ca-file",
                 dc4.tls_ca, "--via", "on-prem=local", "--via", f"subnet-a=ssh://{a.ssh}?subnet={a.cidr}",
                 "--via", f"subnet-b=ssh://{b.ssh}?subnet={b.cidr}", "--ssh-config", lab_net.ssh_config,
                 "--timeout", "1", "--security-group", "sg-0123456789abcdef0", "--dry-run", "--format", "json"])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    validate_fix(data)
    assert code == 0 and data["dry_run"] is True
    # Then the security groups get exactly the dropped ports, from subnet-b's CIDR only
    steps = {s["id"]: s for s in data["commands"]}
    sg = steps[f"aws.security-groups:{lab_net.dc}"]
    rules = json.loads(sg["commands"][1].split(" --ip-permissions ", 1)[1].strip("'"))
    got = {(r["IpProtocol"], r["FromPort"], tuple(x["CidrIp"] for x in r["IpRanges"])) for r in rules}
    assert got == {(proto, int(port), (b.cidr,)) for proto, port in (f.split("/") for f in b.filtered)}
    assert sg["commands"][0].startswith(
        "aws ec2 authorize-security-group-egress --group-id sg-0123456789abcdef0 "
    )
    fw = steps[f"windows-firewall:{lab_net.dc}"]
    assert all(c.endswith(f"-RemoteAddress '{b.cidr}'") for c in fw["commands"])
    # And the subnets in no AD site are planned, not written
    assert sorted(c["summary"] for c in data["plan"]["changes"]) == [
        f"add subnet {a.cidr} to AD site Default-First-Site-Name",
        f"add subnet {b.cidr} to AD site Default-First-Site-Name",
    ]
    assert all(c["status"] == "planned" for c in data["plan"]["changes"])


# --- a missing SRV record: the command printed for a Samba DC, run as printed ------------------------------


def test_missing_srv_record_gets_commands_and_the_samba_one_works(adprep: Adprep, dc5: LabDc) -> None:
    if shutil.which("samba-tool") is None:
        missing_peer("samba-tool is needed (scripts/install installs samba)")
    # samba-tool reads the password from PASSWD, never from its command line
    env = {**os.environ, "PASSWD": dc5.admin_password}
    record = ["lab.example", "_kerberos._tcp", "SRV", f"{dc5.fqdn} 88 0 100"]
    srv = f"dns.srv.kerberos_tcp.{dc5.address}.udp"
    # Given dc5's _kerberos._tcp record deleted from its DNS
    subprocess.run(["samba-tool", "dns", "delete", dc5.address, *record, "-U", dc5.admin_user], env=env,
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    try:
        assert adprep.preflight()[srv]["status"] == "fail"
        # When fix runs dry (the DC given, since DNS no longer finds it)
        code, dry = adprep.fix_json("--dry-run", "--dc", dc5.address, "--dc-name", dc5.fqdn)
        assert code == 0 and changes(dry) == []
        steps = {s["id"]: s for s in dry["commands"]}
        # Then nltest on the DCs, the record on the DNS server in PowerShell, and for Samba
        assert steps["dns.register-dc-records"]["commands"] == ["nltest /dsregdns"]
        assert srv in steps["dns.register-dc-records"]["addresses"]
        assert steps[f"dns.add-srv:{dc5.address}"]["commands"] == [
            f"Add-DnsServerResourceRecord -ComputerName '{dc5.address}' -ZoneName 'lab.example' -Srv -Name "
            f"'_kerberos._tcp' -DomainName '{dc5.fqdn}' -Priority 0 -Weight 100 -Port 88"
        ]
        (samba,) = steps[f"dns.add-srv-samba:{dc5.address}"]["commands"]
        # When the Samba command runs exactly as printed
        proc = subprocess.run(shlex.split(samba), env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    finally:
        # Put back whatever happened (a record that is there already is refused, harmlessly)
        add = ["samba-tool", "dns", "add", dc5.address, *record, "-U", dc5.admin_user]
        subprocess.run(add, env=env, capture_output=True, timeout=60)
    # Then the preflight finds the record again
    assert adprep.preflight()[srv]["status"] == "pass"
