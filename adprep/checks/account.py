"""Service account verdicts: the bind, the account's state, its rights and the join probe. Pure.

Dependent checks (state, rights, probe) are ``skip`` when the account did not bind, because the bind
verdict already says why; a read that failed while bound is ``error``. AD Connector reports every
refused bind of its service account, whatever the sub-code, as invalid credentials; that is the
text adprep attaches to a failed bind.
"""

from __future__ import annotations

from datetime import timedelta

from adprep import requirements as req
from adprep.ad.account_flags import AccountState, account_state, interval_to_timedelta
from adprep.catalogue import check_id
from adprep.facts.account import ALWAYS_PRESENT_USER_ATTRIBUTES, AccountFacts, BindOutcome, KerberosLogin
from adprep.model import CheckResult, ErrorReason, FactValue, Status

#: A service account password that expires this soon is worth a warning.
PASSWORD_EXPIRY_WARN = timedelta(days=14)
#: AD sub-codes (MS-ADTS / Win32) that describe the account's state rather than its password.
STATE_SUBCODES = {"533": "disabled", "775": "locked", "701": "expired", "532": "password_expired",
                  "773": "must_change"}  # fmt: skip

_MODE_NAMES = {"ldaps": "LDAPS", "starttls": "StartTLS", "plain": "plain LDAP"}
_PLAIN_REFUSED = (
    "The DC refuses simple binds over unencrypted LDAP (it requires TLS or signing: Windows 'LDAP server "
    "signing requirements' / Samba 'ldap server require strong auth'), so the credentials were not checked. "
    "This is not an AD Connector problem: AD Connector signs its binds."
)


def _bind_facts(bind: BindOutcome) -> dict[str, FactValue]:
    return {
        "bind_name": bind.bind_name,
        "mode": bind.mode,
        "result_code": bind.code,
        "result": bind.result_name,
        "subcode": bind.subcode,
        "diagnostic": bind.diagnostic,
    }


def check_bind(facts: AccountFacts) -> CheckResult:
    """MS-ADTS 5.1.1.1 / RFC 4513 5.1.3: a simple bind as the service account."""
    cid = check_id("account.bind")
    bind = facts.bind
    mode = _MODE_NAMES.get(bind.mode, bind.mode)
    fact_map = _bind_facts(bind)
    target = facts.address
    if bind.ok:
        return CheckResult(
            cid, Status.PASS, f"Bound as {bind.bind_name} over {mode}", fact_map, target=target
        )
    if bind.strong_auth_required:
        return CheckResult(
            cid,
            Status.ERROR,
            f"{facts.address} refused a plain simple bind as {bind.bind_name}: it requires TLS or signing",
            fact_map,
            remedy=_PLAIN_REFUSED
            + " Run again with --ldap-mode ldaps (or starttls) to check the credentials.",
            target=target,
            reason=ErrorReason.TLS,
        )
    if not bind.connected:
        return CheckResult(
            cid,
            Status.ERROR,
            f"LDAP on {facts.address} answered the bind as {bind.bind_name} with a malformed reply, not LDAP"
            if bind.error_reason is ErrorReason.MALFORMED
            else f"Could not reach LDAP on {facts.address} to bind as {bind.bind_name}",
            fact_map,
            remedy=" ".join(x for x in (bind.sentence, bind.hint) if x) or None,
            target=target,
            reason=bind.error_reason or ErrorReason.UNREACHABLE,
        )
    sentence = bind.sentence or f"LDAP result {bind.code}"
    if bind.code == 49:
        return CheckResult(
            cid,
            Status.FAIL,
            f"Invalid credentials (bad username/password) for {bind.bind_name}: {sentence}",
            fact_map,
            remedy=bind.hint or "Check the service account's user name and password.",
            adc_error=req.ADC_INVALID_CREDENTIALS.format(ip=facts.address),
            target=target,
        )
    return CheckResult(
        cid,
        Status.FAIL,
        f"The bind as {bind.bind_name} failed: {sentence}",
        fact_map,
        remedy=bind.hint or "Check the service account and the DC's LDAP settings.",
        adc_error=req.ADC_SERVICE_ACCOUNT,
        target=target,
    )


