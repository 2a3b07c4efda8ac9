"""LDAP result codes and Active Directory's diagnostic sub-codes, in plain sentences.

Owns the knowledge "what does this bind/search/modify failure mean and what should a person do":
RFC 4511 4.1.9 result codes, the ``data XXX`` sub-codes AD (and Samba, which copies them) puts in
the diagnostic message, and the signing/channel-binding codes behind LDAP hardening. Sentences are
built from fixed texts and codes only, never from user input, so they cannot carry a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: RFC 4511 4.1.9 (and RFC 4511 Appendix A) result code names.
RESULT_NAMES: dict[int, str] = {
    0: "success",
    1: "operationsError",
    2: "protocolError",
    3: "timeLimitExceeded",
    4: "sizeLimitExceeded",
    5: "compareFalse",
    6: "compareTrue",
    7: "authMethodNotSupported",
    8: "strongerAuthRequired",
    10: "referral",
    11: "adminLimitExceeded",
    12: "unavailableCriticalExtension",
    13: "confidentialityRequired",
    14: "saslBindInProgress",
    16: "noSuchAttribute",
    17: "undefinedAttributeType",
    18: "inappropriateMatching",
    19: "constraintViolation",
    20: "attributeOrValueExists",
    21: "invalidAttributeSyntax",
    32: "noSuchObject",
    33: "aliasProblem",
    34: "invalidDNSyntax",
    36: "aliasDereferencingProblem",
    48: "inappropriateAuthentication",
    49: "invalidCredentials",
    50: "insufficientAccessRights",
    51: "busy",
    52: "unavailable",
    53: "unwillingToPerform",
    54: "loopDetect",
    64: "namingViolation",
    65: "objectClassViolation",
    66: "notAllowedOnNonLeaf",
    67: "notAllowedOnRDN",
    68: "entryAlreadyExists",
    69: "objectClassModsProhibited",
    71: "affectsMultipleDSAs",
    80: "other",
}

_SIGNING_HINT = (
    "The DC requires LDAP signing: bind with Kerberos or NTLM and signing (sign/seal), or use LDAPS "
    "(TCP 636) or StartTLS. AD Connector signs its binds; this affects only how adprep connects."
)
_CBT_HINT = (
    "The DC requires LDAP channel binding: connect over LDAPS with a client that sends channel binding "
    "tokens, or use a Kerberos/NTLM bind with signing over plain LDAP."
)

#: Result code -> (sentence, hint).
RESULT_SENTENCES: dict[int, tuple[str, str | None]] = {
    1: ("The directory could not carry out the operation in its current state.", None),
    2: ("The directory did not understand the request.", "This is likely a bug in adprep; please report it."),
    3: ("The directory stopped the operation at its time limit.", "Narrow the search or raise the limit."),
    4: ("The directory returned only part of the results (size limit).", "adprep should page the search."),
    7: (
        "The directory does not support this authentication method.",
        "Try another bind method (simple over TLS, or Kerberos/NTLM).",
    ),
    8: ("The directory requires a stronger (signed or encrypted) connection for this bind.", _SIGNING_HINT),
    11: (
        "The request exceeded an administrative limit on the directory (MaxPageSize, MaxValRange, ...).",
        "Page the search or request fewer values.",
    ),
    12: ("The directory does not support a control adprep marked critical.", None),
    13: (
        "The directory requires an encrypted connection for this operation.",
        "Use LDAPS (TCP 636) or StartTLS; AD requires it for setting passwords.",
    ),
    16: ("The attribute to change or remove does not exist on the object.", None),
    17: ("The directory's schema does not define this attribute.", None),
    19: (
        "The directory refused the value because it breaks a constraint (length, range, or password policy).",
        "Check the value against the attribute's limits and the domain's password policy.",
    ),
    20: ("The attribute already holds this value.", None),
    21: ("The value does not have the attribute's syntax.", None),
    32: ("The object does not exist in the directory.", "Check the DN and the base DN (search base)."),
    34: ("The distinguished name is not valid.", "Check its spelling and escaping."),
    48: ("The directory does not accept this kind of bind for this account.", None),
    49: (
        "The directory rejected the user name or password.",
        "Check the user name (without DOMAIN\\ or @domain) and the password.",
    ),
    50: (
        "The account is not allowed to do this.",
        "Delegate the needed rights to the service account's group (adprep delegate).",
    ),
    51: ("The directory is too busy to carry out the operation.", "Try again in a moment."),
    52: ("The directory is unavailable (shutting down or not yet ready).", "Try another domain controller."),
    53: ("The directory is unwilling to perform the operation.", None),
    54: ("The directory detected a referral loop.", None),
    64: ("The new object's name breaks the directory's naming rules.", None),
    65: (
        "The object would break its object class rules (a required attribute missing, or one not allowed).",
        None,
    ),
    66: ("The object has children, so this operation is not allowed on it.", None),
    67: ("The operation would change the object's naming attribute.", None),
    68: ("An object with this name already exists.", None),
    69: ("The object's class cannot be changed.", None),
    80: ("The directory failed with an unspecified error.", None),
}

#: AD's ``data XXX`` sub-codes on a failed bind (Win32 error codes, hex).
BIND_SUBCODES: dict[str, tuple[str, str | None]] = {
    "525": ("The user was not found.", "Check the user name; give it without DOMAIN\\ or @domain."),
    "52e": ("The user name or password is wrong.", "Check the password (and the user name)."),
    "530": (
        "The account is not permitted to sign in at this time (logon hours).",
        "Check the account's logon hours.",
    ),
    "531": (
        "The account is not permitted to sign in from this workstation.",
        "Check the account's 'Log On To' workstation list.",
    ),
    "532": ("The account's password has expired.", "Set a new password for the service account."),
    "533": ("The account is disabled.", "Enable the service account."),
    "568": ("The account belongs to too many security groups for its token.", None),
    "701": ("The account has expired.", "Extend or clear the account's expiry date."),
    "773": (
        "The account must change its password before it can sign in.",
        "Set a new password and clear 'User must change password at next logon'.",
    ),
    "775": ("The account is locked out.", "Unlock the account, or wait for the lockout duration to pass."),
    "80090346": ("The DC requires LDAP channel binding.", _CBT_HINT),
}

#: AD's leading 8-hex-digit diagnostic codes that mean something on their own.
LEADING_CODES: dict[str, tuple[str, str | None]] = {
    "00002028": ("The DC requires LDAP signing (integrity) on connections that are not TLS.", _SIGNING_HINT),
    "80090346": ("The DC requires LDAP channel binding.", _CBT_HINT),
    "0000052d": (
        "The password does not meet the domain's password policy.",
        "Use a longer or more complex password, or one not used before.",
    ),
}

#: Samba's texts (it sends no AD sub-code in these cases) and NTSTATUS names in older Samba messages.
SAMBA_TEXTS: tuple[tuple[str, str, str | None], ...] = (
    (
        "transport encryption required",
        "The DC requires an encrypted connection for simple binds (Samba: ldap server require strong auth).",
        "Use LDAPS (TCP 636) or StartTLS, or a Kerberos/NTLM bind with signing.",
    ),
    (
        "strong(er) authentication required",
        "The DC requires a stronger (signed or encrypted) bind.",
        _SIGNING_HINT,
    ),
    ("sign or seal are required", "The DC requires LDAP signing or sealing on this bind.", _SIGNING_HINT),
    ("nt_status_account_disabled", "The account is disabled.", "Enable the service account."),
    (
        "nt_status_account_locked_out",
        "The account is locked out.",
        "Unlock the account, or wait for the lockout duration to pass.",
    ),
    (
        "nt_status_password_expired",
        "The account's password has expired.",
        "Set a new password for the account.",
    ),
    (
        "nt_status_password_must_change",
        "The account must change its password before it can sign in.",
        "Set a new password and clear 'User must change password at next logon'.",
    ),
    ("nt_status_account_expired", "The account has expired.", "Extend or clear the account's expiry date."),
    (
        "nt_status_logon_failure",
        "The user name or password is wrong.",
        "Check the user name (without DOMAIN\\ or @domain) and the password.",
    ),
)

# "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563"
_DATA = re.compile(r"\bdata\s+([0-9a-fA-F]+)\b")
_LEADING = re.compile(r"^\s*([0-9a-fA-F]{8})\s*:")


@dataclass(frozen=True)
class LdapExplanation:
    """What an LDAP failure means, for a person."""

    sentence: str
    hint: str | None
    subcode: str | None
    """AD's ``data`` sub-code (lower-case hex, as sent: ``"52e"``, ``"80090346"``) or, when the
    message has none that adprep knows, its leading 8-digit code (``"00002028"``)."""
    result_name: str | None = None
    """The RFC 4511 name of the result code, when one was given."""


def parse_subcodes(message: str | None) -> tuple[str | None, str | None]:
    """(leading 8-hex-digit code, ``data`` sub-code) from an AD diagnostic message, lower-case."""
    if not message:
        return None, None
    lead = _LEADING.match(message)
    data = _DATA.search(message)
    return (lead.group(1).lower() if lead else None), (data.group(1).lower() if data else None)


def explain_ldap_error(result_code: int | None, message: str | None) -> LdapExplanation:
    """Turn an LDAP result code and diagnostic message into a sentence and a hint.

    The most specific knowledge wins: a known ``data`` sub-code, then a known leading code, then
    a Samba text, then the result code. The raw message is never echoed into the sentence.
    """
    name = RESULT_NAMES.get(result_code) if result_code is not None else None
    lead, data = parse_subcodes(message)
    if data is not None and data.lstrip("0") in BIND_SUBCODES:
        data = data.lstrip("0")
    if data is not None and data in BIND_SUBCODES:
        sentence, hint = BIND_SUBCODES[data]
        return LdapExplanation(sentence, hint, data, name)
    if lead is not None and lead in LEADING_CODES:
        sentence, hint = LEADING_CODES[lead]
        return LdapExplanation(sentence, hint, lead, name)
    lowered = (message or "").lower()
    for needle, sentence, hint in SAMBA_TEXTS:
        if needle in lowered:
            return LdapExplanation(sentence, hint, data, name)
    if result_code is not None and result_code in RESULT_SENTENCES:
        sentence, hint = RESULT_SENTENCES[result_code]
        return LdapExplanation(sentence, hint, data, name)
    if result_code is not None:
        label = f" ({name})" if name else ""
        return LdapExplanation(
            f"The directory answered with LDAP result {result_code}{label}.", None, data, name
        )
    return LdapExplanation("The directory operation failed for a reason it did not say.", None, data, None)
