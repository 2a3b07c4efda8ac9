"""group create as a pure plan: groupType per scope (MS-ADTS 2.2.12), members, idempotence."""

from __future__ import annotations

import pytest

from adprep.prep.groups import ExistingGroup, GroupSpec, describe_group_type, group_type, plan_group
from adprep.prep.ldap_writes import GROUP_TYPE_GLOBAL_SECURITY, AddEntry, AddMembers

BASE = "DC=lab,DC=example"
JDOE = f"CN=jdoe,CN=Users,{BASE}"


@pytest.mark.parametrize(
    ("scope", "value", "name"),
    [
        ("global", -2147483646, "Global Security"),
        ("domainlocal", -2147483644, "Domain Local Security"),
        ("universal", -2147483640, "Universal Security"),
    ],
)
def test_group_types_are_the_signed_values_ad_stores(scope: str, value: int, name: str) -> None:
    assert group_type(scope) == value  # type: ignore[arg-type]
    assert describe_group_type(value) == name
    assert group_type("global") == GROUP_TYPE_GLOBAL_SECURITY


def test_distribution_and_odd_types_are_described() -> None:
    assert describe_group_type(0x2) == "Global Distribution"
    assert describe_group_type(0x6) == "groupType 6"


def test_a_missing_group_is_created_then_given_its_members() -> None:
    # Given no group "WS Users" and a member wanted
    spec = GroupSpec("WS Users", f"OU=WS,{BASE}", "universal", (JDOE,), "WorkSpaces users")
    plan = plan_group(spec, None)
    create, join = plan.changes
    # Then one add with the universal security type, the name escaped in the DN
    assert create.id == f"group.create:CN=WS Users,OU=WS,{BASE}"
    assert create.summary == f"create Universal Security group WS Users in OU=WS,{BASE}"
    assert isinstance(create.payload, AddEntry) and create.payload.attributes["groupType"] == -2147483640
    assert create.payload.attributes["description"] == "WorkSpaces users"
    # And the members join after the create
    assert isinstance(join.payload, AddMembers) and join.payload.members == (JDOE,)
    assert join.depends_on == (create.id,)


def test_an_existing_group_gets_only_missing_members_and_is_never_converted() -> None:
    spec = GroupSpec("WS", f"OU=WS,{BASE}", "global", (JDOE,))
    # Given the group elsewhere, of universal scope, with the member already in it
    there = ExistingGroup(f"CN=WS,CN=Users,{BASE}", frozenset({JDOE.casefold()}), -2147483640)
    plan = plan_group(spec, there)
    # Then nothing changes; where it is and its other type are said
    assert plan.empty
    assert plan.in_place == (
        f"group WS exists at CN=WS,CN=Users,{BASE}",
        f"{JDOE} is a member of CN=WS,CN=Users,{BASE}",
    )
    assert plan.warnings == (
        "group WS is a Universal Security group, not Global Security; its type is left as it is",
    )
    # And without the member, only the membership is planned
    (join,) = plan_group(spec, ExistingGroup(there.dn, frozenset(), -2147483646)).changes
    assert join.id == f"group.add-members:{there.dn}" and join.depends_on == ()