def check_state(facts: AccountFacts) -> CheckResult:
    """Disabled, locked, expired, password expired or must change (MS-ADTS 2.2.16, 3.1.1.4.5.17)."""
    cid = check_id("account.state")
    bind = facts.bind
    target = facts.address
    state_from_bind = STATE_SUBCODES.get(bind.subcode or "") if not bind.ok and bind.code == 49 else None
    invalid = req.ADC_INVALID_CREDENTIALS.format(ip=facts.address)
    if state_from_bind is not None:
        fact_map: dict[str, FactValue] = {"state": state_from_bind, "source": "bind", "subcode": bind.subcode}
        if facts.account is not None and facts.account.value is not None:
            fact_map["problems"] = list(_state(facts).problems)
        return CheckResult(
            cid,
            Status.FAIL,
            f"The service account cannot sign in: {bind.sentence}",
            fact_map,
            remedy=bind.hint,
            adc_error=invalid,
            target=target,
        )
    if facts.account is None:
        return CheckResult(cid, Status.SKIP, "Account state: not read (the service account did not bind)",
                           target=target)  # fmt: skip
    if facts.account.value is None:
        return CheckResult(cid, Status.ERROR, "Account state: could not be read", {"reason": facts.account.error},
                           remedy=facts.account.error, target=target,
                           reason=facts.account.error_reason or ErrorReason.UNREACHABLE)  # fmt: skip
    obj = facts.account.value
    state = _state(facts)
    fact_map = {
        "dn": obj.dn,
        "userAccountControl": obj.user_account_control,
        "msDS-User-Account-Control-Computed": obj.computed_uac,
        "pwdLastSet": obj.pwd_last_set,
        "lockoutTime": obj.lockout_time,
        "accountExpires": obj.account_expires,
        "read_by": obj.read_by,
        "problems": list(state.problems),
        "password_expires_at": state.password_expires_at.isoformat() if state.password_expires_at else None,
        "expires_at": state.expires_at.isoformat() if state.expires_at else None,
    }
    if facts.policy is not None and facts.policy.value is None:
        fact_map["policy_error"] = facts.policy.error
    if state.problems:
        return CheckResult(
            cid,
            Status.FAIL,
            f"The service account cannot sign in: {' '.join(state.problems)}",
            fact_map,
            remedy="Fix the account in Active Directory Users and Computers (enable, unlock, extend, reset the "
            "password and clear 'must change').",
            adc_error=invalid,
            target=target,
        )
    soon = [
        (what, when)
        for what, when in (("password", state.password_expires_at), ("account", state.expires_at))
        if when is not None and when - facts.now <= PASSWORD_EXPIRY_WARN
    ]
    if soon:
        what, when = soon[0]
        return CheckResult(
            cid,
            Status.WARN,
            f"The service account's {what} expires on {when:%Y-%m-%d %H:%M} UTC",
            fact_map,
            remedy="AD Connector stops working when it does: extend it, or set 'Password never expires' "
            "and rotate the password on your own schedule (then update AD Connector).",
            target=target,
        )
    return CheckResult(cid, Status.PASS, "The service account is enabled, unlocked and unexpired", fact_map,
                       target=target)  # fmt: skip


def _state(facts: AccountFacts) -> AccountState:
    assert facts.account is not None and facts.account.value is not None
    obj = facts.account.value
    policy = facts.policy.value if facts.policy is not None else None
    max_age = interval_to_timedelta(policy.max_pwd_age) if policy and policy.max_pwd_age is not None else None
    duration = (
        interval_to_timedelta(policy.lockout_duration)
        if policy and policy.lockout_duration is not None
        else None
    )
    return account_state(
        obj.user_account_control,
        obj.pwd_last_set,
        obj.lockout_time,
        obj.account_expires,
        facts.now,
        max_age,
        duration,
        computed_uac=obj.computed_uac,
    )


def _skip_unbound(cid: str, what: str, facts: AccountFacts) -> CheckResult:
    return CheckResult(cid, Status.SKIP, f"{what}: not checked (the service account did not bind)",
                       target=facts.address)  # fmt: skip


def check_create_computer(facts: AccountFacts) -> CheckResult:
    """``allowedChildClassesEffective`` on the target container includes ``computer`` (MS-ADTS 3.1.1.4.5.4)."""
    cid = check_id("account.rights.create_computer")
    what = "Right to create computer objects"
    if facts.container is None:
        return _skip_unbound(cid, what, facts)
    if facts.container.value is None:
        return CheckResult(cid, Status.ERROR, f"{what}: could not be read", {"reason": facts.container.error},
                           remedy=facts.container.error, target=facts.address,
                           reason=facts.container.error_reason or ErrorReason.UNREACHABLE)  # fmt: skip
    c = facts.container.value
    fact_map: dict[str, FactValue] = {"container": c.dn, "container_source": c.source, "exists": c.exists,
                                      "allowed_child_classes": len(c.child_classes)}  # fmt: skip
    if not c.exists:
        return CheckResult(
            cid,
            Status.FAIL,
            f"The target container {c.dn} does not exist (or the service account cannot see it)",
            fact_map,
            remedy="Give the DN (or OU path) of an existing OU for WorkSpaces computers, and let the service "
            "account read it.",
            target=facts.address,
        )
    if any(cls.lower() == "computer" for cls in c.child_classes):
        return CheckResult(cid, Status.PASS, f"The service account may create computer objects in {c.dn}",
                           fact_map, target=facts.address)  # fmt: skip
    return CheckResult(
        cid,
        Status.FAIL,
        f"The service account may not create computer objects in {c.dn}",
        fact_map,
        remedy=(
            f"Delegate 'Create Computer objects' and 'Delete Computer objects' on {c.dn} to the service "
            "account's group (adprep delegate). WorkSpaces (and Seamless Domain Join) cannot join "
            "computers without it."
        ),
        target=facts.address,
    )


