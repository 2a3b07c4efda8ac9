"""Saving generated passwords is a change of the plan: before the first change that sets one, which
depends on it, shown by --dry-run and in the plan JSON, never with a password in it."""

from __future__ import annotations

import json

from adprep.prep.ldap_writes import ACTION_ADD, ACTION_ADD_MEMBERS, USER_CLASSES, AddEntry, AddMembers
from adprep.prep.passwords import ACTION_SAVE_PASSWORDS, SavePasswords, save_passwords_first
from adprep.prep.plan import Appliers, Change, Plan, apply_plan
from adprep.render.plan import render_plan_json, render_plan_table
from adprep.secret import Secret

GENERATED = Secret("Gen-Passw0rd-1", "generated")
GIVEN = Secret("Given-Passw0rd-2", "csv")


def _plan() -> Plan:
    def add(sam: str, password: Secret) -> Change:
        dn = f"CN={sam},CN=Users,DC=x"
        return Change(f"user.create:{dn}", ACTION_ADD, dn, f"create user {sam}",
                      payload=AddEntry(dn, USER_CLASSES, {"sAMAccountName": sam}, password=password))  # fmt: skip

    join = Change("group.add-members:CN=G,DC=x#1", ACTION_ADD_MEMBERS, "CN=G,DC=x", "join",
                  payload=AddMembers("CN=G,DC=x", ("CN=b,CN=Users,DC=x",)))  # fmt: skip
    return Plan("users import", (join, add("a", GIVEN), add("b", GENERATED)))


def test_the_save_comes_before_the_first_change_that_sets_a_generated_password() -> None:
    # Given a plan whose second add sets a generated password
    plan = save_passwords_first(_plan(), SavePasswords("/tmp/pw.csv", ("b",), (GENERATED,)), id_suffix="#1")
    # Then the save is placed just before that add, which depends on it; the others do not
    ids = [c.id for c in plan.changes]
    assert ids[2] == "passwords.save:/tmp/pw.csv#1" and ids[3].startswith("user.create:CN=b,")
    save = plan.changes[2]
    assert save.action == ACTION_SAVE_PASSWORDS and save.details == {"accounts": ["b"], "count": 1}
    assert plan.changes[3].depends_on == (save.id,) and plan.changes[1].depends_on == ()


def test_a_dry_run_shows_the_save_and_never_the_password() -> None:
    plan = save_passwords_first(_plan(), SavePasswords("/tmp/pw.csv", ("b",), (GENERATED,)))
    table = render_plan_table(plan, None, dry_run=True, color=False)
    doc = render_plan_json(plan, None, dry_run=True)
    assert "save the generated password of b to /tmp/pw.csv" in table
    assert GENERATED.reveal() not in table and GENERATED.reveal() not in doc
    assert [c["action"] for c in json.loads(doc)["changes"]].count(ACTION_SAVE_PASSWORDS) == 1


def test_a_save_that_fails_sends_no_password() -> None:
    from adprep.errors import InputError

    plan = save_passwords_first(_plan(), SavePasswords("/tmp/pw.csv", ("b",), (GENERATED,)))
    sent: list[str] = []

    def refuse(p: SavePasswords) -> None:
        raise InputError("Cannot write /tmp/pw.csv: No space left on device")

    appliers = (
        Appliers()
        .on(SavePasswords, refuse)
        .on(AddEntry, lambda p: sent.append(p.dn))
        .on(AddMembers, lambda p: None)
    )
    result = apply_plan(plan, appliers)
    assert [o.status for o in result.outcomes] == ["applied", "applied", "failed", "skipped"]
    assert sent == ["CN=a,CN=Users,DC=x"]


def test_a_plan_that_sets_none_of_them_is_unchanged() -> None:
    plan = _plan()
    assert (
        save_passwords_first(plan, SavePasswords("/tmp/pw.csv", ("z",), (Secret("x", "generated"),))) is plan
    )
