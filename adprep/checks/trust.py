"""Target domain verdicts (pure): the WorkSpaces guide's "Target Domain and Default OU".

WorkSpaces can put its computers in a domain other than the one AD Connector connects to (the
account domain), when that target (resource) domain trusts the account domain: users of the account
domain then log on to computers of the target domain (Amazon WorkSpaces Administration Guide,
"Target Domain and Default OU"). The trust may be a one-way trust in which the target domain trusts
the account domain, a two-way trust, or the implicit two-way trusts between the domains of one forest
(a child or tree domain).

``trustDirection`` is read in the account domain (MS-ADTS 6.1.6.7.12), so the direction WorkSpaces
needs is INBOUND (1: the partner, the target domain, trusts the account domain) or BOTH (3). OUTBOUND
(2) alone is the wrong way round: the account domain trusts the target domain, and users of the
account domain cannot log on to the target domain's computers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from adprep.ad.dn import parse_dn
from adprep.catalogue import check_id
from adprep.errors import InputError
from adprep.facts.directory import Observed
from adprep.facts.trust import ForestDomain, TargetDcFacts, TrustedDomain, TrustFacts
from adprep.model import CheckResult, ErrorReason, FactValue, Status

TRUST_ID = check_id("target.trust")
RIGHTS_ID = check_id("target.rights.create_computer")

#: MS-ADTS 6.1.6.7.12 trustDirection.
TRUST_DIRECTION_DISABLED = 0
TRUST_DIRECTION_INBOUND = 1
TRUST_DIRECTION_OUTBOUND = 2
TRUST_DIRECTION_BIDIRECTIONAL = 3
#: MS-ADTS 6.1.6.7.15 trustType.
TRUST_TYPE_DOWNLEVEL = 1
TRUST_TYPE_UPLEVEL = 2
TRUST_TYPE_MIT = 3
#: MS-ADTS 6.1.6.7.9 trustAttributes.
TRUST_ATTRIBUTE_NON_TRANSITIVE = 0x1
TRUST_ATTRIBUTE_QUARANTINED_DOMAIN = 0x4
TRUST_ATTRIBUTE_FOREST_TRANSITIVE = 0x8
TRUST_ATTRIBUTE_CROSS_ORGANIZATION = 0x10
TRUST_ATTRIBUTE_WITHIN_FOREST = 0x20
TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL = 0x40

_DIRECTIONS = {0: "disabled", 1: "inbound", 2: "outbound", 3: "two-way"}
_TYPES = {1: "downlevel (Windows NT 4.0)", 2: "uplevel (Active Directory)", 3: "MIT Kerberos realm"}
_ATTRIBUTE_NAMES = {
    TRUST_ATTRIBUTE_NON_TRANSITIVE: "non_transitive",
    0x2: "uplevel_only",
    TRUST_ATTRIBUTE_QUARANTINED_DOMAIN: "quarantined_domain",
    TRUST_ATTRIBUTE_FOREST_TRANSITIVE: "forest_transitive",
    TRUST_ATTRIBUTE_CROSS_ORGANIZATION: "cross_organization",
    TRUST_ATTRIBUTE_WITHIN_FOREST: "within_forest",
    TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL: "treat_as_external",
}


def dn_domain(dn: str) -> str | None:
    """The DNS domain a DN's ``DC=`` components name (``OU=WS,DC=res,DC=example`` -> ``res.example``);
    None for a DN without them (or an OU path such as ``WorkSpaces/Computers``)."""
    if "=" not in dn:
        return None
    try:
        rdns = parse_dn(dn)
    except InputError:
        return None
    labels = [r.value for r in rdns if r.attr.lower() == "dc"]
    return ".".join(labels).lower() or None


def attribute_names(value: int) -> list[str]:
    """The names of the ``trustAttributes`` bits set in ``value`` (MS-ADTS 6.1.6.7.9)."""
    return [name for bit, name in _ATTRIBUTE_NAMES.items() if value & bit]


def _same(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def _under(child: str, parent: str) -> bool:
    c, p = child.rstrip(".").lower(), parent.rstrip(".").lower()
    return c.endswith("." + p)


def _trust_facts(t: TrustedDomain) -> dict[str, FactValue]:
    return {
        "trust_partner": t.partner,
        "flat_name": t.flat_name,
        "trust_direction": t.direction,
        "direction": _DIRECTIONS.get(t.direction, f"unknown ({t.direction})"),
        "trust_type": t.type,
        "type": _TYPES.get(t.type, f"unknown ({t.type})"),
        "trust_attributes": t.attributes,
        "attributes": attribute_names(t.attributes),
        "dn": t.dn,
    }


def _remedy_create(account: str, target: str) -> str:
    return (
        f"Create a trust in which {target} (the target domain, where the WorkSpaces' computers go) trusts "
        f"{account} (the account domain AD Connector connects to): a one-way trust, outgoing from {target} "
        f"and incoming in {account}, or a two-way trust (New Trust Wizard in Active Directory Domains and "
        f"Trusts, or 'netdom trust {target} /domain:{account} /add'). Users of {account} then log on to "
        f"computers of {target}."
    )


def check_trust(
    observed: Observed[TrustFacts] | None,
    *,
    account_domain: str,
    target_domain: str,
    skip_reason: str | None = None,
) -> CheckResult:
    """``target.trust``: the target domain trusts the account domain (read in the account domain)."""
    title = f"Trust: {target_domain} trusts {account_domain}"
    base: dict[str, FactValue] = {"account_domain": account_domain, "target_domain": target_domain}
    if observed is None:
        return CheckResult(
            TRUST_ID, Status.SKIP, f"{title}: not read ({skip_reason or 'no service account'})", base,
            remedy=skip_reason,
        )  # fmt: skip
    if observed.value is None:
        return CheckResult(
            TRUST_ID, Status.ERROR, f"{title}: the trusts could not be read", {**base, "reason": observed.error},
            remedy=observed.error, reason=observed.error_reason or ErrorReason.UNREACHABLE,
        )  # fmt: skip
    facts = observed.value
    read: dict[str, FactValue] = {
        **base,
        "read_from": facts.dc,
        "trusts_seen": [t.partner for t in facts.trusts],
        "forest_domains": [f.dns_root for f in facts.forest],
    }
    in_forest = _forest_member(facts.forest, target_domain)
    if in_forest is not None:
        return CheckResult(
            TRUST_ID, Status.PASS,
            f"{target_domain} is a domain of {account_domain}'s forest: the forest's two-way transitive trusts "
            "cover it", {**read, "forest_domain": in_forest.dns_root, "netbios": in_forest.netbios},
            target=target_domain,
        )  # fmt: skip
    direct = _direct_trust(facts.trusts, target_domain)
    if direct is not None:
        return _judge(direct, read, account_domain, target_domain, via=None)
    forest = _forest_trust(facts.trusts, target_domain)
    if forest is not None:
        return _judge(forest, read, account_domain, target_domain, via=forest.partner)
    return CheckResult(
        TRUST_ID, Status.FAIL,
        f"No trust between {account_domain} and {target_domain}: {account_domain} has no trustedDomain object "
        f"for it and it is not in the same forest", read, remedy=_remedy_create(account_domain, target_domain),
        target=target_domain,
    )  # fmt: skip


def _forest_member(forest: Iterable[ForestDomain], target: str) -> ForestDomain | None:
    return next((f for f in forest if _same(f.dns_root, target)), None)


def _direct_trust(trusts: Iterable[TrustedDomain], target: str) -> TrustedDomain | None:
    label = target.split(".", 1)[0]
    found = [t for t in trusts if _same(t.partner, target)]
    # A downlevel trust names its partner by NetBIOS name; the DNS name's first label is the usual one.
    found += [
        t for t in trusts if t.type == TRUST_TYPE_DOWNLEVEL and t.flat_name and _same(t.flat_name, label)
    ]
    return found[0] if found else None


def _forest_trust(trusts: Iterable[TrustedDomain], target: str) -> TrustedDomain | None:
    """A forest trust to the forest root whose tree holds ``target`` (``child.res.example`` under a
    forest trust with ``res.example``): forest trusts are transitive within the trusted forest."""
    return next(
        (t for t in trusts if t.attributes & TRUST_ATTRIBUTE_FOREST_TRANSITIVE and _under(target, t.partner)),
        None,
    )


def _judge(
    t: TrustedDomain, read: dict[str, FactValue], account: str, target: str, *, via: str | None
) -> CheckResult:
    facts = {**read, **_trust_facts(t)}
    how = f"through the forest trust with {via}" if via else "directly"
    if t.type == TRUST_TYPE_MIT:
        return CheckResult(
            TRUST_ID, Status.FAIL,
            f"The trust with {t.partner} is a trust with an MIT Kerberos realm, not an Active Directory domain",
            facts, remedy=_remedy_create(account, target), target=target,
        )  # fmt: skip
    if t.direction == TRUST_DIRECTION_DISABLED:
        return CheckResult(
            TRUST_ID, Status.FAIL, f"The trust with {t.partner} is disabled (trustDirection 0)", facts,
            remedy=_remedy_create(account, target), target=target,
        )  # fmt: skip
    if not t.direction & TRUST_DIRECTION_INBOUND:
        return CheckResult(
            TRUST_ID, Status.FAIL,
            f"The trust goes the wrong way: {account} trusts {t.partner} (outbound only), but {target} does not "
            f"trust {account}", facts,
            remedy=f"{target} must trust {account}, not the other way round: users of {account} log on to "
            f"computers of {target}. Add the incoming direction (make the trust two-way), or create a one-way "
            f"trust outgoing from {target} to {account}.",
            target=target,
        )  # fmt: skip
    way = "two-way" if t.direction == TRUST_DIRECTION_BIDIRECTIONAL else "one-way"
    title = f"{target} trusts {account} ({way}, {how})"
    notes: list[str] = []
    if via is not None and t.attributes & TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL:
        # A forest trust treated as external is not transitive to the other domains of that forest.
        return CheckResult(
            TRUST_ID, Status.FAIL,
            f"The forest trust with {t.partner} is treated as external: it does not reach {target}", facts,
            remedy=_remedy_create(account, target), target=target,
        )  # fmt: skip
    if t.attributes & TRUST_ATTRIBUTE_CROSS_ORGANIZATION:
        notes.append(
            f"The trust uses selective authentication: give the users (or their group) 'Allowed to "
            f"authenticate' on the WorkSpaces' computer objects in {target}, or they cannot log on."
        )
    if t.type == TRUST_TYPE_DOWNLEVEL:
        notes.append(f"{t.partner} is a downlevel (Windows NT 4.0 style) trust: Kerberos cannot cross it.")
    if notes:
        return CheckResult(TRUST_ID, Status.WARN, title, facts, remedy=" ".join(notes), target=target)
    return CheckResult(TRUST_ID, Status.PASS, title, facts, target=target)


def check_target_dc(facts: TargetDcFacts, target_domain: str) -> CheckResult:
    """``target.directory.<dc>``: the DC answers LDAP and its rootDSE names the target domain."""
    cid = check_id("target.directory.<address>", address=facts.address)
    root = facts.root_dse
    if root.value is None:
        return CheckResult(
            cid, Status.ERROR, f"The rootDSE of {target_domain}'s DC {facts.address} could not be read",
            {"reason": root.error}, remedy=root.error, target=facts.address,
            reason=root.error_reason or ErrorReason.UNREACHABLE,
        )  # fmt: skip
    nc = root.value.default_nc
    got = dn_domain(nc) if nc else None
    fact_map: dict[str, FactValue] = {"default_naming_context": nc, "dns_host_name": root.value.dns_host_name}
    if got is not None and _same(got, target_domain):
        return CheckResult(
            cid, Status.PASS, f"{facts.address} ({root.value.dns_host_name or '?'}) is a DC of {target_domain}",
            fact_map, target=facts.address,
        )  # fmt: skip
    return CheckResult(
        cid, Status.FAIL, f"{facts.address} is not a DC of {target_domain} (its rootDSE names {got or nc or 'nothing'})",
        fact_map, remedy=f"Fix the SRV and A records of {target_domain} on the DNS servers given: they name a DC of "
        "another domain.", target=facts.address,
    )  # fmt: skip


def check_target_rights(
    facts: TargetDcFacts | None, target_domain: str, *, skip_reason: str | None = None
) -> CheckResult:
    """``target.rights.create_computer``: the service account may create computer objects in the target
    OU (or the target domain's computers container), as the target domain's DC computes it for the
    account (``allowedChildClassesEffective``, MS-ADTS 3.1.1.4.5.4) after a bind through the trust."""
    what = f"Right to create computer objects in {target_domain}"
    if facts is None or facts.bind is None:
        reason = (
            (facts.not_tried if facts else None) or skip_reason or "no DC of the target domain answered LDAP"
        )
        return CheckResult(RIGHTS_ID, Status.SKIP, f"{what}: not checked ({reason})", {"reason": reason},
                           remedy=reason, target=facts.address if facts else None)  # fmt: skip
    bind = facts.bind
    base: dict[str, FactValue] = {
        "container": facts.container_dn,
        "bind_name": bind.bind_name,
        "mode": bind.mode,
    }
    if not bind.ok and not bind.connected:
        # TCP or TLS failed before the DC judged anything: a path or certificate problem, not the trust.
        reason = bind.sentence or "the connection failed"
        return CheckResult(
            RIGHTS_ID, Status.ERROR, f"{what}: could not connect to {facts.address} ({reason})",
            {**base, "reason": reason}, remedy=bind.hint or f"--ca-file must hold the CA that signed the "
            f"certificates of {target_domain}'s DCs too (a PEM bundle of both domains' CAs).", target=facts.address,
            reason=bind.error_reason or ErrorReason.UNREACHABLE,
        )  # fmt: skip
    if not bind.ok:
        reason = bind.sentence or "the bind failed"
        base.update({"result_code": bind.code, "subcode": bind.subcode, "diagnostic": bind.diagnostic})
        return CheckResult(
            RIGHTS_ID, Status.SKIP,
            f"{what}: not checked, {facts.address} did not accept the service account's bind through the trust "
            f"({reason})", base,
            remedy=f"Check on a host of {target_domain} that the service account (or its group) has 'Create "
            f"Computer objects' and 'Delete Computer objects' on {facts.container_dn} (dsacls \"{facts.container_dn}\"). "
            "adprep binds with an LDAP simple bind: a Samba DC does not pass simple binds of a trusted domain's "
            "users through the trust, and a trust with selective authentication refuses them.",
            target=facts.address,
        )  # fmt: skip
    container = facts.container
    if container is None or container.value is None:
        reason = (container.error if container else None) or "not read"
        return CheckResult(RIGHTS_ID, Status.ERROR, f"{what}: could not be read", {**base, "reason": reason},
                           remedy=reason, target=facts.address,
                           reason=(container.error_reason if container else None) or ErrorReason.UNREACHABLE)  # fmt: skip
    c = container.value
    base.update({"container": c.dn, "container_source": c.source, "exists": c.exists,
                 "allowed_child_classes": len(c.child_classes)})  # fmt: skip
    if not c.exists:
        return CheckResult(
            RIGHTS_ID, Status.FAIL, f"The target OU {c.dn} does not exist in {target_domain} (or the service "
            "account cannot see it)", base, remedy=f"Give the DN of an existing OU of {target_domain} for the "
            "WorkSpaces' computers, and let the service account read it.", target=facts.address,
        )  # fmt: skip
    if any(cls.lower() == "computer" for cls in c.child_classes):
        return CheckResult(RIGHTS_ID, Status.PASS, f"The service account may create computer objects in {c.dn}",
                           base, target=facts.address)  # fmt: skip
    return CheckResult(
        RIGHTS_ID, Status.FAIL, f"The service account may not create computer objects in {c.dn}", base,
        remedy=f"On a DC of {target_domain}, delegate 'Create Computer objects' and 'Delete Computer objects' on "
        f"{c.dn} to the service account's group of the account domain (a foreign security principal there).",
        target=facts.address,
    )  # fmt: skip


def as_target_results(results: Iterable[CheckResult], target_domain: str) -> list[CheckResult]:
    """The account domain's DNS checks, run for the target domain: ids under ``target.``, titles that
    name it, and no AD Connector error (AD Connector itself never looks the target domain up: WorkSpaces
    computers joining it do, through the same DNS servers)."""
    return [
        replace(r, id=f"target.{r.id}", title=f"{target_domain}: {r.title}", adc_error=None) for r in results
    ]
