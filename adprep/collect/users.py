"""Users as facts for ``adprep users check``, streamed: a paged search (the domain or an OU) or
batched lookups (the names of a CSV file), each entry judged as it arrives and then dropped.

What stays in memory is the count and the names of users with a problem (the tally the job passes),
plus, for ``--csv``, one 8-byte digest per distinct name (duplicates are looked up once). Entries
come 1,000 a page (AD's default MaxPageSize), so a directory of 50,000 users costs 50 round trips
and never 50,000 entries at once.

The domain and OU scans take ``(&(objectCategory=person)(objectClass=user))`` (users, not computer
accounts) without critical system objects (``isCriticalSystemObject``: Administrator, Guest,
krbtgt, which are no one's WorkSpace and are disabled by design). Users named in a CSV are checked
whatever they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from adprep.ad.account_flags import interval_to_timedelta
from adprep.ad.dn import escape_filter_value
from adprep.ad.users_csv import NameDigests, name_digest, read_user_names
from adprep.collect.account import read_domain_policy
from adprep.collect.directory import USER_FILTER
from adprep.facts.users import PasswordPolicy, ScopeKind, UserFacts, UsersFacts, UsersSink
from adprep.transport.ldap import Entry, LdapSession

#: What each user is read for (the state attributes of MS-ADTS 2.2.16 / 3.1.1.4.5.17, and mail).
USER_ATTRIBUTES = (
    "sAMAccountName",
    "mail",
    "userAccountControl",
    "msDS-User-Account-Control-Computed",
    "pwdLastSet",
    "lockoutTime",
    "accountExpires",
)
#: Users, not computers; without Administrator, Guest and krbtgt (MS-ADTS 3.1.1.5.2.4: critical objects).
SCAN_FILTER = f"(&{USER_FILTER}(!(isCriticalSystemObject=TRUE)))"
#: AD's default MaxPageSize (MS-ADTS 3.1.1.3.4.6, LDAP policies).
PAGE_SIZE = 1000
#: Names per OR filter when users are looked up by name.
NAME_BATCH = 200


@dataclass(frozen=True)
class UsersScope:
    """Which users to check."""

    kind: ScopeKind
    base_dn: str
    """The domain's DN, or the OU's (``kind == "ou"``)."""
    csv_path: Path | None = None


def user_facts(entry: Entry) -> UserFacts:
    """A user entry's raw values, as the checks read them."""
    computed = entry.first("msDS-User-Account-Control-Computed")
    mail = entry.first("mail")
    return UserFacts(
        dn=entry.dn,
        sam=str(entry.first("sAMAccountName") or ""),
        mail=str(mail) if mail is not None else None,
        user_account_control=entry.integer("userAccountControl") or 0,
        pwd_last_set=entry.integer("pwdLastSet") or 0,
        lockout_time=entry.integer("lockoutTime") or 0,
        account_expires=entry.integer("accountExpires") or 0,
        computed_uac=(entry.integer("msDS-User-Account-Control-Computed") or 0)
        if computed is not None
        else None,
    )


def iter_scan(session: LdapSession, base_dn: str) -> Iterator[UserFacts]:
    """Every user under ``base_dn`` (paged)."""
    for entry in session.iter_search(base_dn, SCAN_FILTER, attributes=USER_ATTRIBUTES, page_size=PAGE_SIZE):
        yield user_facts(entry)


def _batches(names: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for name in names:
        batch.append(name)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def iter_named(
    session: LdapSession, base_dn: str, names: Iterable[str], not_found: Callable[[str], None]
) -> Iterator[UserFacts]:
    """The users called ``names`` (looked up :data:`NAME_BATCH` at a time, values escaped);
    ``not_found`` is called with each name no user has."""
    for batch in _batches(names, NAME_BATCH):
        terms = "".join(f"(sAMAccountName={escape_filter_value(n)})" for n in batch)
        seen: set[str] = set()
        query = f"(&{USER_FILTER}(|{terms}))"
        for entry in session.iter_search(base_dn, query, attributes=USER_ATTRIBUTES, page_size=PAGE_SIZE):
            user = user_facts(entry)
            seen.add(user.sam.casefold())
            yield user
        for name in batch:
            if name.casefold() not in seen:
                not_found(name)


@dataclass
class CsvNames:
    """The distinct names of a CSV file, streamed; counts rows and repeats on the way."""

    path: Path
    rows: int = 0
    duplicates: int = 0

    def __iter__(self) -> Iterator[str]:
        digests = NameDigests()
        for item in read_user_names(self.path):
            if not isinstance(item, tuple):  # pragma: no cover - the file was validated before
                continue
            self.rows += 1
            if digests.add(name_digest(item[1].casefold())):
                self.duplicates += 1
                continue
            yield item[1]


def password_policy(session: LdapSession, domain_dn: str) -> PasswordPolicy:
    """The domain's ``maxPwdAge`` and ``lockoutDuration`` as time spans (None: never / until unlocked)."""
    raw = read_domain_policy(session, domain_dn)
    return PasswordPolicy(
        max_pwd_age=interval_to_timedelta(raw.max_pwd_age) if raw.max_pwd_age is not None else None,
        lockout_duration=interval_to_timedelta(raw.lockout_duration)
        if raw.lockout_duration is not None
        else None,
    )


def collect_users(
    session: LdapSession,
    scope: UsersScope,
    *,
    domain_dn: str,
    now: datetime,
    tally: UsersSink,
    target: str | None = None,
    on_user: Callable[[], None] | None = None,
) -> UsersFacts:
    """Read every user of ``scope`` into ``tally`` (which judges each as it streams by:
    :class:`adprep.checks.users.UsersTally`); ``on_user`` ticks once per user (a progress bar)."""
    started = time.monotonic()
    policy = password_policy(session, domain_dn)
    missing: list[str] = []
    names = CsvNames(scope.csv_path) if scope.csv_path is not None else None
    users = (
        iter_named(session, domain_dn, names, missing.append)
        if names is not None
        else iter_scan(session, scope.base_dn)
    )
    for user in users:
        tally.add(user, now, policy)
        if on_user is not None:
            on_user()
    return UsersFacts(
        scope=scope.kind,
        base_dn=scope.base_dn,
        scanned=tally.scanned,
        names=tally.sorted_names(),
        name_reasons=dict(tally.name_reasons),
        csv_path=str(scope.csv_path) if scope.csv_path is not None else None,
        not_found=tuple(sorted(missing, key=str.casefold)),
        csv_rows=names.rows if names is not None else 0,
        duplicates=names.duplicates if names is not None else 0,
        elapsed_s=time.monotonic() - started,
        target=target,
    )
