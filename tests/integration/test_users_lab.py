"""WorkSpaces-ready users against the lab DC (dc1, LDAPS): users check finds each kind of problem
(and writes nothing), users import --update fills attributes and moves users (a cut-off run is
finished by the next), group create makes a group of the asked scope; each idempotent.

Every object lives under a random ``adp-<hex>`` OU that is deleted afterwards."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adprep.ad.account_flags import datetime_to_filetime
from adprep.secret import Secret
from adprep.transport.ldap import LdapSession
from adprep.transport.ldap_settings import DirectorySettings
from tests.conftest import REPO, LabDc
from tests.integration import test_prep_lab as prep_lab
from tests.integration.test_prep_lab import PASSWORD, Cleanup, _bind

# The directory-prep tests' fixtures: an admin session, cleanup of what a test made, the CLI, a random name.
admin, cleanup, cli, name = prep_lab.admin, prep_lab.cleanup, prep_lab.cli, prep_lab.name

pytestmark = pytest.mark.lab

REPORT_SCHEMA = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())
PLAN_SCHEMA = json.loads((REPO / "adprep" / "schema" / "plan-v1.json").read_text())
USER_CLASSES = ["top", "person", "organizationalPerson", "user"]


def _add_user(s: LdapSession, container: str, sam: str, **attrs: str) -> str:
    dn = f"CN={sam},{container}"
    s.add(dn, USER_CLASSES, {"sAMAccountName": sam, "userAccountControl": "512",
                             "unicodePwd": f'"{PASSWORD}"'.encode("utf-16-le"), **attrs})  # fmt: skip
    return dn


def _filetime(delta: timedelta) -> str:
    return str(datetime_to_filetime(datetime.now(UTC) + delta))


def _results(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text())
    jsonschema.validate(data, REPORT_SCHEMA)
    return {r["id"]: r for r in data["results"]}


def _users(result: dict[str, Any]) -> set[str]:
    return set(result["facts"]["users"])


def _listed(results: dict[str, dict[str, Any]]) -> set[str]:
    """Every user name any result lists."""
    return {
        u for r in results.values() if isinstance(r["facts"].get("users"), list) for u in r["facts"]["users"]
    }


def test_users_check_finds_each_problem_and_writes_nothing(
    dc1: LabDc, admin: LdapSession, cleanup: Cleanup, cli, name: str, tmp_path: Path
) -> None:
    base = dc1.base_dn
    ou_dn = f"OU={name},{base}"
    cleanup.subtree(ou_dn)
    # Given an OU of users: one ready, one without mail, one that must change its password, and one
    # each disabled, expired, locked out, and with a logon name longer than AD's 20 characters
    assert cli("ou", "create", name) == 0
    mail = {"mail": f"{name}@lab.example"}
    ready = _add_user(admin, ou_dn, f"{name}-ok", **mail)
    _add_user(admin, ou_dn, f"{name}-nm")
    must = _add_user(admin, ou_dn, f"{name}-mc", **mail)
    admin.modify(must, {"pwdLastSet": [("replace", ["0"])]})
    _add_user(admin, ou_dn, f"{name}-ds", userAccountControl="514", **mail)
    _add_user(admin, ou_dn, f"{name}-ex", accountExpires=_filetime(-timedelta(days=1)), **mail)
    locked = _add_user(admin, ou_dn, f"{name}-lk", **mail)
    admin.modify(locked, {"lockoutTime": [("replace", [_filetime(-timedelta(minutes=1))])]})
    long_name = f"{name}-{'x' * 20}"
    _add_user(admin, ou_dn, long_name, **mail)
    usn = {e.dn: e.first("uSNChanged") for e in admin.search(ou_dn, attributes=("uSNChanged",))}
    # When the OU's users are checked
    out = tmp_path / "ou.json"
    assert cli("users", "check", "--ou", name, "--format", "json", "-o", str(out)) == 1
    results = _results(out)
    # Then the user without mail and the one that must change password are found, each once
    assert _users(results["users.mail"]) == {f"{name}-nm"}
    assert _users(results["users.must_change_password"]) == {f"{name}-mc"}
    # And so are the disabled, expired, locked out and badly named ones; the ready user nowhere
    assert _users(results["users.disabled"]) == {f"{name}-ds"}
    assert _users(results["users.expired"]) == {f"{name}-ex"}
    assert _users(results["users.locked"]) == {f"{name}-lk"}
    assert _users(results["users.name"]) == {long_name}
    assert results["users.password_expired"]["status"] == "pass"
    assert results["users.scope"]["facts"]["checked"] == 7 and f"{name}-ok" not in _listed(results)
    # And the check wrote nothing
    after = {e.dn: e.first("uSNChanged") for e in admin.search(ou_dn, attributes=("uSNChanged",))}
    assert after == usn and admin.exists(ready)

    # When the users a CSV names are checked (one twice, one that does not exist)
    names = tmp_path / "names.csv"
    names.write_text(f"givenName,sAMAccountName\nA,{name}-ok\nB,{name}-NM\nC,{name}-nm\nD,{name}-ghost\n")
    out = tmp_path / "csv.json"
    assert cli("users", "check", "--csv", str(names), "--format", "json", "-o", str(out)) == 1
    results = _results(out)
    # Then only those are checked, the repeat once, and the missing one is named
    assert _users(results["users.mail"]) == {f"{name}-nm"}
    assert results["users.must_change_password"]["status"] == "pass"
    assert _users(results["users.found"]) == {f"{name}-ghost"}
    scope = results["users.scope"]["facts"]
    assert (scope["checked"], scope["rows"], scope["duplicate_rows"]) == (2, 4, 1)

    # When the whole domain is checked (other tests' users may be there too)
    out = tmp_path / "domain.json"
    assert cli("users", "check", "--format", "json", "-o", str(out)) == 1
    results = _results(out)
    # Then the same users are found, and Administrator, Guest and krbtgt are not checked
    assert {f"{name}-nm"} <= _users(results["users.mail"])
    assert {f"{name}-mc"} <= _users(results["users.must_change_password"])
    assert not {"Administrator", "Guest", "krbtgt"} & _listed(results)


def test_users_import_update_fills_attributes_moves_users_and_finishes_a_cut_off_run(
    dc1: LabDc,
    admin: LdapSession,
    cleanup: Cleanup,
    cli,
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from adprep.jobs.users import (
        check_directory,
        plan_users_chunks,
        users_import_settings,
        validate_users_file,
    )
    from adprep.prep.ldap_apply import ldap_appliers
    from adprep.prep.plan import Plan, apply_plan

    base = dc1.base_dn
    ou_dn = f"OU={name},{base}"
    old_dn, new_dn = f"OU=Old,{ou_dn}", f"OU=New,{ou_dn}"
    group_dn = f"CN={name}-g,{ou_dn}"
    cleanup.subtree(ou_dn)
    # Given OUs Old and New, a group, and two users in Old: one with an old mail, one without mail
    assert cli("ou", "create", f"{name}/Old", f"{name}/New") == 0
    admin.add(group_dn, ["top", "group"], {"sAMAccountName": f"{name}-g", "groupType": "-2147483646"})
    _add_user(admin, old_dn, f"{name}-1", mail="old@lab.example", givenName="Old", sn="Keep")
    _add_user(admin, old_dn, f"{name}-2")
    # And a file that gives user 1 a new mail and givenName, an empty sn, OU New and the group;
    # leaves user 2 without mail in Old; and adds user 3 without mail
    users_csv = tmp_path / "users.csv"
    with users_csv.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sAMAccountName", "givenName", "sn", "mail", "ou", "groups", "password"])
        w.writerow([f"{name}-1", "New", "", "new@lab.example", f"{name}/New", f"{name}-g", PASSWORD])
        w.writerow([f"{name}-2", "", "", "", f"{name}/Old", "", PASSWORD])
        w.writerow([f"{name}-3", "", "", "", f"{name}/New", "", PASSWORD])
    args = ("users", "import", str(users_csv), "--update")
    # When it is dry-run as JSON
    capsys.readouterr()
    assert cli(*args, "--dry-run", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, PLAN_SCHEMA)
    # Then user 1 is updated and moved, its membership waits for the move, user 3 is created,
    # and users 2 and 3 are warned about (no mail), with their lines
    kinds = [c["id"].split(":")[0] for c in data["changes"]]
    assert kinds == ["user.update", "user.move", "user.create", "group.add-members"]
    update, move, _, join = data["changes"]
    assert update["details"]["attributes"] == {"mail": {"from": "old@lab.example", "to": "new@lab.example"},
                                               "givenName": {"from": "Old", "to": "New"}}  # fmt: skip
    assert join["details"]["members"] == [f"CN={name}-1,{new_dn}"] and join["depends_on"] == [move["id"]]
    assert [w.split(":")[0] for w in data["warnings"]] == ["line 3", "line 4"]
    assert admin.exists(f"CN={name}-1,{old_dn}") and not admin.exists(f"CN={name}-3,{new_dn}")
    # Given a run cut off after its first change (the update), through the same job functions
    directory = DirectorySettings(
        dc1.address, dc1.domain, dc1.admin_user, Secret(dc1.admin_password, "t"), dc1.fqdn, ca_file=dc1.tls_ca
    )
    settings = users_import_settings(
        directory, csv_path=users_csv, default_ou=None, passwords_out=None, update=True
    )
    index = validate_users_file(settings)
    plan, _ = next(plan_users_chunks(admin, settings, check_directory(admin, settings, index), None))
    partial = apply_plan(Plan(plan.command, plan.changes[:1]), ldap_appliers(admin))
    assert [o.status for o in partial.outcomes] == ["applied"]
    # When the import runs again, with the table
    capsys.readouterr()
    assert cli(*args) == 0
    text = capsys.readouterr().out
    # Then it finishes the move, the create and the membership, and still warns about the mail
    assert "move user" in text and "update user" not in text and text.count("WARNING line") == 2
    moved = admin.get(f"CN={name}-1,{new_dn}", ("mail", "givenName", "sn", "memberOf"))
    assert moved is not None and not admin.exists(f"CN={name}-1,{old_dn}")
    assert (moved.first("mail"), moved.first("givenName"), moved.first("sn")) == (
        "new@lab.example",
        "New",
        "Keep",
    )
    assert [str(m).casefold() for m in moved.all("memberOf")] == [group_dn.casefold()]
    # And the moved user still signs in with its password
    _bind(dc1, f"{name}-1", PASSWORD).close()
    # And a third run changes nothing (the warnings stay until the users have mail)
    capsys.readouterr()
    assert cli(*args) == 0
    text = capsys.readouterr().out
    assert "nothing to change" in text and text.count("WARNING line") == 2


def test_group_create_with_scope_and_member_then_nothing_to_change(
    dc1: LabDc,
    admin: LdapSession,
    cleanup: Cleanup,
    cli,
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = dc1.base_dn
    ou_dn = f"OU={name},{base}"
    cleanup.subtree(ou_dn)
    assert cli("ou", "create", name) == 0
    member = _add_user(admin, ou_dn, f"{name}-u", mail="u@lab.example")
    group = f"#{name[4:]} WS Users"
    group_dn = f"CN=\\#{name[4:]} WS Users,{ou_dn}"
    args = ("group", "create", group, "--ou", name, "--scope", "universal", "--member", f"{name}-u")
    # When the group is planned (dry run, JSON): a create and a membership, nothing written
    capsys.readouterr()
    assert cli(*args, "--dry-run", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, PLAN_SCHEMA)
    assert [c["id"] for c in data["changes"]] == [f"group.create:{group_dn}", f"group.add-members:{group_dn}"]
    assert not admin.exists(group_dn)
    # When it is applied
    assert cli(*args) == 0
    # Then the group is a Universal Security group (MS-ADTS 2.2.12) with the member
    entry = admin.get(group_dn, ("groupType", "member", "sAMAccountName"))
    assert entry is not None and int(entry.first("groupType")) == -2147483640
    assert entry.first("sAMAccountName") == group
    assert [str(m).casefold() for m in entry.all("member")] == [member.casefold()]
    # And a second run changes nothing; asking for another scope is a warning, not a conversion
    capsys.readouterr()
    assert cli(*args) == 0
    assert "nothing to change" in capsys.readouterr().out
    assert cli("group", "create", group, "--ou", name) == 0
    text = capsys.readouterr().out
    assert "nothing to change" in text and "Universal Security group, not Global Security" in text
    # And a name a user already has is refused with one sentence, exit 2
    assert cli("group", "create", f"{name}-u") == 2
    assert "is not a group" in capsys.readouterr().err
