"""Trust facts: what the account domain's directory says about its trusts and its forest.

Owns two reads, made with the service account's session on a DC of the account domain (the domain
AD Connector connects to):

- the trustedDomain objects under ``CN=System`` (MS-ADTS 6.1.6.7: ``trustPartner``, ``flatName``,
  ``trustDirection``, ``trustType``, ``trustAttributes``), one per trust the domain has;
- the domain crossRef objects in the Partitions container (MS-ADTS 6.1.1.2.1.1.5: ``systemFlags`` has
  FLAG_CR_NTDS_DOMAIN), one per domain of the forest: a target domain listed there is in the same
  forest (a child or tree domain), which trusts every other domain of the forest two-way.

Authenticated users may read both in a default AD; a DC that hides them yields an empty list,
which the verdict reports as "no trust found", with what it read.
"""

from __future__ import annotations

from adprep.collect.account import bind_outcome, read_container_rights
from adprep.collect.directory import collect_root_dse
from adprep.errors import TransportError
from adprep.facts.directory import Observed
from adprep.facts.trust import ForestDomain, TargetDcFacts, TrustedDomain, TrustFacts
from adprep.secret import Secret
from adprep.transport.ldap import Entry, LdapSession, LdapTarget, connect

#: MS-ADTS 6.1.1.2.1.1.5 (crossRef systemFlags): FLAG_CR_NTDS_DOMAIN, the crossRef names an AD domain.
FLAG_CR_NTDS_DOMAIN = 0x2
_TRUST_ATTRIBUTES = ("trustPartner", "flatName", "trustDirection", "trustType", "trustAttributes")


def _text(entry: Entry, name: str) -> str | None:
    value = entry.first(name)
    return str(value) if value not in (None, "") else None


def trusted_domain(entry: Entry) -> TrustedDomain:
    """A trustedDomain object's values, as typed facts."""
    return TrustedDomain(
        dn=entry.dn,
        partner=_text(entry, "trustPartner") or "",
        flat_name=_text(entry, "flatName"),
        direction=entry.integer("trustDirection") or 0,
        type=entry.integer("trustType") or 0,
        attributes=entry.integer("trustAttributes") or 0,
    )


def collect_trusts(session: LdapSession, domain: str, base_dn: str) -> TrustFacts:
    """The trustedDomain objects of ``base_dn`` and the domains of its forest, read through ``session``."""
    trusts = tuple(
        trusted_domain(e)
        for e in session.search(
            f"CN=System,{base_dn}", "(objectClass=trustedDomain)", scope="one", attributes=_TRUST_ATTRIBUTES
        )
    )
    root = session.get("", ("configurationNamingContext",))
    config = _text(root, "configurationNamingContext") if root else None
    forest: tuple[ForestDomain, ...] = ()
    if config:
        refs = session.search(
            f"CN=Partitions,{config}",
            f"(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:={FLAG_CR_NTDS_DOMAIN}))",
            scope="one",
            attributes=("dnsRoot", "nETBIOSName", "nCName"),
        )
        forest = tuple(
            ForestDomain(str(r.first("dnsRoot") or ""), _text(r, "nETBIOSName"), _text(r, "nCName"))
            for r in refs
        )
    return TrustFacts(domain=domain, dc=session.target.address, trusts=trusts, forest=forest)


def collect_target_dc(
    target: LdapTarget,
    base_dn: str,
    container_dn: str | None,
    *,
    bind_name: str,
    password: Secret | None,
    bind_reason: str | None,
) -> TargetDcFacts:
    """Read the target DC's rootDSE (anonymously, over LDAP 389) and, unless ``bind_reason`` says why
    not, bind there as ``bind_name`` (the service account's UPN in the account domain, which a DC of a
    trusting domain authenticates through the trust) and read ``allowedChildClassesEffective`` on
    ``container_dn`` (default: the target domain's computers container, as ``wellKnownObjects`` names it)."""
    root = collect_root_dse(LdapTarget(target.address, mode="plain", timeout=target.timeout))
    shown = container_dn or f"CN=Computers,{base_dn}"
    if bind_reason is not None or password is None:
        return TargetDcFacts(target.address, root, shown, not_tried=bind_reason or "no password")
    try:
        session = connect(target, user=bind_name, password=password)
    except TransportError as e:
        outcome = bind_outcome(e, mode=target.mode, bind_name=bind_name)
        return TargetDcFacts(target.address, root, shown, bind=outcome)
    with session:
        container = Observed.attempt(
            "allowedChildClassesEffective", lambda: read_container_rights(session, base_dn, container_dn)
        )
    ok = bind_outcome(None, mode=target.mode, bind_name=bind_name)
    dn = container.value.dn if container.value else shown
    return TargetDcFacts(target.address, root, dn, bind=ok, container=container)
