"""Organizational units as a plan: OU paths (desired) and the OUs that exist (observed) → creates.

A path such as ``WorkSpaces/Users`` is written top-down, as in Active Directory Users and
Computers, and means every OU along it; each missing one is created after its parent.
"""

from __future__ import annotations

from collections.abc import Iterable

from adprep.ad.dn import ou_path_to_dn, parse_dn, render_dn
from adprep.prep.ldap_writes import ACTION_ADD, OU_CLASSES, AddEntry
from adprep.prep.plan import Change, Plan


def ou_chain(path: str, base_dn: str) -> tuple[str, ...]:
    """The DNs of every OU along ``path``, top first: ``A/B`` -> (``OU=A,<base>``, ``OU=B,OU=A,<base>``)."""
    full = parse_dn(ou_path_to_dn(path, base_dn))
    depth = len(full) - len(parse_dn(base_dn))
    return tuple(render_dn(full[i:]) for i in range(depth - 1, -1, -1))


def dn_key(dn: str) -> str:
    """A comparison key for a DN (types and values casefolded, escapes resolved)."""
    return repr(tuple(r.key() for r in parse_dn(dn)))


def plan_ous(
    paths: Iterable[str], base_dn: str, existing: set[str], *, description: str | None = None
) -> Plan:
    """``existing``: :func:`dn_key` of every OU DN along the paths that exists."""
    changes: list[Change] = []
    in_place: list[str] = []
    planned: dict[str, str] = {}  # dn_key -> change id
    for path in paths:
        parent_id: str | None = None
        for dn in ou_chain(path, base_dn):
            key = dn_key(dn)
            if key in planned:
                parent_id = planned[key]
                continue
            if key in existing:
                in_place.append(f"OU {dn} exists")
                parent_id = None
                planned[key] = ""
                continue
            change_id = f"ou.create:{dn}"
            attrs: dict[str, str | int | list[str]] = {"ou": parse_dn(dn)[0].value}
            if description:
                attrs["description"] = description
            changes.append(
                Change(
                    id=change_id,
                    action=ACTION_ADD,
                    target=dn,
                    summary=f"create OU {dn}",
                    depends_on=(parent_id,) if parent_id else (),
                    payload=AddEntry(dn, OU_CLASSES, attrs),
                )
            )
            planned[key] = change_id
            parent_id = change_id
    return Plan("ou create", tuple(changes), tuple(dict.fromkeys(in_place)))
