"""Directory prep against the lab DC (dc1, LDAPS): delegation that really grants (and only grants)
what AD Connector needs, the service account, OUs and bulk users, each idempotent.

Every object has a random ``adp-<hex>`` name and is deleted afterwards; the domain root's DACL,
which other engineers' tests share, is put back byte for byte."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from adprep.ad.delegation import preset
from adprep.ad.security_descriptor import Ace, parse_security_descriptor
from adprep.cli.main import main
from adprep.errors import LdapError
from adprep.jobs.delegate import delegate_settings, plan_delegate
from adprep.prep.ldap_apply import entry_sid, read_security_descriptor
from adprep.secret import Secret
from adprep.transport.ldap import LdapSession, LdapTarget, connect
from adprep.transport.ldap_settings import DirectorySettings
from tests.conftest import LabDc

pytestmark = pytest.mark.lab

PASSWORD = "Adp-test-Passw0rd"
NEED = ("givenName", "sn", "mail", "sAMAccountName", "userPrincipalName", "userAccountControl", "memberOf")


def _target(dc: LabDc) -> LdapTarget:
    return LdapTarget(dc.address, server_name=dc.fqdn, ca_file=dc.tls_ca)


def _bind(dc: LabDc, user: str, password: str) -> LdapSession:
    return connect(_target(dc), user=f"{user}@{dc.domain}", password=Secret(password, "test"))


@pytest.fixture
def admin(dc1: LabDc) -> Iterator[LdapSession]:
    with _bind(dc1, dc1.admin_user, dc1.admin_password) as s:
        yield s


@pytest.fixture
def name() -> str:
    return f"adp-{secrets.token_hex(3)}"


@pytest.fixture
def cli(dc1: LabDc, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADPREP_PASSWORD", dc1.admin_password)
    conn = ["--dc", dc1.address, "--domain", dc1.domain, "--user", dc1.admin_user, "--dc-name", dc1.fqdn,
            "--ca-file", dc1.tls_ca]  # fmt: skip

    def run(*args: str) -> int:
        # Connection options go after the subcommand's own arguments.
        return main([*args, *conn])

    return run


class Cleanup:
    """Objects to delete (deepest first) and descriptors to put back, whatever the test did."""

    def __init__(self, session: LdapSession) -> None:
        self.session = session
        self.dns: list[str] = []
        self.sds: list[tuple[str, bytes]] = []

    def subtree(self, dn: str) -> None:
        self.dns.append(dn)

    def run(self) -> None:
        for dn, blob in self.sds:
            self.session.write_security_descriptor(dn, blob)
        for dn in reversed(self.dns):
            found = self.session.search(dn, scope="sub", attributes=("objectClass",))
            for entry in sorted(found, key=lambda e: -e.dn.count(",")):
                with contextlib.suppress(LdapError):
                    self.session.delete(entry.dn)


@pytest.fixture
def cleanup(admin: LdapSession) -> Iterator[Cleanup]:
    c = Cleanup(admin)
    try:
        yield c
    finally:
        c.run()


def _add_computer(s: LdapSession, container: str, cn: str) -> str:
    dn = f"CN={cn},{container}"
    s.add(dn, ["top", "person", "organizationalPerson", "user", "computer"],
          {"sAMAccountName": f"{cn}$", "userAccountControl": "4096"})  # fmt: skip
    return dn


def _explicit_for(blob: bytes, sid: str) -> set[Ace]:
    return {a for a in parse_security_descriptor(blob).dacl if a.sid == sid and not a.inherited}


def _raw(blob: bytes) -> list[bytes]:
    sd = parse_security_descriptor(blob)
    assert sd.raw_dacl is not None
    return [r.data for r in sd.raw_dacl if not r.inherited]


def _is_subsequence(small: list[bytes], big: list[bytes]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _child_classes(s: LdapSession, dn: str) -> set[str]:
    e = s.get(dn, ("allowedChildClassesEffective",))
    return {str(v).casefold() for v in (e.all("allowedChildClassesEffective") if e else [])}


def _pwfile(tmp_path: Path, text: str = PASSWORD) -> Path:
    f = tmp_path / f"pw-{secrets.token_hex(2)}"
    f.write_text(text + "\n")
    f.chmod(0o600)
    return f


def test_workspaces_2016_preset_on_the_domain_root(
    dc1: LabDc,
    admin: LdapSession,
    cleanup: Cleanup,
    cli,
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = dc1.base_dn
    group, svc, other, ou = f"{name}-g", f"{name}-s", f"{name}-n", f"{name}-ou"
    original = read_security_descriptor(admin, base)
    cleanup.sds.append((base, original))
    for dn in (f"CN={group},CN=Users,{base}", f"CN={svc},CN=Users,{base}", f"CN={other},CN=Users,{base}",
               f"OU={ou},{base}", f"CN={name}-c1,{base}"):  # fmt: skip
        cleanup.subtree(dn)
    # Given an OU below the root, the delegation (group + ACEs), the account in the group, and a non-member
    assert cli("ou", "create", f"{ou}/Sub") == 0
    assert cli("delegate", "--group", group) == 0
    assert (
        cli("account", "create", svc, "--group", group, "--account-password-file", str(_pwfile(tmp_path)))
        == 0
    )
    assert (
        cli("account", "create", other, "--no-group", "--account-password-file", str(_pwfile(tmp_path))) == 0
    )
    # When delegate runs again, with the account as a member: nothing left to do
    capsys.readouterr()
    assert cli("delegate", "--group", group, "--member", svc) == 0
    assert "nothing to change" in capsys.readouterr().out
    # Then the ACEs on the root are exactly the preset's, and every ACE that was there is still there, in order
    sid = entry_sid(admin.get(f"CN={group},CN=Users,{base}", ("objectSid",)))  # type: ignore[arg-type]
    now = read_security_descriptor(admin, base)
    assert _explicit_for(now, sid) == set(preset("workspaces-2016").aces(sid))
    assert _is_subsequence(_raw(original), _raw(now))
    # And the member, bound as itself, can create and delete a computer at the root and in a sub-OU
    with _bind(dc1, svc, PASSWORD) as s:
        assert "computer" in _child_classes(s, base)
        assert "computer" in _child_classes(s, f"OU=Sub,OU={ou},{base}")
        for container in (base, f"OU=Sub,OU={ou},{base}"):
            dn = _add_computer(s, container, f"{name}-c1")
            s.delete(dn)
        # And it reads every user attribute AD Connector needs
        e = s.get(f"CN={svc},CN=Users,{base}", NEED)
        assert e is not None and {"sAMAccountName", "userPrincipalName", "userAccountControl"} <= set(
            e.attributes
        )
        assert e.first("userAccountControl") in ("512", 512)
    # And a non-member cannot create a computer
    with _bind(dc1, other, PASSWORD) as s:
        assert "computer" not in _child_classes(s, base)
        with pytest.raises(LdapError) as err:
            _add_computer(s, base, f"{name}-c1")
        assert err.value.code == 50
    # And the plan, computed again, is empty
    settings = delegate_settings(
        DirectorySettings(dc1.address, dc1.domain, dc1.admin_user, Secret(dc1.admin_password, "t"), dc1.fqdn,
                          ca_file=dc1.tls_ca),
        preset_name="workspaces-2016", group=group, group_container=None, ou=None, write=True, members=[svc],
    )  # fmt: skip
    assert plan_delegate(admin, settings).empty


def test_ad_connector_ou_preset_keeps_unrelated_aces(
    dc1: LabDc, admin: LdapSession, cleanup: Cleanup, cli, name: str, tmp_path: Path
) -> None:
    base = dc1.base_dn
    group, svc, other, ou = f"{name}-g", f"{name}-s", f"{name}-n", f"{name}-ou"
    ou_dn = f"OU={ou},{base}"
    for dn in (
        f"CN={group},CN=Users,{base}",
        f"CN={svc},CN=Users,{base}",
        f"CN={other},CN=Users,{base}",
        ou_dn,
    ):
        cleanup.subtree(dn)
    # Given an OU whose DACL holds an unrelated explicit ACE, and two accounts not in any group
    assert cli("ou", "create", f"{ou}/Computers") == 0
    from adprep.ad.security_descriptor import encode_with_added_aces

    unrelated = Ace("allow", "S-1-5-32-548", 0x10, 0x2)  # Account Operators: read properties
    admin.write_security_descriptor(
        ou_dn, encode_with_added_aces(read_security_descriptor(admin, ou_dn), [unrelated])
    )
    before = read_security_descriptor(admin, ou_dn)
    for acct in (svc, other):
        assert (
            cli("account", "create", acct, "--no-group", "--account-password-file", str(_pwfile(tmp_path)))
            == 0
        )
    # When the OU preset is delegated with the account as member, twice
    args = ("delegate", "--preset", "ad-connector-ou", "--ou", ou, "--group", group, "--member", svc)
    assert cli(*args) == 0
    assert cli(*args, "--dry-run", "--format", "json") == 0
    # Then the ACEs are the preset's, the unrelated ACE and every earlier ACE stayed, in order
    sid = entry_sid(admin.get(f"CN={group},CN=Users,{base}", ("objectSid",)))  # type: ignore[arg-type]
    now = read_security_descriptor(admin, ou_dn)
    assert _explicit_for(now, sid) == set(preset("ad-connector-ou").aces(sid))
    assert unrelated in parse_security_descriptor(now).dacl
    assert _is_subsequence(_raw(before), _raw(now))
    # And the member creates and deletes computers and users in the OU and below it
    with _bind(dc1, svc, PASSWORD) as s:
        for container in (ou_dn, f"OU=Computers,{ou_dn}"):
            assert "computer" in _child_classes(s, container)
            s.delete(_add_computer(s, container, f"{name}-c"))
            user_dn = f"CN={name}-u,{container}"
            s.add(user_dn, ["top", "person", "organizationalPerson", "user"], {"sAMAccountName": f"{name}-u"})
            s.delete(user_dn)
    # And the non-member cannot
    with _bind(dc1, other, PASSWORD) as s:
        with pytest.raises(LdapError) as err:
            _add_computer(s, ou_dn, f"{name}-c")
        assert err.value.code == 50


def test_account_with_generated_password(
    dc1: LabDc,
    admin: LdapSession,
    cleanup: Cleanup,
    cli,
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = dc1.base_dn
    group, svc, svc2 = f"{name}-g", f"{name}-s", f"{name}-t"
    for dn in (f"CN={group},CN=Users,{base}", f"CN={svc},CN=Users,{base}", f"CN={svc2},CN=Users,{base}"):
        cleanup.subtree(dn)
    original = read_security_descriptor(admin, base)
    cleanup.sds.append((base, original))
    assert cli("delegate", "--group", group) == 0
    # When an account is made with a generated password written to a file
    out = tmp_path / "svc.pw"
    capsys.readouterr()
    assert (
        cli("account", "create", svc, "--group", group, "--generate-password", "--password-out", str(out))
        == 0
    )
    shown = capsys.readouterr()
    password = out.read_text().strip()
    # Then the file is 0600, the password is nowhere in the output, and the account binds with it
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert password not in shown.out + shown.err
    with _bind(dc1, svc, password) as s:
        e = s.get(f"CN={svc},CN=Users,{base}", ("userAccountControl", "memberOf"))
        assert e is not None and int(e.first("userAccountControl")) == 0x200
        assert any(group in str(m) for m in e.all("memberOf"))
        # The facts adprep preflight checks for the service account
        assert "computer" in _child_classes(s, base)
    # And adprep preflight's service-account checks pass for it, including a real join probe
    from adprep.jobs.preflight import preflight_settings, run_preflight
    from adprep.secret import Secret

    report = run_preflight(
        preflight_settings(
            domain=dc1.domain,
            dns_ips=[dc1.address],
            username=svc,
            password=Secret(password, "test"),
            ca_file=dc1.tls_ca,
            join_probe=True,
            timeout=1.0,
        )
    )
    account = {r.id: r.status.value for r in report.results if r.id.startswith("account.")}
    assert account == {
        "account.bind": "pass",
        "account.state": "pass",
        "account.rights.create_computer": "pass",
        "account.rights.read_users": "pass",
        "account.join_probe": "pass",
        "account.kerberos": "pass",
    }
    # And a second run changes nothing
    capsys.readouterr()
    assert (
        cli("account", "create", svc, "--group", group, "--generate-password", "--password-out", str(out))
        == 0
    )
    assert "nothing to change" in capsys.readouterr().out
    # And with --password-out - the password alone is on stdout
    assert cli("account", "create", svc2, "--no-group", "--generate-password", "--password-out", "-",
               "--password-never-expires") == 0  # fmt: skip
    printed = capsys.readouterr().out.strip()
    assert "\n" not in printed and len(printed) == 24
    with _bind(dc1, svc2, printed) as s:
        e = s.get(f"CN={svc2},CN=Users,{base}", ("userAccountControl",))
        assert e is not None and int(e.first("userAccountControl")) == 0x10200


def test_users_import_dry_run_killed_run_rerun_and_a_failing_row(
    dc1: LabDc,
    admin: LdapSession,
    cleanup: Cleanup,
    cli,
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import csv
    import json

    import jsonschema

    import adprep.jobs.users
    from adprep.jobs.users import (
        PasswordsFile,
        check_directory,
        plan_users_chunks,
        users_import_settings,
        validate_users_file,
    )
    from adprep.prep.ldap_apply import ldap_appliers
    from adprep.prep.plan import Plan, apply_plan
    from tests.conftest import REPO

    base = dc1.base_dn
    hexpart = name[4:]
    ou_dn = f"OU={name},{base}"
    group_dn = f"CN={name}-g,CN=Users,{base}"
    cleanup.subtree(ou_dn)
    cleanup.subtree(group_dn)
    assert cli("ou", "create", f"{name}/Sales, EMEA") == 0
    admin.add(group_dn, ["top", "group"], {"sAMAccountName": f"{name}-g", "groupType": "-2147483646"})
    rows = [
        [
            f"{name}-1",
            'Jean "JJ"',
            "Dupont, Jr",
            f"{name}-1@lab.example",
            f"{name}/Sales, EMEA",
            f"{name}-g",
            "",
        ],
        [f"#{hexpart}b", "Hash", "Lead", "", name, f"{name}-g", PASSWORD],
        [f"{name}-3", "Plus+Eq=", "Back\\slash", "", f"{name}/Sales, EMEA", "", ""],
        [f"{name}-4", "A", "B", "", name, f"{name}-g", ""],
    ]
    users_csv = tmp_path / "users.csv"
    with users_csv.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sAMAccountName", "givenName", "sn", "mail", "ou", "groups", "password"])
        w.writerows(rows)
    out = tmp_path / "passwords.csv"
    args = ("users", "import", str(users_csv), "--passwords-out", str(out))
    # Given the import works 2 rows at a time (so each run here crosses a chunk boundary)
    monkeypatch.setattr(adprep.jobs.users, "CHUNK", 2)
    # When a file names an OU and a group that do not exist: exit 2, their lines listed, no output
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(
        "sAMAccountName,ou,groups,password\n"
        f"{name}-1,{name},,{PASSWORD}\n{name}-2,{name}/Nope,,{PASSWORD}\n"
        f"{name}-3,{name},{name}-g;{name}-nog,{PASSWORD}\n{name}-4,{name}/Nope,{name}-nog,{PASSWORD}\n"
    )
    capsys.readouterr()
    assert cli("users", "import", str(bad_csv)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert [ln.split(": ")[0] for ln in captured.err.splitlines() if ln.startswith(str(bad_csv))] == [
        f"{bad_csv}:{n}" for n in (3, 4, 5, 5)
    ]
    assert f"{name}-nog" in captured.err and "Nope" in captured.err
    # When the import is dry-run as JSON: the plan validates against the schema and nothing is written
    assert cli(*args, "--dry-run", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, json.loads((REPO / "adprep" / "schema" / "plan-v1.json").read_text()))
    assert len([c for c in data["changes"] if c["id"].startswith("user.create:")]) == 4
    # And each chunk adds its own new members, under ids unique across the run
    joins = [c for c in data["changes"] if c["id"].startswith("group.add-members:")]
    assert [c["id"].rsplit("#", 1)[1] for c in joins] == ["1", "2"]
    # And each chunk saves its generated passwords first, as a change of its own (shown, never the value)
    saves = [c for c in data["changes"] if c["action"] == "file.save_passwords"]
    assert [c["id"] for c in saves] == [f"passwords.save:{out}#1", f"passwords.save:{out}#2"]
    assert [c["details"]["accounts"] for c in saves] == [[f"{name}-1"], [f"{name}-3", f"{name}-4"]]
    assert len(data["changes"]) == 8
    assert not out.exists() and not admin.search(ou_dn, f"(sAMAccountName={name}-*)")
    # Given a run killed after its first two changes (applied through the same job functions)
    directory = DirectorySettings(
        dc1.address, dc1.domain, dc1.admin_user, Secret(dc1.admin_password, "t"), dc1.fqdn, ca_file=dc1.tls_ca
    )
    settings = users_import_settings(directory, csv_path=users_csv, default_ou=None, passwords_out=out)
    passwords = PasswordsFile(out)
    index = validate_users_file(settings)
    plan, _ = next(plan_users_chunks(admin, settings, check_directory(admin, settings, index), passwords))
    partial = apply_plan(
        Plan(plan.command, plan.changes[:3]), ldap_appliers(admin).merged(passwords.appliers())
    )
    passwords.close()
    assert [o.status for o in partial.outcomes] == ["applied", "applied", "applied"]
    assert [c.action for c in plan.changes[:3]] == ["file.save_passwords", "ldap.add", "ldap.add"]
    # When the import runs again, then once more
    assert cli(*args) == 0
    capsys.readouterr()
    assert cli(*args) == 0
    assert "nothing to change" in capsys.readouterr().out
    # Then every user exists once, in its OU, in its group; names and DNs escaped right
    found = admin.search(
        base,
        f"(&(objectClass=user)(|(sAMAccountName={name}-*)(sAMAccountName=#{hexpart}b)))",
        attributes=("memberOf", "givenName", "sn"),
    )
    by_sam = {e.dn.split(",", 1)[0]: e for e in found}
    assert len(found) == 4
    assert by_sam[f"CN=\\#{hexpart}b"].dn == f"CN=\\#{hexpart}b,{ou_dn}"
    assert (
        by_sam[f"CN={name}-3"].first("givenName") == "Plus+Eq="
        and by_sam[f"CN={name}-3"].first("sn") == "Back\\slash"
    )
    assert by_sam[f"CN={name}-1"].first("sn") == "Dupont, Jr"
    assert all(any(str(m).casefold() == group_dn.casefold() for m in by_sam[k].all("memberOf"))
               for k in (f"CN={name}-1", f"CN=\\#{hexpart}b", f"CN={name}-4"))  # fmt: skip
    # And the passwords file is 0600 with one line per generated user, each of which binds
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    saved = list(csv.reader(out.open(encoding="utf-8")))
    assert saved[0] == ["sAMAccountName", "password"]
    assert sorted(r[0] for r in saved[1:]) == sorted([f"{name}-1", f"{name}-3", f"{name}-4"])
    for sam, pw in saved[1:]:
        _bind(dc1, sam, pw).close()
    _bind(dc1, f"#{hexpart}b", PASSWORD).close()
    # Given a row whose DN is taken by another object, and one good new row
    admin.add(
        f"CN={name}-5,{ou_dn}", ["top", "group"], {"sAMAccountName": f"{name}-x5", "groupType": "-2147483646"}
    )
    with users_csv.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(
            [[f"{name}-5", "", "", "", name, "", PASSWORD], [f"{name}-6", "", "", "", name, "", PASSWORD]]
        )
    capsys.readouterr()
    # Then the failing change is a sentence, the good row still goes in, and the exit status is 1
    assert cli(*args) == 1
    text = capsys.readouterr().out
    assert "already exists" in text
    assert admin.exists(f"CN={name}-6,{ou_dn}")
