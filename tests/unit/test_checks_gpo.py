"""Scan verdicts without a DC: which links reach the OU, and which settings break WorkSpaces."""

from __future__ import annotations

from adprep import requirements as req
from adprep.checks.gpo import AppliedLink, ScannedGpo, ScopeFacts, applied_links, check_gpo_scan
from adprep.collect.gpo import LinkContainer
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
    chain = [LinkContainer(BASE, link(G1) + link(G2, 2)), LinkContainer(OU, link(G3), block_inheritance=True)]
    assert [a.gpo_dn for a in applied_links(chain)] == [dn(G2), dn(G3)]


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
