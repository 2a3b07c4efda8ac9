"""Directory facts from one DC: the rootDSE, the configuration and schema NCs, and user counts.

Owns what adprep reads about the directory itself (not about the service account): functional
levels and the DC's clock from the rootDSE, ``msDS-Other-Settings`` (VLV), the default query
policy's ``MaxTempTableSize``, the ``CN`` attribute's ``searchFlags``, a capped user count and the
accounts without Kerberos pre-authentication. Anything that could not be read is kept as an
:class:`Observed` with the reason, so that its check says ``error`` instead of guessing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from adprep.errors import TransportError, reason_of
from adprep.facts.directory import (
    DEFAULT_MAX_TEMP_TABLE_SIZE,
    PREAUTH_LIST_MAX,
    DirectoryFacts,
    Observed,
    PreauthUsers,
    RootDse,
    UserCount,
)
from adprep.model import ErrorReason
from adprep.requirements import VLV_LARGE_DIRECTORY_USERS
from adprep.transport.ldap import Entry, LdapSession, LdapTarget, read_root_dse

#: MS-ADTS 2.2.16: ADS_UF_DONT_REQ_PREAUTH, matched with LDAP_MATCHING_RULE_BIT_AND (MS-ADTS 3.1.1.3.4.4).
PREAUTH_FILTER = "(&(objectClass=user)(userAccountControl:1.2.840.113556.1.4.803:=4194304))"
USER_FILTER = "(&(objectCategory=person)(objectClass=user))"
#: Counting stops one past the threshold: all the check needs to know is "above or not".
USER_COUNT_LIMIT = VLV_LARGE_DIRECTORY_USERS + 1


_GENERALIZED_TIME = re.compile(r"^(\d{14})(?:[.,](\d+))?(Z|[+-]\d{4})?$")


def parse_generalized_time(text: str) -> datetime:
    """An LDAP GeneralizedTime (RFC 4517 3.3.13), e.g. ``20261125141332.0Z``, as an aware UTC datetime."""
    m = _GENERALIZED_TIME.match(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a GeneralizedTime")
    when = datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    if m.group(2):
        when += timedelta(seconds=float("0." + m.group(2)))
    zone = m.group(3)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        when -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return when


def _str(entry: Entry, name: str) -> str | None:
    value = entry.first(name)
    return str(value) if value is not None else None


def root_dse_facts(entry: Entry, *, local_time: datetime, round_trip_s: float) -> RootDse:
    """Type the rootDSE's values (pure)."""
    raw_time = _str(entry, "currentTime")
    try:
        current = parse_generalized_time(raw_time) if raw_time else None
    except ValueError:
        current = None
    return RootDse(
        forest_level=entry.integer("forestFunctionality"),
        domain_level=entry.integer("domainFunctionality"),
        dc_level=entry.integer("domainControllerFunctionality"),
        current_time=current,
        local_time=local_time,
        round_trip_s=round_trip_s,
        default_nc=_str(entry, "defaultNamingContext"),
        config_nc=_str(entry, "configurationNamingContext"),
        schema_nc=_str(entry, "schemaNamingContext"),
        dns_host_name=_str(entry, "dnsHostName"),
        supported_controls=tuple(sorted({str(c) for c in entry.all("supportedControl")})),
    )


def collect_root_dse(target: LdapTarget) -> Observed[RootDse]:
    """Read the rootDSE anonymously and note this host's clock around the read."""
    started = time.monotonic()
    before = datetime.now(UTC)
    try:
        entry = read_root_dse(target)
    except TransportError as e:
        return Observed.failed(
            f"The rootDSE of {target.address} could not be read: {e.sentence()}", reason_of(e)
        )
    elapsed = time.monotonic() - started
    return Observed(
        root_dse_facts(entry, local_time=before + timedelta(seconds=elapsed / 2), round_trip_s=elapsed)
    )


def parse_admin_limit(values: list[str], name: str) -> int | None:
    """The value of ``name`` in ``lDAPAdminLimits``-style ``Name=value`` strings (None if absent)."""
    for value in values:
        key, sep, number = str(value).partition("=")
        if sep and key.strip().lower() == name.lower():
            try:
                return int(number.strip())
            except ValueError:
                return None
    return None


