"""The target domain verdicts (adprep.checks.trust) and input rules (adprep.jobs.target_domain), pure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from adprep.checks.trust import (
    as_target_results,
    check_target_dc,
    check_target_rights,
    check_trust,
    dn_domain,
)
from adprep.errors import InputError
from adprep.facts.account import BindOutcome, ContainerRights
from adprep.facts.directory import Observed, RootDse
from adprep.facts.trust import ForestDomain, TargetDcFacts, TrustedDomain, TrustFacts
from adprep.jobs.preflight import preflight_settings
from adprep.jobs.target_domain import (
    finish_target_checks,
    foreign_ou_skips,
    resolve_target_domain,
    target_ou_dn,
)
from adprep.model import CheckResult, Status

ACCOUNT, TARGET = "corp.example.com", "res.example.com"


def tdo(
    partner: str = TARGET, direction: int = 1, type_: int = 2, attributes: int = 0, flat: str = "RES"
) -> TrustedDomain:
    return TrustedDomain(
        f"CN={partner},CN=System,DC=corp,DC=example,DC=com", partner, flat, direction, type_, attributes
    )


def facts(*trusts: TrustedDomain, forest: tuple[str, ...] = (ACCOUNT,)) -> Observed[TrustFacts]:
    return Observed(
        TrustFacts(ACCOUNT, "10.0.0.10", trusts, tuple(ForestDomain(d, None, None) for d in forest))
    )


def judge(observed: Observed[TrustFacts], target: str = TARGET) -> CheckResult:
    return check_trust(observed, account_domain=ACCOUNT, target_domain=target)


# --- dn_domain / resolve_target_domain ----------------------------------------------------------------


def test_dn_domain_reads_the_dc_components() -> None:
    assert dn_domain("OU=WorkSpaces,OU=Site A,DC=Res,DC=Example,DC=com") == "res.example.com"
    assert dn_domain("WorkSpaces/Computers") is None  # an OU path, not a DN
    assert dn_domain("OU=no-dc-parts") is None
    assert dn_domain("OU=bad,,DC=x") is None  # malformed: not ours to judge here


def test_an_ou_of_another_domain_implies_the_target_domain() -> None:
    assert resolve_target_domain(ACCOUNT, None, "OU=WS,DC=res,DC=example,DC=com") == TARGET
    assert resolve_target_domain(ACCOUNT, None, "OU=WS,DC=corp,DC=example,DC=com") is None
    assert resolve_target_domain(ACCOUNT, None, "WorkSpaces") is None
    assert resolve_target_domain(ACCOUNT, "RES.example.com", None) == TARGET


def test_target_domain_inputs_that_cannot_be_right_are_refused() -> None:
    with pytest.raises(InputError, match="is the domain AD Connector connects to"):
        resolve_target_domain(ACCOUNT, "Corp.Example.com", None)
    with pytest.raises(InputError, match="not in the target domain"):
        resolve_target_domain(ACCOUNT, TARGET, "OU=WS,DC=other,DC=example")
    with pytest.raises(InputError, match="not in the target domain"):  # computers go into the target domain
        resolve_target_domain(ACCOUNT, TARGET, "OU=WS,DC=corp,DC=example,DC=com")
    with pytest.raises(InputError):
        resolve_target_domain(ACCOUNT, "res", None)  # single-label


# --- target.trust ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("direction", "way"), [(1, "one-way"), (3, "two-way")])
def test_the_target_trusting_the_account_domain_passes(direction: int, way: str) -> None:
    r = judge(facts(tdo(direction=direction, attributes=0x4)))
    assert r.status is Status.PASS
    assert way in r.title
    assert r.facts["direction"] == ("inbound" if direction == 1 else "two-way")
    assert r.facts["attributes"] == ["quarantined_domain"]


def test_an_outbound_only_trust_is_the_wrong_way_round_and_the_remedy_says_which_way() -> None:
    r = judge(facts(tdo(direction=2)))
    assert r.status is Status.FAIL
    assert "wrong way" in r.title
    assert r.remedy is not None and f"{TARGET} must trust {ACCOUNT}" in r.remedy


@pytest.mark.parametrize(("trust", "words"), [(tdo(direction=0), "disabled"), (tdo(type_=3), "MIT")])
def test_disabled_and_mit_trusts_fail(trust: TrustedDomain, words: str) -> None:
    r = judge(facts(trust))
    assert r.status is Status.FAIL
    assert words in r.title


def test_no_trust_at_all_fails_with_how_to_create_it() -> None:
    r = judge(facts(tdo(partner="other.example")))
    assert r.status is Status.FAIL
    assert r.facts["trusts_seen"] == ["other.example"]
    assert r.remedy is not None and "outgoing from res.example.com" in r.remedy


def test_a_domain_of_the_same_forest_is_trusted_by_the_forest() -> None:
    r = judge(facts(forest=(ACCOUNT, "child.corp.example.com")), target="child.corp.example.com")
    assert r.status is Status.PASS
    assert "forest" in r.title


def test_a_forest_trust_reaches_the_child_domains_of_the_trusted_forest() -> None:
    r = judge(facts(tdo(partner="res.example.com", direction=3, attributes=0x8)), target="eu.res.example.com")
    assert r.status is Status.PASS
    assert "forest trust with res.example.com" in r.title
    treated = judge(
        facts(tdo(partner="res.example.com", direction=3, attributes=0x8 | 0x40)), target="eu.res.example.com"
    )
    assert treated.status is Status.FAIL


def test_selective_authentication_and_downlevel_trusts_warn() -> None:
    selective = judge(facts(tdo(attributes=0x10)))
    assert selective.status is Status.WARN
    assert selective.remedy is not None and "Allowed to authenticate" in selective.remedy
    downlevel = judge(facts(tdo(partner="RES", type_=1, flat="RES")))  # named by its NetBIOS name
    assert downlevel.status is Status.WARN
    assert downlevel.facts["trust_partner"] == "RES"


def test_unread_trusts_are_an_error_and_no_account_is_a_skip() -> None:
    assert judge(Observed.failed("The trusts of corp.example.com: timed out")).status is Status.ERROR
    skipped = check_trust(
        None, account_domain=ACCOUNT, target_domain=TARGET, skip_reason="no service account given"
    )
    assert skipped.status is Status.SKIP
    assert "no service account given" in skipped.title


# --- target.directory / target.rights -------------------------------------------------------------------


def root(nc: str | None) -> Observed[RootDse]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Observed(RootDse(7, 7, 7, now, now, 0.01, nc, None, None, "dc1.res.example.com"))


def dc_facts(**kw: object) -> TargetDcFacts:
    base: dict[str, object] = {"address": "10.1.0.10", "root_dse": root("DC=res,DC=example,DC=com"),
                               "container_dn": "OU=WS,DC=res,DC=example,DC=com"}  # fmt: skip
    base.update(kw)
    return TargetDcFacts(**base)  # type: ignore[arg-type]


def test_the_target_dc_must_serve_the_target_domain() -> None:
    assert check_target_dc(dc_facts(), TARGET).status is Status.PASS
    wrong = check_target_dc(dc_facts(root_dse=root("DC=corp,DC=example,DC=com")), TARGET)
    assert wrong.status is Status.FAIL
    assert "corp.example.com" in wrong.title
    assert check_target_dc(dc_facts(root_dse=Observed.failed("timed out")), TARGET).status is Status.ERROR


def bound(ok: bool = True, **kw: object) -> BindOutcome:
    return BindOutcome(ok, "ldaps", f"svc@{ACCOUNT}", **kw)  # type: ignore[arg-type]


def test_rights_in_the_target_ou_pass_fail_or_missing() -> None:
    rights = ContainerRights("OU=WS,DC=res,DC=example,DC=com", "given", True, ("computer", "user"))
    assert (
        check_target_rights(dc_facts(bind=bound(), container=Observed(rights)), TARGET).status is Status.PASS
    )
    none = ContainerRights("OU=WS,DC=res,DC=example,DC=com", "given", True, ("user",))
    failed = check_target_rights(dc_facts(bind=bound(), container=Observed(none)), TARGET)
    assert failed.status is Status.FAIL
    assert failed.remedy is not None and "foreign security principal" in failed.remedy
    missing = ContainerRights("OU=WS,DC=res,DC=example,DC=com", "given", False)
    assert (
        check_target_rights(dc_facts(bind=bound(), container=Observed(missing)), TARGET).status is Status.FAIL
    )


def test_a_bind_the_target_dc_refuses_is_a_skip_that_says_what_was_not_checked() -> None:
    refused = bound(False, code=49, subcode="52e", sentence="The user name or password is wrong.")
    r = check_target_rights(dc_facts(bind=refused), TARGET)
    assert r.status is Status.SKIP
    assert r.facts["result_code"] == 49
    assert r.remedy is not None and "dsacls" in r.remedy
    untrusted = bound(False, connected=False, sentence="The certificate of 10.1.0.10 is not trusted")
    tls = check_target_rights(dc_facts(bind=untrusted), TARGET)
    assert tls.status is Status.ERROR  # a path or certificate problem, not a finding about the trust
    assert "could not connect" in tls.title
    not_tried = check_target_rights(dc_facts(not_tried="no service account given (--user)"), TARGET)
    assert not_tried.status is Status.SKIP and "no service account" in not_tried.title
    assert check_target_rights(None, TARGET, skip_reason="no DC answered").status is Status.SKIP


def test_dns_results_for_the_target_get_their_own_ids_and_no_adc_error() -> None:
    r = CheckResult(
        "dns.srv.ldap_tcp.10.0.0.10.udp", Status.FAIL, "missing", adc_error="SRV record for LDAP ..."
    )
    (t,) = as_target_results([r], TARGET)
    assert (t.id, t.adc_error, t.title) == (
        "target.dns.srv.ldap_tcp.10.0.0.10.udp",
        None,
        f"{TARGET}: missing",
    )


# --- an --ou in the target domain ----------------------------------------------------------------------


def test_an_ou_of_the_target_domain_is_never_judged_in_the_account_domain() -> None:
    settings = preflight_settings(
        domain=ACCOUNT, dns_ips=["10.0.0.10"], username=None, password=lambda: None,  # type: ignore[arg-type,return-value]
        target_ou="OU=WS,DC=res,DC=example,DC=com",
    )  # fmt: skip
    assert settings.target_domain == TARGET
    seen = [
        CheckResult("account.rights.create_computer", Status.FAIL, "does not exist"),
        CheckResult("account.join_probe", Status.SKIP, "not asked"),
        CheckResult("account.bind", Status.PASS, "bound"),
    ]
    out = {r.id: r for r in foreign_ou_skips(settings, seen)}
    assert out["account.rights.create_computer"].status is Status.SKIP
    assert "target.rights.create_computer" in out["account.rights.create_computer"].title
    assert out["account.join_probe"].title == "not asked"  # a skip stays as it was
    assert out["account.bind"].status is Status.PASS


def test_an_ou_path_with_a_target_domain_is_a_path_inside_the_target_domain() -> None:
    settings = preflight_settings(
        domain=ACCOUNT, dns_ips=["10.0.0.10"], username=None, password=lambda: None,  # type: ignore[arg-type,return-value]
        target_ou="WorkSpaces/Pool A", target_domain=TARGET,
    )  # fmt: skip
    assert target_ou_dn(settings) == "OU=Pool A,OU=WorkSpaces,DC=res,DC=example,DC=com"
    no_ou = preflight_settings(
        domain=ACCOUNT, dns_ips=["10.0.0.10"], username=None, password=lambda: None,  # type: ignore[arg-type,return-value]
        target_domain=TARGET,
    )  # fmt: skip
    assert target_ou_dn(no_ou) is None
    skipped = foreign_ou_skips(
        no_ou, [CheckResult("account.rights.create_computer", Status.FAIL, "no right")]
    )
    assert skipped[0].status is Status.SKIP  # the account domain's computers container is not where they go


def test_a_target_phase_that_stops_is_one_error_result_not_a_crash() -> None:
    # Given a target domain whose network phase raises (an unexpected exception: a bug)
    settings = preflight_settings(
        domain=ACCOUNT, dns_ips=["10.0.0.10"], username=None, password=lambda: None,  # type: ignore[arg-type,return-value]
        target_domain=TARGET,
    )  # fmt: skip

    async def run() -> list[CheckResult]:
        async def boom() -> object:
            raise ZeroDivisionError

        task = asyncio.create_task(boom())
        return await finish_target_checks(task, settings, None, [])  # type: ignore[arg-type]

    # When it is finished, then it is one target.run error and the account domain's results stand
    (r,) = asyncio.run(run())
    assert (r.id, r.status, r.facts["exception"]) == ("target.run", Status.ERROR, "ZeroDivisionError")
