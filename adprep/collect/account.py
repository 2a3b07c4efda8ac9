"""Service account facts: the bind as the account, its own state, and its effective rights.

Owns what adprep learns by *being* the service account on one DC, the way AD Connector is: the
bind result (LDAP result code and AD's ``data`` sub-code), the account's own ``userAccountControl``
and time attributes, the domain's password and lockout policy, ``allowedChildClassesEffective`` on
the container where computers will be created, a read of users' attributes, a real VLV search and,
only when asked, a create-and-delete of a scratch computer object.

What proves "can read users" (documented because AD gives no direct answer): AD returns nothing for
an attribute a caller may not read, exactly as for an empty one, and ``allowedAttributesEffective``
lists *writable* attributes, not readable ones. So adprep reads :data:`USER_READ_ATTRIBUTES` on the
account itself and on a sample of other users. ``sAMAccountName`` and ``userAccountControl`` are
present on every user, so a sampled user without them proves a missing read right; for the others
(``givenName``, ``mail``...) a value seen proves the right, and no value in the whole sample is
reported as "not proven", never as a failure.

A disabled, locked or expired account cannot bind, so for those states the bind's sub-code (533,
775, 701, 532, 773) is the fact; an optional administrator session can read the object as well.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from adprep.ad.dn import escape_filter_value
from adprep.ad.ldap_errors import explain_ldap_error
from adprep.collect.directory import USER_FILTER
from adprep.errors import LdapError, TransportError, reason_of
from adprep.facts.account import (
    AccountFacts,
    AccountObject,
    BindOutcome,
    ContainerRights,
    DomainPolicy,
    JoinProbe,
    UserRead,
    VlvProbe,
)
from adprep.facts.directory import LdapMode, Observed
from adprep.model import ErrorReason
from adprep.requirements import USER_READ_ATTRIBUTES
from adprep.transport.ldap import LdapSession, connect
from adprep.transport.ldap_settings import DirectorySettings

#: MS-ADTS 6.1.1.4: GUID_COMPUTERS_CONTAINER_W, the key of the computers container in wellKnownObjects.
COMPUTERS_CONTAINER_GUID = "AA312825768811D1ADED00C04FD8D5CD"
#: Other users read to prove "can read users".
USER_SAMPLE_SIZE = 20
#: MS-ADTS 2.2.16: WORKSTATION_TRUST_ACCOUNT | PASSWD_NOTREQD | ACCOUNTDISABLE, what ADUC gives a new
#: computer object, disabled so that the scratch object can never be used to sign in.
PROBE_COMPUTER_UAC = 0x1000 | 0x20 | 0x2
PROBE_PREFIX = "adprep-probe-"
#: Result codes of a simple bind that a plain (non-TLS) connection gets from a hardened DC.
_STRONG_AUTH_CODES = (8, 13)
_STRONG_AUTH_SUBCODES = ("00002028", "80090346")

_ACCOUNT_ATTRIBUTES = (
    "sAMAccountName",
    "userAccountControl",
    "msDS-User-Account-Control-Computed",
    "pwdLastSet",
    "lockoutTime",
    "accountExpires",
)


def probe_computer_name() -> str:
    """``adprep-probe-1a2b``: 17 characters, so the sAMAccountName with ``$`` stays within AD's 20."""
    return f"{PROBE_PREFIX}{secrets.token_hex(2)}"


def bind_outcome(error: TransportError | None, *, mode: LdapMode, bind_name: str) -> BindOutcome:
    """Turn the result of ``connect`` into a :class:`BindOutcome` (pure)."""
    if error is None:
        return BindOutcome(True, mode, bind_name)
    code = error.code if isinstance(error, LdapError) else None
    diagnostic = error.diagnostic if isinstance(error, LdapError) else None
    if code is None:
        # No LDAP result: TCP, TLS or StartTLS failed; the DC never judged the credentials.
        return BindOutcome(
            False, mode, bind_name, connected=False, sentence=error.message, hint=error.hint,
            error_reason=reason_of(error),
        )  # fmt: skip
    explained = explain_ldap_error(code, diagnostic)
    strong = mode == "plain" and (
        code in _STRONG_AUTH_CODES
        or explained.subcode in _STRONG_AUTH_SUBCODES
        or "transport encryption required" in (diagnostic or "").lower()
    )
    return BindOutcome(
        ok=False,
        mode=mode,
        bind_name=bind_name,
        code=code,
        result_name=explained.result_name,
        subcode=explained.subcode,
        diagnostic=diagnostic,
        sentence=explained.sentence,
        hint=explained.hint,
        strong_auth_required=strong,
    )


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value)) if value is not None else default
    except ValueError:
        return default


def _account_filter(settings: DirectorySettings) -> str:
    user = settings.user
    if "\\" in user:
        sam = user.split("\\", 1)[1]
        return f"(&(objectClass=user)(sAMAccountName={escape_filter_value(sam)}))"
    upn = settings.bind_name
    sam = upn.split("@", 1)[0]
    return (
        f"(&(objectClass=user)(|(userPrincipalName={escape_filter_value(upn)})"
        f"(sAMAccountName={escape_filter_value(sam)})))"
    )