def check_read_users(facts: AccountFacts) -> CheckResult:
    """The account reads users' attributes (see :mod:`adprep.collect.account` for what proves it)."""
    cid = check_id("account.rights.read_users")
    what = "Reading users"
    if facts.user_read is None:
        return _skip_unbound(cid, what, facts)
    if facts.user_read.value is None:
        return CheckResult(cid, Status.ERROR, f"{what}: could not run", {"reason": facts.user_read.error},
                           remedy=facts.user_read.error, target=facts.address,
                           reason=facts.user_read.error_reason or ErrorReason.UNREACHABLE)  # fmt: skip
    u = facts.user_read.value
    unproven = [
        a
        for a in req.USER_READ_ATTRIBUTES
        if a not in ALWAYS_PRESENT_USER_ATTRIBUTES and not u.present.get(a)
    ]
    fact_map: dict[str, FactValue] = {
        "sampled_users": u.sampled,
        "present": dict(u.present),
        "self_readable": list(u.self_readable),
        "not_proven": unproven,
    }
    remedy = (
        "Let the service account read user objects (by default Authenticated Users can, through Pre-Windows "
        "2000 Compatible Access or the domain's default ACL); check for deny ACEs or a locked-down OU."
    )
    if u.sampled == 0:
        return CheckResult(cid, Status.FAIL, "The service account sees no other users", fact_map, remedy=remedy,
                           target=facts.address)  # fmt: skip
    missing = [a for a in ALWAYS_PRESENT_USER_ATTRIBUTES if u.present.get(a, 0) < u.sampled]
    if missing:
        return CheckResult(
            cid,
            Status.FAIL,
            f"The service account cannot read {', '.join(missing)} of some users "
            f"({min(u.present.get(a, 0) for a in missing)} of {u.sampled} sampled)",
            fact_map,
            remedy=remedy,
            target=facts.address,
        )
    note = (
        f"; no value seen for {', '.join(unproven)} (empty or hidden: AD does not tell)" if unproven else ""
    )
    return CheckResult(cid, Status.PASS, f"The service account reads users ({u.sampled} sampled){note}", fact_map,
                       target=facts.address)  # fmt: skip


def check_join_probe(facts: AccountFacts) -> CheckResult:
    """--join-probe: a scratch computer object created and deleted as the service account."""
    cid = check_id("account.join_probe")
    if not facts.join_probe_requested:
        return CheckResult(cid, Status.SKIP, "Join probe: not run (--join-probe creates and deletes an object)",
                           target=facts.address)  # fmt: skip
    if facts.join_probe is None:
        return _skip_unbound(cid, "Join probe", facts)
    if facts.join_probe.value is None:
        return CheckResult(cid, Status.ERROR, "Join probe: could not run", {"reason": facts.join_probe.error},
                           remedy=facts.join_probe.error, target=facts.address,
                           reason=facts.join_probe.error_reason or ErrorReason.UNREACHABLE)  # fmt: skip
    p = facts.join_probe.value
    fact_map: dict[str, FactValue] = {"dn": p.dn, "created": p.created, "deleted": p.deleted,
                                      "create_code": p.create_code, "create_error": p.create_error,
                                      "delete_error": p.delete_error}  # fmt: skip
    if p.created and p.deleted:
        return CheckResult(cid, Status.PASS, f"Created and deleted the scratch computer {p.dn}", fact_map,
                           target=facts.address)  # fmt: skip
    if p.created:
        return CheckResult(
            cid,
            Status.WARN,
            f"Created the scratch computer {p.dn} but could not delete it: {p.delete_error}",
            fact_map,
            remedy=f"Delete {p.dn} by hand, and delegate 'Delete Computer objects' to the service account's group.",
            target=facts.address,
        )
    return CheckResult(
        cid,
        Status.FAIL,
        f"The service account could not create a computer object: {p.create_error}",
        fact_map,
        remedy="Delegate 'Create Computer objects' on the target container to the service account's group "
        "(adprep delegate).",
        target=facts.address,
    )


def check_account(facts: AccountFacts) -> list[CheckResult]:
    """Every service account verdict for one DC."""
    return [
        check_bind(facts),
        check_state(facts),
        check_create_computer(facts),
        check_read_users(facts),
        check_join_probe(facts),
    ]


