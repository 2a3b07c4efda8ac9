"""users import --update and the no-mail warning, as pure plans: observed users + rows → changes."""

from __future__ import annotations

from adprep.ad.users_csv import CsvUser
from adprep.prep.ldap_writes import AddMembers, ModifyEntry, MoveEntry
from adprep.prep.plan import Plan
from adprep.prep.users import ObservedUser, plan_users
from adprep.secret import Secret

BASE = "DC=lab,DC=example"
WS = f"OU=WS,{BASE}"
OLD = f"OU=Old,{BASE}"
GROUP = f"CN=G,CN=Users,{BASE}"


def row(
    sam: str,
    *,
    mail: str = "",
    given: str = "",
    sn: str = "",
    ou: str | None = WS,
    line: int = 2,
    groups: tuple[str, ...] = (),
) -> CsvUser:
    return CsvUser(
        line=line,
        sam=sam,
        given_name=given,
        sn=sn,
        mail=mail,
        ou_dn=ou or f"CN=Users,{BASE}",
        groups=groups,
        password=Secret("Xy12-abcdEFG", "t"),
        ou_from_row=ou is not None,
    )


def seen(sam: str, parent: str = WS, **kw: str | None) -> ObservedUser:
    return ObservedUser(f"CN={sam},{parent}", sam, frozenset(), **kw)


def plan(
    rows: list[CsvUser],
    observed: dict[str, ObservedUser],
    *,
    update: bool = False,
    move_to_default: bool = False,
) -> Plan:
    return plan_users(rows, observed, {"g": GROUP}, domain="lab.example",
                      password_for=lambda u: u.password or Secret("x", "t"), update=update,
                      move_to_default=move_to_default)  # fmt: skip


def test_update_sets_only_the_attributes_that_differ_and_never_clears_one() -> None:
    # Given a user whose mail differs, whose sn is the same, and whose row leaves givenName empty
    before = seen("jdoe", mail="old@lab.example", given_name="John", sn="Doe")
    p = plan([row("jdoe", mail="new@lab.example", sn="Doe")], {"jdoe": before}, update=True)
    # Then one modify replaces mail only; givenName (empty cell) is left as it is
    (change,) = p.changes
    assert change.id == f"user.update:CN=jdoe,{WS}" and change.action == "ldap.modify"
    assert isinstance(change.payload, ModifyEntry)
    assert change.payload.changes == {"mail": [("replace", ["new@lab.example"])]}
    assert change.details["attributes"] == {"mail": {"from": "old@lab.example", "to": "new@lab.example"}}
    assert not p.warnings


def test_without_update_existing_users_are_left_as_they_are() -> None:
    before = seen("jdoe", OLD, mail=None, sn="Old")
    p = plan([row("jdoe", mail="j@lab.example", sn="New")], {"jdoe": before})
    assert p.empty and p.in_place == (f"user jdoe exists at CN=jdoe,{OLD}",)
    # And the warning says the directory's user has no mail and --update would set the file's
    assert len(p.warnings) == 1 and "--update would set" in p.warnings[0]


def test_a_user_elsewhere_moves_and_its_new_memberships_follow_the_move() -> None:
    # Given a user in OU=Old whose row puts it in OU=WS and in group G
    before = seen("jdoe", OLD, mail="j@lab.example")
    p = plan([row("jdoe", mail="j@lab.example", groups=("G",))], {"jdoe": before}, update=True)
    move, join = p.changes
    # Then a ModifyDN keeps the RDN and goes to the row's OU
    assert move.id == f"user.move:CN=jdoe,{OLD}" and move.action == "ldap.move"
    assert move.payload == MoveEntry(f"CN=jdoe,{OLD}", "CN=jdoe", WS)
    # And the membership names the new DN and waits for the move
    assert isinstance(join.payload, AddMembers) and join.payload.members == (f"CN=jdoe,{WS}",)
    assert join.depends_on == (move.id,)
    # And once moved and in the group, nothing is planned
    after = ObservedUser(f"CN=jdoe,{WS}", "jdoe", frozenset({GROUP.casefold()}), mail="j@lab.example")
    assert plan([row("jdoe", mail="j@lab.example", groups=("G",))], {"jdoe": after}, update=True).empty


def test_an_empty_ou_cell_moves_only_to_a_default_ou_that_was_asked_for() -> None:
    before = seen("jdoe", OLD, mail="j@lab.example")
    assert plan([row("jdoe", mail="j@lab.example", ou=None)], {"jdoe": before}, update=True).empty
    p = plan(
        [row("jdoe", mail="j@lab.example", ou=None)], {"jdoe": before}, update=True, move_to_default=True
    )
    assert [c.id.split(":")[0] for c in p.changes] == ["user.move"]


def test_escaped_rdns_move_as_they_are() -> None:
    before = ObservedUser(f"CN=Doe\\, John,{OLD}", "jdoe", frozenset(), mail="j@lab.example")
    (move,) = plan([row("jdoe", mail="j@lab.example")], {"jdoe": before}, update=True).changes
    assert isinstance(move.payload, MoveEntry) and move.payload.new_dn == f"CN=Doe\\, John,{WS}"


def test_rows_that_leave_a_user_without_mail_are_warnings_with_their_line() -> None:
    # Given a new user without mail, an existing one without mail anywhere, and ones that will have mail
    p = plan(
        [
            row("new", line=2),
            row("old", line=3),
            row("fine", mail="f@lab.example", line=4),
            row("has", line=5),
        ],
        {"old": seen("old"), "has": seen("has", mail="h@lab.example")},
        update=True,
    )
    # Then the first two are warned about, each with its line and why it matters
    assert [w.split(":")[0] for w in p.warnings] == ["line 2", "line 3"]
    assert all("no WorkSpace can be launched" in w for w in p.warnings)
    # And the import still plans the create
    assert [c.id.split(":")[0] for c in p.changes] == ["user.create", "user.create"]
