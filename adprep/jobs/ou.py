"""``adprep ou create``: OU paths → plan (one base read per OU along the paths) → apply."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adprep.collect.ldap_objects import existing_dns
from adprep.errors import InputError
from adprep.prep.ldap_apply import ldap_appliers
from adprep.prep.ou import dn_key, ou_chain, plan_ous
from adprep.prep.plan import ApplyResult, Outcome, Plan, apply_plan
from adprep.transport.ldap import LdapSession


def check_ou_paths(paths: Sequence[str], base_dn: str) -> tuple[str, ...]:
    """Every path valid (no network); raises :class:`InputError` for the first bad one."""
    if not paths:
        raise InputError("No OU path given", hint="Name one or more OUs top-down, such as WorkSpaces/Users.")
    for p in paths:
        ou_chain(p, base_dn)
    return tuple(paths)


def plan_ou_create(
    session: LdapSession, paths: Sequence[str], base_dn: str, *, description: str | None = None
) -> Plan:
    """Read which OUs along ``paths`` exist (one base read each), then plan the missing ones."""
    dns = list(dict.fromkeys(dn for p in paths for dn in ou_chain(p, base_dn)))
    existing = {dn_key(dn) for dn in existing_dns(session, dns)}
    return plan_ous(paths, base_dn, existing, description=description)


def apply_ou_create(
    session: LdapSession, plan: Plan, *, on_done: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """Apply an ``ou create`` plan through ``session``."""
    return apply_plan(plan, ldap_appliers(session), on_done=on_done)
