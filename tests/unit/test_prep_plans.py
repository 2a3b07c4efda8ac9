"""Plans are pure: observed state + desired state → changes. Re-planning after applying is empty."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from adprep.ad.delegation import ad_connector_ou, preset
from adprep.ad.security_descriptor import Ace, encode_security_descriptor, encode_with_added_aces
from adprep.ad.users_csv import CsvUser
from adprep.errors import LdapError
from adprep.prep.account import AccountSpec, ObservedAccount, plan_account
from adprep.prep.delegation import DelegationSpec, ObservedDelegation, ObservedGroup, plan_delegation
from adprep.prep.ldap_writes import AddEntry, AddMembers
from adprep.prep.ou import dn_key, ou_chain, plan_ous
from adprep.prep.plan import Change, apply_plan
from adprep.prep.users import MEMBER_CHUNK, ObservedUser, plan_users, user_dn
from adprep.secret import Secret

BASE = "DC=lab,DC=example"
SID = "S-1-5-21-1-2-3-1111"
ADMINS = "S-1-5-32-544"


def test_nested_ou_path_plans_each_missing_level_after_its_parent() -> None:
    # Given WorkSpaces exists and WorkSpaces/Users and WorkSpaces/Users/Sales, EMEA are wanted
    existing = {dn_key(f"OU=workspaces,{BASE}")}
    plan = plan_ous(["WorkSpaces/Users", "WorkSpaces/Users/Sales, EMEA"], BASE, existing)
    # Then two creates, the second depending on the first, names escaped
    assert [c.target for c in plan.changes] == [
        f"OU=Users,OU=WorkSpaces,{BASE}",
        f"OU=Sales\\, EMEA,OU=Users,OU=WorkSpaces,{BASE}",
    ]
    assert plan.changes[1].depends_on == (plan.changes[0].id,)
    payload = plan.changes[1].payload
    assert isinstance(payload, AddEntry) and payload.attributes["ou"] == "Sales, EMEA"
    # And once all exist, the plan is empty
    done = {dn_key(dn) for p in ["WorkSpaces/Users/Sales, EMEA"] for dn in ou_chain(p, BASE)}
    assert plan_ous(["WorkSpaces/Users", "WorkSpaces/Users/Sales, EMEA"], BASE, done).empty


def _user(
    sam: str, line: int, groups: tuple[str, ...] = (), password: str | None = "Xy12-abcdEFG"
) -> CsvUser:
    return CsvUser(
        line=line, sam=sam, given_name="G", sn="S", mail="", ou_dn=f"CN=Users,{BASE}", groups=groups,
        password=Secret(password, "test") if password else None,
    )  # fmt: skip


def test_users_plan_creates_missing_users_and_batches_memberships() -> None:
    group = f"CN=G1,CN=Users,{BASE}"
    users = [_user(f"u{i}", i + 2, ("g1",)) for i in range(MEMBER_CHUNK + 5)]
    existing = _user("old", 500, ("G1",))
    observed = {"u0": ObservedUser(f"CN=u0,CN=Users,{BASE}", "u0", frozenset({group.casefold()}))}
    generated: list[str] = []

    def password_for(u: CsvUser) -> Secret:
        generated.append(u.sam)
        return u.password or Secret("Gen-12345abc", "generated")

    plan = plan_users(
        [*users, existing], observed, {"g1": group}, domain="lab.example", password_for=password_for
    )
    creates = [c for c in plan.changes if c.id.startswith("user.create:")]
    joins = [c for c in plan.changes if c.id.startswith("group.add-members:")]
    # Then every missing user is created (u0 is in place), passwords asked only for creates
    assert len(creates) == MEMBER_CHUNK + 5 and "u0" not in generated
    assert plan.in_place == (f"user u0 exists at CN=u0,CN=Users,{BASE}",)
    # And memberships come in chunks that depend on their members' creates
    assert [len(c.payload.members) for c in joins if isinstance(c.payload, AddMembers)] == [MEMBER_CHUNK, 5]
    assert joins[0].depends_on[0] == f"user.create:{user_dn(users[1])}"
    # And a change's details never hold the password
    assert "Xy12" not in repr(plan) and all("Xy12" not in str(c.details) for c in plan.changes)


def test_a_later_chunk_numbers_its_memberships_on() -> None:
    # Given a group that earlier chunks already gave two membership changes
    group = f"CN=G1,CN=Users,{BASE}"
    users = [_user(f"v{i}", i + 2, ("G1",)) for i in range(3)]
    plan = plan_users(
        users, {}, {"g1": group}, domain="lab.example", password_for=lambda u: u.password or Secret("x", "t"),
        numbering_from={group: 2},
    )  # fmt: skip
    # Then this chunk's members join in a change numbered #3, depending on this chunk's creates
    (join,) = [c for c in plan.changes if c.id.startswith("group.add-members:")]
    assert join.id == f"group.add-members:{group}#3" and len(join.depends_on) == 3


def test_user_dn_escapes_the_cn() -> None:
    assert user_dn(_user("#lead", 2)) == f"CN=\\#lead,CN=Users,{BASE}"


def test_account_new_then_existing_disabled_then_in_place() -> None:
    group = f"CN=WorkSpaces_Connectors,CN=Users,{BASE}"
    spec = AccountSpec("svc-adc", f"CN=Users,{BASE}", "lab.example", group, Secret("Xy12-abcdEFG", "t"))
    # Given no account: create (enabled, 0x200), then join the group after the create
    plan = plan_account(spec, None)
    assert [c.id.split(":")[0] for c in plan.changes] == ["account.create", "group.add-members"]
    assert plan.changes[0].details["userAccountControl"] == 0x200
    assert plan.changes[1].depends_on == (plan.changes[0].id,)
    # Given a disabled account in the group: enable it only (no password reset)
    seen = ObservedAccount(spec.dn, 0x202, frozenset({group.casefold()}))
    plan = plan_account(spec, seen)
    assert [c.summary for c in plan.changes] == ["service account svc-adc: enable it"]
    # Given it is enabled and in the group: nothing to do
    assert plan_account(spec, ObservedAccount(spec.dn, 0x200, frozenset({group.casefold()}))).empty
    # And 'password never expires' is set only when asked
    asked = AccountSpec(
        spec.name, spec.container_dn, spec.domain, group, spec.password, password_never_expires=True
    )
    assert plan_account(asked, None).changes[0].details["userAccountControl"] == 0x10200


def _spec(p: str = "workspaces-2016", target: str = BASE) -> DelegationSpec:
    return DelegationSpec("WorkSpaces_Connectors", f"CN=Users,{BASE}", preset(p), target)


def test_delegation_plans_group_and_aces_then_nothing_once_present() -> None:
    unrelated = Ace("allow", ADMINS, 0xF01FF)
    blob = encode_security_descriptor([unrelated])
    # Given no group: create it and add both ACEs
    plan = plan_delegation(_spec(), ObservedDelegation(None, blob))
    assert [c.id.split(":")[0] for c in plan.changes] == ["group.create", "acl.add-aces"]
    assert len(plan.changes[1].details["aces"]) == 2  # type: ignore[arg-type]
    # Given the group exists and its ACEs are on the root: empty plan
    group = ObservedGroup(f"CN=WorkSpaces_Connectors,CN=Users,{BASE}", SID)
    done = encode_with_added_aces(blob, preset("workspaces-2016").aces(SID))
    assert plan_delegation(_spec(), ObservedDelegation(group, done)).empty
    # Given only one ACE is there: only the other is planned
    half = encode_with_added_aces(blob, preset("workspaces-2016").aces(SID)[:1])
    plan = plan_delegation(_spec(), ObservedDelegation(group, half))
    assert plan.changes[0].details["aces"] == [preset("workspaces-2016").aces(SID)[1].to_sddl()]


def test_ou_preset_without_write_has_four_aces() -> None:
    assert len(ad_connector_ou(write=False).aces(SID)) == 4


def test_a_failed_change_skips_its_dependents_and_not_the_others() -> None:
    # Given three changes, the second depending on the first, the third independent
    a = Change("user.create:a", "x", "a", "create a", payload=_Write("a"))
    b = Change("group.add-members:g", "x", "g", "join", depends_on=("user.create:a",), payload=_Write("g"))
    c = Change("user.create:c", "x", "c", "create c", payload=_Write("c"))
    from adprep.prep.plan import Appliers, Plan

    def applier(p: _Write) -> None:
        if p.target == "a":
            raise LdapError("Creating a failed: An object with this name already exists.", code=68)

    result = apply_plan(Plan("users import", (a, b, c)), Appliers().on(_Write, applier))
    # Then a fails with a sentence, b is skipped, c still goes in
    assert [o.status for o in result.outcomes] == ["failed", "skipped", "applied"]
    assert "already exists" in (result.outcomes[0].error or "")


@dataclass(frozen=True)
class _Write:
    """A payload for the tests of apply_plan's dispatch."""

    target: str


def test_changes_dispatch_on_their_payload_type_and_an_unknown_payload_is_a_bug() -> None:
    # Given appliers for two payload types
    from adprep.prep.plan import Appliers, Plan

    seen: list[str] = []
    appliers = Appliers().on(_Write, lambda p: seen.append(f"write {p.target}")).on(str, seen.append)
    # When a plan holds one of each, Then each goes to its own applier
    apply_plan(
        Plan(
            "t",
            (Change("t.w:a", "x", "a", "", payload=_Write("a")), Change("t.s:b", "x", "b", "", payload="b")),
        ),
        appliers,
    )
    assert seen == ["write a", "b"]
    # And a payload no applier takes is a bug (TypeError), not a failed change
    with pytest.raises(TypeError, match="No applier for int"):
        apply_plan(Plan("t", (Change("t.i:c", "x", "c", "", payload=3),)), appliers)
