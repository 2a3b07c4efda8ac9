"""Looking directory objects up in few round trips, for the plans: by sAMAccountName with OR filters,
``BATCH`` names at a time (planning 1,000 users costs a handful of searches, not 1,000), and by DN."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from adprep.ad.dn import escape_filter_value
from adprep.errors import InputError
from adprep.transport.ldap import Entry, LdapSession

#: Names per OR filter when looking objects up by sAMAccountName.
BATCH = 200


def find_by_sam(
    session: LdapSession,
    base_dn: str,
    names: Iterable[str],
    attributes: Sequence[str],
    *,
    object_class: str | None = None,
) -> dict[str, Entry]:
    """casefolded sAMAccountName -> entry, for every name that exists under ``base_dn``."""
    found: dict[str, Entry] = {}
    attrs = tuple(dict.fromkeys(("sAMAccountName", *attributes)))
    cls = f"(objectClass={escape_filter_value(object_class)})" if object_class else ""
    for batch in _batches(names, BATCH):
        terms = "".join(f"(sAMAccountName={escape_filter_value(n)})" for n in batch)
        for entry in session.iter_search(base_dn, f"(&{cls}(|{terms}))", attributes=attrs, page_size=1000):
            name = entry.first("sAMAccountName")
            if isinstance(name, str):
                found[name.casefold()] = entry
    return found


def resolve_member_dns(session: LdapSession, base_dn: str, members: Sequence[str]) -> tuple[str, ...]:
    """Members given as names (sAMAccountName) or DNs, as DNs in the order given; every one must
    exist (an :class:`InputError` names those that do not)."""
    dns = [m for m in members if "=" in m]
    names = [m for m in members if "=" not in m]
    found = find_by_sam(session, base_dn, names, ())
    missing = [n for n in names if n.casefold() not in found] + [d for d in dns if not session.exists(d)]
    if missing:
        raise InputError(
            f"No such member in {base_dn}: {', '.join(missing)}",
            hint="Create the account first (adprep account create), or check the name.",
        )
    by_name = {n: found[n.casefold()].dn for n in names}
    return tuple(dict.fromkeys(by_name.get(m, m) for m in members))


def existing_dns(session: LdapSession, dns: Iterable[str]) -> set[str]:
    """Which of ``dns`` exist (one base search each: used for OUs, which are few)."""
    return {dn for dn in dns if session.exists(dn)}


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
