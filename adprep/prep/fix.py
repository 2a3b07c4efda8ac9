"""``adprep fix`` as data: what a preflight found → the remedies adprep writes over LDAP, the
commands for what it cannot write (:mod:`adprep.prep.manual`), and the checks before and after. Pure.

Each remedy is planned only for a check that failed (or warned) and grants no more than that check
needs:

- the delegation (group and the preset's ACEs: the same plan as ``adprep delegate``) and the service
  account's membership in its group, for a failed right of the account (create computers, the join
  probe, reading users), never when the target container itself is missing;
- unlocking the service account (``lockoutTime`` = 0, MS-ADTS 3.1.1.5.2.x) when it is locked out:
  a disabled, expired or must-change account is left to a person;
- Kerberos pre-authentication (DONT_REQ_PREAUTH cleared, MS-ADTS 2.2.16) for the users selected
  only; the others are listed;
- AD Connector's subnets in an AD site (:mod:`adprep.prep.sites`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from adprep.ad.account_flags import UserAccountControl
from adprep.model import CheckResult, Report, Status
from adprep.prep.ldap_writes import ACTION_ADD_MEMBERS, ACTION_MODIFY, ModifyEntry
from adprep.prep.manual import Leftover, ManualStep, Network, fact_items
from adprep.prep.plan import ApplyResult, Change, Plan, merge_plans

#: The account checks the delegation (and the account's membership in its group) addresses.
RIGHTS_CHECKS = ("account.rights.create_computer", "account.join_probe", "account.rights.read_users")
STATE_CHECK = "account.state"
PREAUTH_CHECK = "directory.preauth"

RemedyStatus = Literal["planned", "applied", "failed", "in_place", "not_planned"]


# --- what the report says ---------------------------------------------------------------------------


def _by_base(report: Report, base: str) -> list[CheckResult]:
    return [r for r in report.results if r.base_id == base]


def service_account(report: Report) -> str | None:
    """The service account the preflight bound as (its bare name), if it tried."""
    for r in _by_base(report, "account.bind"):
        name = r.facts.get("bind_name")
        if isinstance(name, str) and name:
            if "\\" in name:
                return name.split("\\", 1)[1]
            return name.split("@", 1)[0] if "=" not in name else name
    return None


def directory_dc(report: Report) -> str | None:
    """The DC the directory and account checks ran on."""
    for base in ("account.bind", "directory.functional_level.forest", "directory.vlv.setting"):
        for r in _by_base(report, base):
            if r.target:
                return r.target
    return None


def locked_out(report: Report) -> CheckResult | None:
    """``account.state`` when it failed because the account is locked out."""
    for r in _by_base(report, STATE_CHECK):
        problems = fact_items(r.facts.get("problems"))
        locked = r.facts.get("state") == "locked" or any("locked out" in p for p in problems)
        if r.status is Status.FAIL and locked:
            return r
    return None


def rights_failures(report: Report) -> list[CheckResult]:
    """Failed rights of the service account that a delegation can grant (not a missing container)."""
    out = []
    for base in RIGHTS_CHECKS:
        for r in _by_base(report, base):
            if r.status is Status.FAIL and r.facts.get("exists") is not False:
                out.append(r)
    return out


def preauth_users(report: Report) -> tuple[CheckResult | None, tuple[str, ...]]:
    """``directory.preauth`` when it found users without Kerberos pre-authentication, and their names."""
    for r in _by_base(report, PREAUTH_CHECK):
        names = r.facts.get("accounts")
        if r.status in (Status.WARN, Status.FAIL) and isinstance(names, list | tuple):
            return r, tuple(str(n) for n in names)
    return None, ()


def report_subnets(report: Report) -> list[Network]:
    """The AD Connector subnets the preflight checked against AD Sites and Services (``sites.subnet.*``)."""
    out: list[Network] = []
    for r in report.results:
        if r.base_id.startswith("sites.subnet."):
            try:
                out.append(ipaddress.ip_network(str(r.facts.get("subnet") or r.base_id[13:]), strict=False))
            except ValueError:
                continue
    return out


def site_warnings(report: Report, labels: Iterable[str]) -> list[CheckResult]:
    """``dcs.site.*`` from the given vantages that map to no AD site (the CLDAP fact, where it says so)."""
    wanted = set(labels)
    return [
        r
        for r in report.results
        if r.base_id.startswith("dcs.site.") and r.status is Status.WARN and (r.vantage or "") in wanted
    ]


# --- plans --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservedLockout:
    """The service account as an administrator reads it."""

    dn: str
    name: str
    lockout_time: int
    computed_uac: int | None
    """``msDS-User-Account-Control-Computed`` (its LOCKOUT bit is the DC's own verdict), if returned."""


def plan_unlock(observed: ObservedLockout) -> Plan:
    """``lockoutTime`` = 0 (MS-ADTS 3.1.1.5.2.x: the only value a client may write, which unlocks) when
    the account is locked out now; a lockout that has ended by itself is left as it is."""
    locked = observed.lockout_time != 0 and (
        observed.computed_uac is None or bool(observed.computed_uac & UserAccountControl.LOCKOUT)
    )
    if not locked:
        return Plan("fix", (), (f"service account {observed.name} is not locked out",))
    change = Change(
        id=f"account.unlock:{observed.dn}",
        action=ACTION_MODIFY,
        target=observed.dn,
        summary=f"unlock service account {observed.name}",
        details={"lockoutTime": 0},
        payload=ModifyEntry(observed.dn, {"lockoutTime": [("replace", [0])]}),
    )
    return Plan("fix", (change,))


@dataclass(frozen=True)
class ObservedUser:
    dn: str
    name: str
    uac: int


def plan_preauth(users: Sequence[ObservedUser]) -> Plan:
    """Clear DONT_REQ_PREAUTH on each of ``users`` (the selected ones) that has it."""
    changes: list[Change] = []
    in_place: list[str] = []
    for u in users:
        flags = UserAccountControl(u.uac)
        if UserAccountControl.DONT_REQ_PREAUTH not in flags:
            in_place.append(f"{u.name} requires Kerberos pre-authentication")
            continue
        wanted = int(flags & ~UserAccountControl.DONT_REQ_PREAUTH)
        changes.append(
            Change(
                id=f"user.require-preauth:{u.dn}",
                action=ACTION_MODIFY,
                target=u.dn,
                summary=f"turn on Kerberos pre-authentication for {u.name}",
                details={"userAccountControl": wanted, "was": u.uac},
                payload=ModifyEntry(u.dn, {"userAccountControl": [("replace", [wanted])]}),
            )
        )
    return Plan("fix", tuple(changes), tuple(in_place))


def split_membership(plan: Plan) -> tuple[Plan, Plan]:
    """``adprep delegate``'s plan as (group and ACEs, the members added): two remedies of one plan.

    ``in_place`` lines about members are those :func:`adprep.prep.delegation.plan_delegation` writes
    as ``<member> is a member of <group>``.
    """
    members = tuple(c for c in plan.changes if c.action == ACTION_ADD_MEMBERS)
    rest = tuple(c for c in plan.changes if c.action != ACTION_ADD_MEMBERS)
    member_lines = tuple(line for line in plan.in_place if " is a member of " in line)
    rest_lines = tuple(line for line in plan.in_place if " is a member of " not in line)
    return Plan("fix", rest, rest_lines, warnings=plan.warnings), Plan("fix", members, member_lines)


# --- the whole fix ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remedy:
    """One thing adprep writes over LDAP, the checks it addresses and its plan."""

    id: str
    """``delegation``, ``account.membership``, ``account.unlock``, ``preauth``, ``sites.subnets``."""
    title: str
    addresses: tuple[str, ...]
    plan: Plan
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixSource:
    """The preflight the fix comes from."""

    kind: Literal["live", "report"]
    started_at: datetime
    domain: str | None
    path: str | None = None


@dataclass(frozen=True)
class FixPlan:
    source: FixSource
    remedies: tuple[Remedy, ...]
    before: Mapping[str, CheckResult]
    """Each addressed check as the preflight (or, for ``sites.subnet.*``, the planning) saw it."""
    steps: tuple[ManualStep, ...] = ()
    leftovers: tuple[Leftover, ...] = ()

    @property
    def plan(self) -> Plan:
        return merge_plans("fix", (r.plan for r in self.remedies))


@dataclass(frozen=True)
class CheckRow:
    """One check before and after the remedies that address it."""

    id: str
    remedies: tuple[str, ...]
    before: CheckResult | None
    after: CheckResult | None


@dataclass(frozen=True)
class FixResult:
    fix: FixPlan
    dry_run: bool
    applied: ApplyResult | None = None
    """None for a dry run, or when the plan was empty."""
    after: Mapping[str, CheckResult] = field(default_factory=dict)
    """The addressed checks run again after applying."""

    @property
    def rows(self) -> list[CheckRow]:
        order: dict[str, list[str]] = {}
        for remedy in self.fix.remedies:
            for cid in remedy.addresses:
                order.setdefault(cid, []).append(remedy.id)
        return [
            CheckRow(cid, tuple(ids), self.fix.before.get(cid), self.after.get(cid))
            for cid, ids in order.items()
        ]

    def remedy_status(self, remedy: Remedy) -> RemedyStatus:
        """What happened to ``remedy``: in place, not planned, planned (a dry run), applied or failed."""
        if not remedy.plan.changes:
            return "in_place" if remedy.plan.in_place else "not_planned"
        if self.applied is None:
            return "planned"
        ids = {c.id for c in remedy.plan.changes}
        outcomes = [o for o in self.applied.outcomes if o.change.id in ids]
        return "failed" if any(o.status != "applied" for o in outcomes) else "applied"

    @property
    def changes_failed(self) -> bool:
        return bool(self.applied and self.applied.failed)

    @property
    def still_failing(self) -> list[CheckResult]:
        """Addressed checks that fail (or could not run) after applying."""
        return [r for r in self.after.values() if r.status in (Status.FAIL, Status.ERROR)]


def leftovers(
    report: Report, remedies: Sequence[Remedy], steps: Sequence[ManualStep], extra: Sequence[Leftover]
) -> tuple[Leftover, ...]:
    """Failed checks that no remedy and no command addresses, with their own remedy, after ``extra``
    (what the planning itself could not do). ``paths.*`` restate port results and are left out."""
    handled = {i for r in remedies for i in r.addresses} | {i for s in steps for i in s.addresses}
    handled |= {x.check_id for x in extra}
    out = list(extra)
    for r in report.results:
        if r.status is not Status.FAIL or r.id in handled or r.base_id.startswith("paths."):
            continue
        out.append(
            Leftover(r.id, r.status, r.title, r.remedy or "See the check's facts in the preflight report.")
        )
    return tuple(out)
