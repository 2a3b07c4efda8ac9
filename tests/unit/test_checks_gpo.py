"""Scan verdicts without a DC: which links reach the OU, and which settings break WorkSpaces."""

from __future__ import annotations

from adprep import requirements as req
from adprep.checks.gpo import (
    AppliedLink,
    ScopeFacts,
    SiteScope,
    applied_links,
    check_gpo_scan,
    effective_session_limits,
    site_name,
    site_scopes,
)
from adprep.facts.gpo import LinkContainer, ScannedGpo
from adprep.gpo.registry_pol import PolEntry
from adprep.model import Status

BASE = "DC=corp,DC=example"
OU = f"OU=WorkSpaces,{BASE}"
G1, G2, G3 = (f"{{{n * 8}-1111-1111-1111-111111111111}}" for n in "ABC")


def dn(guid: str) -> str:
    return f"CN={guid},CN=Policies,CN=System,{BASE}"


def link(guid: str, options: int = 0) -> str:
    return f"[LDAP://{dn(guid)};{options}]"


def banner_gpo(guid: str = G1, **kw: object) -> ScannedGpo:
    pol = (
        PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeCaption", "Notice"),
        PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeText", "Authorized use only."),
    )
    return ScannedGpo(dn=dn(guid), guid=guid, display_name="Corp banner", registry_pol=pol, **kw)  # type: ignore[arg-type]


def scan(*gpos: ScannedGpo, container: str = BASE) -> list:  # type: ignore[type-arg]
    links = tuple(AppliedLink(g.dn, container, False) for g in gpos)
    return check_gpo_scan(ScopeFacts(OU, links, gpos))


# -- which links reach the OU ------------------------------------------------------------------


def test_links_from_the_domain_down_skip_disabled_ones() -> None:
    chain = [LinkContainer(BASE, link(G1) + link(G2, 1)), LinkContainer(OU, link(G3))]
    assert [(a.gpo_dn, a.container_dn) for a in applied_links(chain)] == [(dn(G1), BASE), (dn(G3), OU)]


def test_block_inheritance_stops_links_above_except_enforced() -> None:
    # Given a domain with a plain and an enforced link, above an OU that blocks inheritance
    chain = [LinkContainer(BASE, link(G1) + link(G2, 2)), LinkContainer(OU, link(G3), block_inheritance=True)]
    # Then only the enforced link gets through, and it applies last (it wins over the OU's)
    assert [a.gpo_dn for a in applied_links(chain)] == [dn(G3), dn(G2)]


# -- verdicts ---------------------------------------------------------------------------------


def test_a_banner_in_registry_pol_fails_naming_the_gpo_the_link_and_the_fix() -> None:
    results = scan(banner_gpo())
    assert [(r.id, r.status) for r in results] == [(f"gpo.scan.{G1}.logon_banner", Status.FAIL)]
    r = results[0]
    assert "Corp banner" in r.title and BASE in r.title
    assert r.facts["values"] == ["LegalNoticeCaption", "LegalNoticeText"]
    assert r.remedy and "Interactive logon: Message" in r.remedy and "unlink" in r.remedy


def test_a_banner_in_the_security_template_fails() -> None:
    inf = (
        "[Unicode]\r\nUnicode=yes\r\n[Registry Values]\r\n"
        "MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\LegalNoticeText=7,Authorized,use only\r\n"
    )
    results = scan(ScannedGpo(dn=dn(G2), guid=G2, display_name="Security baseline", security_template=inf))
    assert [r.id for r in results] == [f"gpo.scan.{G2}.logon_banner"]
    assert results[0].facts["sources"] == ["Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf"]


def test_an_empty_or_deleted_banner_passes() -> None:
    empty = ScannedGpo(
        dn=dn(G1), guid=G1, display_name="x",
        registry_pol=(
            PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeText", ""),
            PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeCaption", "Notice"),
            PolEntry.delete(req.LOGON_BANNER_KEY, "LegalNoticeCaption"),
        ),
        security_template='[Registry Values]\r\nMACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\LegalNoticeCaption=1,""\r\n',
    )  # fmt: skip
    results = scan(empty)
    assert [(r.id, r.status) for r in results] == [("gpo.scan.clean", Status.PASS)]
    assert results[0].facts["gpos"] == ["x"]


def test_a_gpo_with_its_computer_half_disabled_is_not_a_finding() -> None:
    assert [r.id for r in scan(banner_gpo(flags=2))] == ["gpo.scan.clean"]


def test_a_dangling_link_warns_and_an_unreadable_gpo_is_an_error() -> None:
    results = scan(
        ScannedGpo(dn=dn(G1), guid=G1, display_name=None, exists=False),
        ScannedGpo(dn=dn(G2), guid=G2, display_name="y", error="access was denied"),
    )
    assert [(r.id, r.status) for r in results] == [
        (f"gpo.scan.{G1}.missing", Status.WARN),
        (f"gpo.scan.{G2}.unreadable", Status.ERROR),
    ]


def test_no_gpo_at_all_is_clean() -> None:
    assert [r.status for r in scan()] == [Status.PASS]