def collect_directory(
    target: LdapTarget,
    session_factory: Callable[[], LdapSession],
    *,
    root_dse: Observed[RootDse] | None = None,
    user_count_limit: int = USER_COUNT_LIMIT,
) -> DirectoryFacts:
    """Read the directory facts of the DC at ``target``.

    ``session_factory`` opens a bound session (the service account's: what it can read is what
    AD Connector can read); if it raises :class:`TransportError`, every fact that needs it carries
    that reason. ``root_dse`` may be passed when the caller already read it.
    """
    dse = root_dse if root_dse is not None else collect_root_dse(target)
    default_nc = dse.value.default_nc if dse.value else None
    config_nc = dse.value.config_nc if dse.value else None
    schema_nc = dse.value.schema_nc if dse.value else None

    def unread(reason: str, kind: ErrorReason) -> DirectoryFacts:
        return DirectoryFacts(
            address=target.address,
            root_dse=dse,
            other_settings=Observed.failed(reason, kind),
            max_temp_table_size=Observed.failed(reason, kind),
            user_count=Observed.failed(reason, kind),
            cn_search_flags=Observed.failed(reason, kind),
            preauth=Observed.failed(reason, kind),
        )

    if dse.value is None or not (default_nc and config_nc and schema_nc):
        if dse.error is not None:
            return unread(dse.error, dse.error_reason or ErrorReason.UNREACHABLE)
        return unread(f"The rootDSE of {target.address} names no naming contexts.", ErrorReason.MALFORMED)
    try:
        session = session_factory()
    except TransportError as e:
        return unread(f"Not read: no bound session ({e.sentence()})", reason_of(e))

    # MS-ADTS 3.1.1.3.4.7 (msDS-Other-Settings) and 3.1.1.3.4.6 (query policies) live here.
    directory_service = f"CN=Directory Service,CN=Windows NT,CN=Services,{config_nc}"
    query_policy = f"CN=Default Query Policy,CN=Query-Policies,{directory_service}"
    with session:
        other = Observed.attempt(
            f"msDS-Other-Settings on {directory_service} could not be read",
            lambda: _other_settings(session, directory_service),
        )
        temp_table = Observed.attempt(
            f"lDAPAdminLimits on {query_policy} could not be read",
            lambda: _max_temp_table(session, query_policy),
        )
        count = Observed.attempt(
            "The user count could not be read", lambda: _count_users(session, default_nc, user_count_limit)
        )
        common_name = f"CN=Common-Name,{schema_nc}"
        flags = Observed.attempt(
            f"searchFlags of {common_name} could not be read",
            lambda: (
                _required(session.get(common_name, ("searchFlags",)), common_name).integer("searchFlags") or 0
            ),
        )
        preauth = Observed.attempt(
            "Accounts without Kerberos pre-authentication could not be read",
            lambda: read_preauth_users(session, default_nc),
        )
    return DirectoryFacts(
        address=target.address,
        root_dse=dse,
        other_settings=other,
        max_temp_table_size=temp_table,
        user_count=count,
        cn_search_flags=flags,
        preauth=preauth,
    )


def _required(entry: Entry | None, dn: str) -> Entry:
    if entry is None:
        raise TransportError(f"{dn} does not exist or is not readable by this account")
    return entry


def _other_settings(session: LdapSession, dn: str) -> tuple[str, ...]:
    return tuple(
        str(v) for v in _required(session.get(dn, ("msDS-Other-Settings",)), dn).all("msDS-Other-Settings")
    )


def _max_temp_table(session: LdapSession, dn: str) -> int:
    entry = session.get(dn, ("lDAPAdminLimits",))
    if entry is None:
        return DEFAULT_MAX_TEMP_TABLE_SIZE
    found = parse_admin_limit([str(v) for v in entry.all("lDAPAdminLimits")], "MaxTempTableSize")
    return DEFAULT_MAX_TEMP_TABLE_SIZE if found is None else found


def _count_users(session: LdapSession, base: str, limit: int) -> UserCount:
    counted = 0
    for _entry in session.iter_search(base, USER_FILTER, page_size=1000):
        counted += 1
        if counted >= limit:
            return UserCount(counted, capped=True)
    return UserCount(counted, capped=False)


def read_preauth_users(session: LdapSession, base: str) -> PreauthUsers:
    """The accounts under ``base`` without Kerberos pre-authentication (any bound session that reads users)."""
    names: list[str] = []
    total = 0
    for entry in session.iter_search(base, PREAUTH_FILTER, attributes=("sAMAccountName",)):
        total += 1
        if len(names) < PREAUTH_LIST_MAX:
            names.append(str(entry.first("sAMAccountName") or entry.dn))
    return PreauthUsers(tuple(sorted(names, key=str.lower)), total)