#: What a KDC error during the account's own login means, and what to do (RFC 4120 7.5.9).
_KDC_MEANING: dict[int, tuple[str, str, str]] = {
    6: ("the KDC does not know the account", "Check the user name; the account must exist in this domain.",
        req.ADC_INVALID_CREDENTIALS),
    14: ("the KDC and the account share no encryption type",
         "Allow AES (or RC4) for the account (msDS-SupportedEncryptionTypes) and set its password again so "
         "the keys exist.", req.ADC_SERVICE_ACCOUNT),
    18: ("the KDC revoked the account (disabled or locked out)", "Enable or unlock the account.",
         req.ADC_INVALID_CREDENTIALS),
    23: ("the account's password has expired", "Set a new password, and consider 'password never expires' for "
         "this service account.", req.ADC_SERVICE_ACCOUNT),
    24: ("the KDC rejected the password", "Give the account's current password.", req.ADC_INVALID_CREDENTIALS),
    37: ("this host's clock and the DC's differ by more than Kerberos allows",
         "Synchronise both clocks (NTP); AD Connector's own clock follows AWS's.", req.ADC_SERVICE_ACCOUNT),
}  # fmt: skip


def check_kerberos(login: KerberosLogin | None, facts: AccountFacts) -> CheckResult:
    """The account's own Kerberos login (a TGT), which is how AD Connector authenticates it."""
    cid = check_id("account.kerberos")
    if login is None:
        return _skip_unbound(cid, "Kerberos login", facts)
    result_facts: dict[str, FactValue] = {
        "kdc": login.kdc,
        "principal": login.principal,
        "elapsed_ms": login.elapsed_ms,
        "error_code": login.error_code,
        "error_name": login.error_name,
    }
    if login.ok:
        return CheckResult(cid, Status.PASS, f"Kerberos: {login.principal} got a ticket from {login.kdc}",
                           result_facts, target=login.kdc)  # fmt: skip
    if login.error_code is None:
        return CheckResult(cid, Status.ERROR, f"Kerberos login as {login.principal}: could not ask {login.kdc} ({login.problem})",
                           result_facts, remedy=f"{login.problem}. Check TCP 88 to the DC.", target=login.kdc,
                           reason=login.problem_reason or ErrorReason.UNREACHABLE)  # fmt: skip
    meaning, remedy, adc = _KDC_MEANING.get(
        login.error_code,
        (f"the KDC answered {login.error_name}", "See the KDC's event log.", req.ADC_SERVICE_ACCOUNT),
    )
    return CheckResult(
        cid,
        Status.FAIL,
        f"Kerberos login as {login.principal} failed: {meaning} ({login.error_name})",
        result_facts,
        remedy=remedy,
        adc_error=adc.format(ip=login.kdc),
        target=login.kdc,
    )


#: Why the account checks are skipped in a preflight without ``--user``.
NO_ACCOUNT_REASON = "no service account given (--user)"

#: The checks that need the service account's bind, in report order, with what each would prove.
NEEDS_ACCOUNT: tuple[tuple[str, str], ...] = (
    ("directory.vlv.setting", "VLV setting (msDS-Other-Settings, read as the account)"),
    ("directory.vlv.search", "VLV search as the service account"),
    ("directory.cn_index", "CN index for large directories (the user count, read as the account)"),
    ("directory.preauth", "Accounts without Kerberos pre-authentication (read as the account)"),
    ("account.bind", "Service account bind"),
    ("account.state", "Service account state"),
    ("account.rights.create_computer", "Right to create computer objects"),
    ("account.rights.read_users", "Right to read users"),
    ("account.join_probe", "Join probe"),
    ("account.kerberos", "Kerberos login as the service account"),
    ("gpo.scan", "GPOs that reach the target container (scanned as the account)"),
)


def check_without_account(dc_address: str | None) -> list[CheckResult]:
    """A preflight without a service account: every check that needs its bind is ``skip`` with the
    reason, then ``account.scope`` says so once (the report's summary shows it)."""
    remedy = "Run again with --user (and its password) to check the service account and what it can read."
    reason: dict[str, FactValue] = {"reason": NO_ACCOUNT_REASON}
    results = [
        CheckResult(
            check_id(cid),
            Status.SKIP,
            f"{what}: not checked, {NO_ACCOUNT_REASON}",
            reason,
            remedy=remedy,
            target=dc_address,
        )
        for cid, what in NEEDS_ACCOUNT
    ]
    results.append(
        CheckResult(
            check_id("account.scope"),
            Status.SKIP,
            f"Service account checks skipped: {NO_ACCOUNT_REASON}; ran without credentials: DNS/SRV, ports, "
            "CLDAP, functional levels and clocks (anonymous rootDSE)",
            {"reason": NO_ACCOUNT_REASON, "skipped": [cid for cid, _ in NEEDS_ACCOUNT]},
            remedy=remedy,
        )
    )
    return results