# -- precedence (LSDOU) and sites ---------------------------------------------------------------

SITE = "CN=Branch,CN=Sites,CN=Configuration,DC=corp,DC=example"
G4, G5 = (f"{{{n * 8}-2222-2222-2222-222222222222}}" for n in "DE")


def test_links_apply_site_domain_ous_then_enforced_bottom_up() -> None:
    # Given a site, the domain and two OUs, each with a plain link and (but the OU) an enforced one
    inner = f"OU=Desks,{OU}"
    chain = [
        LinkContainer(SITE, link(G1) + link(G2, 2)),
        LinkContainer(BASE, link(G3) + link(G4, 2)),
        LinkContainer(OU, link(G5)),
        LinkContainer(inner, ""),
    ]

    # When the order they apply in is worked out
    order = [(a.gpo_dn, a.enforced) for a in applied_links(chain)]

    # Then plain links go top down, then enforced ones bottom up: the site's enforced link applies last
    assert order == [(dn(G1), False), (dn(G3), False), (dn(G5), False), (dn(G4), True), (dn(G2), True)]


def test_block_inheritance_on_the_domain_stops_site_links_too() -> None:
    chain = [LinkContainer(SITE, link(G1)), LinkContainer(BASE, link(G2), block_inheritance=True)]
    assert [a.gpo_dn for a in applied_links(chain)] == [dn(G2)]


def test_site_scopes_name_each_site_that_adds_links() -> None:
    # Given the domain's links, a site with a link and a site whose only link is disabled
    chain = [LinkContainer(BASE, link(G1)), LinkContainer(OU, "")]
    quiet = LinkContainer("CN=Quiet,CN=Sites,CN=Configuration,DC=corp,DC=example", link(G3, 1))

    # When the scopes are worked out
    scopes = site_scopes(chain, [LinkContainer(SITE, link(G2)), quiet])

    # Then only the site that adds a link is a scope of its own, its link applying first
    assert [(s.site, [a.gpo_dn for a in s.links]) for s in scopes] == [("Branch", [dn(G2), dn(G1)])]
    assert site_name(SITE) == "Branch" and site_name(OU) is None


def test_a_banner_in_a_site_linked_gpo_names_the_site() -> None:
    # Given a banner GPO reaching the computers container only through a site
    gpo = banner_gpo(G2)
    site_links = (AppliedLink(gpo.dn, SITE, False),)
    facts = ScopeFacts(COMPUTERS, (), (gpo,), sites=(SiteScope("Branch", site_links),),
                       container_source="wellKnownObjects")  # fmt: skip

    # When the scan is judged
    results = check_gpo_scan(facts)

    # Then it fails naming the site, and the fix does not suggest blocking inheritance on a container
    assert [(r.id, r.status) for r in results] == [(f"gpo.scan.{G2}.logon_banner", Status.FAIL)]
    assert "linked at site Branch" in results[0].title
    assert results[0].facts["linked_at"] == [SITE]
    assert results[0].remedy and "OU of their own that blocks inheritance" in results[0].remedy


# -- session time limits ----------------------------------------------------------------------

COMPUTERS = f"CN=Computers,{BASE}"


def limits_gpo(guid: str, *entries: PolEntry, name: str = "RDS limits", flags: int = 0) -> ScannedGpo:
    return ScannedGpo(dn=dn(guid), guid=guid, display_name=name, flags=flags, registry_pol=entries)


def rds(value: str, n: int) -> PolEntry:
    return PolEntry.dword(req.RDS_POLICY_KEY, value, n)


def judge(*gpos: ScannedGpo, sites: tuple[SiteScope, ...] = ()) -> list:  # type: ignore[type-arg]
    links = tuple(AppliedLink(g.dn, BASE, False) for g in gpos)
    return check_gpo_scan(
        ScopeFacts(COMPUTERS, links, gpos, sites=sites, container_source="wellKnownObjects")
    )


def test_a_time_limit_for_disconnected_sessions_warns_with_the_policy_to_change() -> None:
    # Given a domain GPO that ends disconnected sessions after 15 minutes
    results = judge(limits_gpo(G1, rds(req.RDS_MAX_DISCONNECTION, 15 * 60_000)))

    # Then it warns (the WorkSpace still works, but users who disconnect are logged off)
    assert [(r.id, r.status) for r in results] == [(f"gpo.scan.{G1}.disconnect_logoff", Status.WARN)]
    r = results[0]
    assert "after 15 minutes" in r.title and "logged off" in r.title and BASE in r.title
    assert r.facts["milliseconds"] == 900_000 and r.facts["linked_at"] == [BASE]
    assert r.remedy and "'Set time limit for disconnected sessions'" in r.remedy
    assert "Session Time Limits" in r.remedy and "Never" in r.remedy
    assert "Amazon WorkSpaces Administration Guide (2016)" in r.remedy