def read_account_object(
    session: LdapSession, settings: DirectorySettings, *, read_by: Literal["self", "admin"]
) -> AccountObject:
    """The account's own object (by DN, or by UPN / sAMAccountName under the domain)."""
    if "=" in settings.user:
        entry = session.get(settings.user, _ACCOUNT_ATTRIBUTES)
        found = [entry] if entry is not None else []
    else:
        found = session.search(settings.base_dn, _account_filter(settings), attributes=_ACCOUNT_ATTRIBUTES)
    if not found:
        raise TransportError(
            f"The account {settings.user} was not found under {settings.base_dn}",
            hint="Check the user name and the domain.",
        )
    entry = found[0]
    computed = entry.first("msDS-User-Account-Control-Computed")
    return AccountObject(
        dn=entry.dn,
        sam_account_name=entry.first("sAMAccountName"),
        user_account_control=_int(entry.first("userAccountControl")),
        pwd_last_set=_int(entry.first("pwdLastSet")),
        lockout_time=_int(entry.first("lockoutTime")),
        account_expires=_int(entry.first("accountExpires")),
        computed_uac=_int(computed) if computed is not None else None,
        read_by=read_by,
    )


def read_domain_policy(session: LdapSession, base_dn: str) -> DomainPolicy:
    """maxPwdAge and lockoutDuration on the domain head (MS-ADTS 3.1.1.5.2.x: domain password policy)."""
    entry = session.get(base_dn, ("maxPwdAge", "lockoutDuration"))
    if entry is None:
        raise TransportError(f"The domain object {base_dn} is not readable")
    max_age = entry.first("maxPwdAge")
    duration = entry.first("lockoutDuration")
    return DomainPolicy(
        max_pwd_age=_int(max_age) if max_age is not None else None,
        lockout_duration=_int(duration) if duration is not None else None,
    )


def computers_container(
    wellknown: list[str], base_dn: str
) -> tuple[str, Literal["wellKnownObjects", "default"]]:
    """The computers container from ``wellKnownObjects`` (``B:32:<GUID>:<DN>``), else ``CN=Computers``."""
    for value in wellknown:
        parts = str(value).split(":", 3)
        if len(parts) == 4 and parts[0] == "B" and parts[2].upper() == COMPUTERS_CONTAINER_GUID:
            return parts[3], "wellKnownObjects"
    return f"CN=Computers,{base_dn}", "default"


def read_container_rights(session: LdapSession, base_dn: str, given: str | None) -> ContainerRights:
    """What the account may create in the container for new computers: ``given``, else the domain's
    ``wellKnownObjects`` entry for Computers, else ``CN=Computers``."""
    source: Literal["given", "wellKnownObjects", "default"]
    if given:
        dn, source = given, "given"
    else:
        head = session.get(base_dn, ("wellKnownObjects",))
        dn, source = computers_container(
            [str(v) for v in head.all("wellKnownObjects")] if head else [], base_dn
        )
    entry = session.get(dn, ("allowedChildClassesEffective",))
    if entry is None:
        return ContainerRights(dn, source, exists=False)
    classes = tuple(sorted(str(c) for c in entry.all("allowedChildClassesEffective")))
    return ContainerRights(dn, source, exists=True, child_classes=classes)


def read_users(session: LdapSession, base_dn: str, own_dn: str | None) -> UserRead:
    """Which user attributes the account reads: on its own object (``own_dn``) and on a sample of
    :data:`USER_SAMPLE_SIZE` other users."""
    attributes = USER_READ_ATTRIBUTES
    self_readable: tuple[str, ...] = ()
    if own_dn:
        own = session.get(own_dn, attributes)
        if own is not None:
            self_readable = tuple(a for a in attributes if own.all(a))
    present = dict.fromkeys(attributes, 0)
    sampled = 0
    for entry in session.iter_search(base_dn, USER_FILTER, attributes=attributes, page_size=USER_SAMPLE_SIZE):
        if own_dn and entry.dn.lower() == own_dn.lower():
            continue
        sampled += 1
        for a in attributes:
            if entry.all(a):
                present[a] += 1
        if sampled >= USER_SAMPLE_SIZE:
            break
    return UserRead(self_readable, sampled, present)


def probe_vlv(session: LdapSession, base_dn: str) -> VlvProbe:
    """A VLV window over users sorted by cn, as AD Connector browses them."""
    try:
        page = session.vlv_search(base_dn, USER_FILTER, sort_attribute="cn", attributes=("cn",))
    except LdapError as e:
        if e.code is None:
            raise
        return VlvProbe(None, code=e.code, sentence=explain_ldap_error(e.code, e.diagnostic).sentence)
    return VlvProbe(page.response, entries=len(page.entries))