def test_the_value_that_wins_decides_never_or_deleted_later_clears_it() -> None:
    # Given a 1-hour limit, then a GPO applied later that sets Never (0), or deletes the value
    early = limits_gpo(G1, rds(req.RDS_MAX_DISCONNECTION, 3_600_000))
    never = limits_gpo(G2, rds(req.RDS_MAX_DISCONNECTION, 0), name="Never")
    deleted = limits_gpo(G3, PolEntry.delete(req.RDS_POLICY_KEY, req.RDS_MAX_DISCONNECTION), name="Deleted")

    # Then neither ends in a finding, but the other order does, naming the GPO that wins
    assert [r.id for r in judge(early, never)] == ["gpo.scan.clean"]
    assert [r.id for r in judge(early, deleted)] == ["gpo.scan.clean"]
    assert [r.id for r in judge(never, early)] == [f"gpo.scan.{G1}.disconnect_logoff"]
    effective = effective_session_limits((AppliedLink(early.dn, BASE, False),), (early,))
    assert effective == {req.RDS_MAX_DISCONNECTION: (3_600_000, early)}


def test_a_gpo_with_its_computer_half_disabled_sets_no_limit() -> None:
    assert [r.id for r in judge(limits_gpo(G1, rds(req.RDS_MAX_DISCONNECTION, 60_000), flags=2))] == [
        "gpo.scan.clean"
    ]


def test_end_session_at_limit_warns_only_with_an_idle_or_active_limit() -> None:
    # Given "End session when time limits are reached" in one GPO, an idle limit in another
    end = limits_gpo(G1, rds(req.RDS_END_AT_LIMIT, 1), name="End sessions")
    idle = limits_gpo(G2, rds(req.RDS_MAX_IDLE, 30 * 60_000), name="Idle")

    # Then alone neither is a finding; together the GPO that ends sessions is named, with the limit
    assert [r.id for r in judge(end)] == ["gpo.scan.clean"]
    assert [r.id for r in judge(idle)] == ["gpo.scan.clean"]
    results = judge(idle, end)
    assert [(r.id, r.status) for r in results] == [(f"gpo.scan.{G1}.end_session_at_limit", Status.WARN)]
    r = results[0]
    assert "30 minutes" in r.title and "'Idle'" in r.title
    assert r.facts["limits"] == {req.RDS_MAX_IDLE: {"milliseconds": 1_800_000, "gpo": "Idle"}}
    assert r.remedy and "'End session when time limits are reached'" in r.remedy
    # and disabling it (0) or an unlimited idle time (0) clears it
    assert [r.id for r in judge(idle, limits_gpo(G1, rds(req.RDS_END_AT_LIMIT, 0)))] == ["gpo.scan.clean"]
    assert [r.id for r in judge(end, limits_gpo(G2, rds(req.RDS_MAX_IDLE, 0)))] == ["gpo.scan.clean"]


def test_a_limit_set_only_through_a_site_names_that_site() -> None:
    # Given a clean domain, and a site whose GPO ends disconnected sessions after 1 day
    site_gpo = limits_gpo(G2, rds(req.RDS_MAX_DISCONNECTION, 86_400_000), name="Branch limits")
    scope = SiteScope("Branch", (AppliedLink(site_gpo.dn, SITE, False),))

    # When the scan is judged
    results = check_gpo_scan(ScopeFacts(COMPUTERS, (), (site_gpo,), sites=(scope,)))

    # Then the finding holds only for computers in that site, and says so
    (r,) = results
    assert r.id == f"gpo.scan.{G2}.disconnect_logoff" and "after 1 day" in r.title
    assert r.title.endswith("(for computers in site Branch)") and r.facts["sites"] == ["Branch"]


def test_an_enforced_site_gpo_that_sets_never_spares_that_site_only() -> None:
    # Given a domain GPO with a limit, and a site whose enforced GPO sets Never
    domain_gpo = limits_gpo(G1, rds(req.RDS_MAX_DISCONNECTION, 60_000))
    site_gpo = limits_gpo(G2, rds(req.RDS_MAX_DISCONNECTION, 0), name="Never at the branch")
    base_links = (AppliedLink(domain_gpo.dn, BASE, False),)
    scope = SiteScope("Branch", (*base_links, AppliedLink(site_gpo.dn, SITE, True)))

    # When the scan is judged
    results = check_gpo_scan(ScopeFacts(COMPUTERS, base_links, (domain_gpo, site_gpo), sites=(scope,)))

    # Then the domain GPO's limit is reported, except for computers in that site
    (r,) = results
    assert r.id == f"gpo.scan.{G1}.disconnect_logoff" and r.facts["not_in_sites"] == ["Branch"]


def test_the_clean_result_says_which_container_and_sites_were_scanned() -> None:
    scope = SiteScope("Branch", (AppliedLink(dn(G2), SITE, False),))
    gpo = ScannedGpo(dn=dn(G2), guid=G2, display_name="Branch printers", registry_pol=())
    (r,) = check_gpo_scan(
        ScopeFacts(COMPUTERS, (), (gpo,), sites=(scope,), container_source="wellKnownObjects")
    )
    assert r.id == "gpo.scan.clean" and COMPUTERS in r.title and "site Branch" in r.title
    assert r.facts["container_source"] == "wellKnownObjects" and r.facts["sites"] == ["Branch"]