def run_join_probe(session: LdapSession, container_dn: str, name: str | None = None) -> JoinProbe:
    """Create a disabled scratch computer in ``container_dn`` and delete it again.

    Deletes only what this call created: an ``entryAlreadyExists`` answer means someone else's object.
    """
    cn = name or probe_computer_name()
    dn = f"CN={cn},{container_dn}"
    created = False
    create_code: int | None = None
    create_error: str | None = None
    try:
        session.add(dn, ("top", "person", "organizationalPerson", "user", "computer"),
                    {"sAMAccountName": f"{cn}$", "userAccountControl": PROBE_COMPUTER_UAC})  # fmt: skip
        created = True
    except LdapError as e:
        create_code = e.code
        create_error = explain_ldap_error(e.code, e.diagnostic).sentence if e.code is not None else e.message
    except TransportError as e:
        create_error = e.message
    if not created and create_code is None:
        # No LDAP answer: the add may have happened. Look before deleting anything.
        try:
            created = session.exists(dn)
        except TransportError:
            created = False
    deleted = False
    delete_error: str | None = None
    if created:
        try:
            session.delete(dn)
            deleted = True
        except LdapError as e:
            delete_error = (
                explain_ldap_error(e.code, e.diagnostic).sentence if e.code is not None else e.message
            )
        except TransportError as e:
            delete_error = e.message
    return JoinProbe(dn, created, deleted, create_code, None if created else create_error, delete_error)


def collect_service_account(
    settings: DirectorySettings,
    *,
    target_container_dn: str | None = None,
    join_probe: bool = False,
    admin_session_factory: Callable[[], LdapSession] | None = None,
) -> AccountFacts:
    """Bind as the service account described by ``settings`` and read what it can see and do.

    ``target_container_dn``: where computers will be created (default: the domain's computers
    container). ``join_probe`` writes: it creates and deletes a scratch computer object.
    ``admin_session_factory`` (optional) reads the account's state when the account cannot bind.
    """
    now = datetime.now(UTC)
    bind_name = settings.bind_name
    try:
        session: LdapSession | None = connect(settings.target(), user=bind_name, password=settings.password)
        outcome = bind_outcome(None, mode=settings.mode, bind_name=bind_name)
    except TransportError as e:
        session = None
        outcome = bind_outcome(e, mode=settings.mode, bind_name=bind_name)

    if session is None:
        facts = AccountFacts(settings.dc, outcome, now, join_probe_requested=join_probe)
        if admin_session_factory is None or not outcome.connected:
            return facts
        try:
            admin = admin_session_factory()
        except TransportError as e:
            reason, kind = f"The administrator session failed: {e.sentence()}", reason_of(e)
            return AccountFacts(settings.dc, outcome, now, account=Observed.failed(reason, kind),
                                policy=Observed.failed(reason, kind), join_probe_requested=join_probe)  # fmt: skip
        with admin:
            account = Observed.attempt(
                "The account", lambda: read_account_object(admin, settings, read_by="admin")
            )
            policy = Observed.attempt(
                "The domain policy", lambda: read_domain_policy(admin, settings.base_dn)
            )
        return AccountFacts(settings.dc, outcome, now, account=account, policy=policy,
                            join_probe_requested=join_probe)  # fmt: skip

    with session:
        bound = session
        account_o = Observed.attempt(
            "The account's own object", lambda: read_account_object(bound, settings, read_by="self")
        )
        policy_o = Observed.attempt("The domain policy", lambda: read_domain_policy(bound, settings.base_dn))
        container_o = Observed.attempt(
            "allowedChildClassesEffective",
            lambda: read_container_rights(bound, settings.base_dn, target_container_dn),
        )
        own_dn = account_o.value.dn if account_o.value else None
        users_o = Observed.attempt("Users' attributes", lambda: read_users(bound, settings.base_dn, own_dn))
        vlv_o = Observed.attempt("The VLV search", lambda: probe_vlv(bound, settings.base_dn))
        probe_o: Observed[JoinProbe] | None = None
        if join_probe:
            if container_o.value is None:
                probe_o = Observed.failed(
                    container_o.error or "The target container is not known",
                    container_o.error_reason or ErrorReason.UNREACHABLE,
                )
            elif not container_o.value.exists:
                # account.rights.create_computer fails for it; the probe has nowhere to create its object.
                probe_o = Observed.failed(
                    f"The container {container_o.value.dn} does not exist", ErrorReason.NOT_SUPPORTED
                )
            else:
                container_dn = container_o.value.dn
                probe_o = Observed.attempt("The join probe", lambda: run_join_probe(bound, container_dn))
    return AccountFacts(
        address=settings.dc,
        bind=outcome,
        now=now,
        account=account_o,
        policy=policy_o,
        container=container_o,
        user_read=users_o,
        vlv=vlv_o,
        join_probe_requested=join_probe,
        join_probe=probe_o,
    )
