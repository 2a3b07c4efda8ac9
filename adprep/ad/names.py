"""Names and passwords AD Connector accepts: sAMAccountName, the service account user name, the
domain's DNS name, and password rules; and a password generator.

Validators raise :class:`adprep.errors.InputError` with one sentence; the password check returns a
structured result instead, so the caller decides whether a weak password is a warning or an error.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from adprep.errors import InputError
from adprep.requirements import (
    GROUP_NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN_API,
    PASSWORD_MIN_CONSOLE,
    SAM_ACCOUNT_NAME_MAX,
    SERVICE_ACCOUNT_NAME_PATTERN,
    WORKSPACES_USER_NAME_MAX,
)

# MS-ADTS 3.1.1.5.2.2 / "User naming conventions in AD DS": characters a logon name may not hold.
SAM_FORBIDDEN = frozenset('"/\\[]:;|=,+*?<>@')
_SERVICE_NAME = re.compile(SERVICE_ACCOUNT_NAME_PATTERN)
# RFC 1123 2.1 host name labels: letters, digits, hyphens; no hyphen at either end; 1-63 octets.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
# ds API: ConnectDirectory Name pattern (the console applies the same).
_DS_DIRECTORY_NAME = re.compile(r"^([a-zA-Z0-9]+[\\.-])+([a-zA-Z0-9])+$")
_FQDN_MAX = 253

CharClass = Literal["lower", "upper", "digit", "symbol"]
CHAR_CLASSES: tuple[CharClass, ...] = ("lower", "upper", "digit", "symbol")


def validate_sam_account_name(name: str) -> str:
    """A user's pre-Windows 2000 logon name: 1-20 characters, none of ``"/\\[]:;|=,+*?<>@``,
    no control characters, not ending with a period. Returns the name unchanged."""
    if not name:
        raise InputError("The user logon name is empty", hint="Give a name of 1 to 20 characters.")
    if len(name) > SAM_ACCOUNT_NAME_MAX:
        raise InputError(
            f"The user logon name {name!r} is {len(name)} characters long; Active Directory allows "
            f"{SAM_ACCOUNT_NAME_MAX}",
            hint=f"Shorten it to {SAM_ACCOUNT_NAME_MAX} characters or fewer.",
        )
    bad = sorted({c for c in name if c in SAM_FORBIDDEN or ord(c) < 0x20})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise InputError(
            f"The user logon name {name!r} contains characters Active Directory forbids: {shown}",
            hint='Leave out " / \\ [ ] : ; | = , + * ? < > @ and control characters.',
        )
    if name.endswith("."):
        raise InputError(
            f"The user logon name {name!r} ends with a period",
            hint="Active Directory forbids a trailing period.",
        )
    if name.strip(". ") == "":
        raise InputError(f"The user logon name {name!r} is only spaces and periods")
    return name


def workspaces_user_name_problem(name: str) -> str | None:
    """Why WorkSpaces or AD Connector would not take ``name`` (an existing user's sAMAccountName) as a
    WorkSpaces user name, as one sentence; ``None`` when it is fine.

    Rules, in order: the WorkSpaces API's 1-63 characters (Amazon WorkSpaces API Reference,
    WorkspaceRequest: UserName), then Active Directory's own for a logon name
    (:func:`validate_sam_account_name`: 20 characters, no ``"/\\[]:;|=,+*?<>@``, no control
    characters, no trailing period). AD refuses such names when an account is created through the
    SAM interfaces, but objects written over LDAP by other tools, or migrated, can carry them, and
    the user cannot type them at the WorkSpaces sign-in (AD Connector authenticates the name as typed).
    """
    if len(name) > WORKSPACES_USER_NAME_MAX:
        return (
            f"The user logon name {name[:20]!r}… is {len(name)} characters long; WorkSpaces takes user "
            f"names of 1 to {WORKSPACES_USER_NAME_MAX} characters"
        )
    try:
        validate_sam_account_name(name)
    except InputError as e:
        return e.message
    return None


def validate_group_name(name: str) -> str:
    """A group's sAMAccountName: 1-256 characters, the logon name's forbidden set. Returns it unchanged."""
    if (
        not name.strip()
        or len(name) > GROUP_NAME_MAX
        or any(c in SAM_FORBIDDEN or ord(c) < 0x20 for c in name)
    ):
        raise InputError(
            f"The group name {name!r} is not one Active Directory accepts",
            hint=f'Use 1-{GROUP_NAME_MAX} characters, none of " / \\ [ ] : ; | = , + * ? < > @.',
        )
    return name


def validate_service_account_name(name: str) -> str:
    """The service account user name as AD Connector takes it (ds API pattern ``[a-zA-Z0-9._-]+``).

    ``DOMAIN\\user`` and ``user@domain`` are the commonest mistakes, so each gets its own sentence.
    """
    hint = "Give the user name alone, without DOMAIN\\ or @domain; AD Connector adds the domain itself."
    if "\\" in name:
        raise InputError(f"The service account name {name!r} includes a domain", hint=hint)
    if "@" in name:
        raise InputError(f"The service account name {name!r} is a user principal name", hint=hint)
    if not _SERVICE_NAME.fullmatch(name):
        raise InputError(
            f"The service account name {name!r} is not accepted by AD Connector",
            hint="Use only letters, digits, periods, hyphens and underscores.",
        )
    return name


def validate_domain_fqdn(name: str) -> str:
    """The directory's DNS name, such as ``corp.example.com``: returned lower-case without a trailing dot.

    Single-label names (``corp``) are refused: AD Connector does not support single-label domains.
    """
    fqdn = name.strip().rstrip(".").lower()
    if not fqdn:
        raise InputError(
            "The domain name is empty", hint="Give the domain's DNS name, such as corp.example.com."
        )
    labels = fqdn.split(".")
    if len(labels) == 1:
        raise InputError(
            f"{name!r} is a single-label domain name, and AD Connector does not support single-label domains",
            hint="Give the full DNS name of the domain, such as corp.example.com (not its NetBIOS name).",
        )
    if len(fqdn) > _FQDN_MAX:
        raise InputError(f"The domain name {name!r} is longer than {_FQDN_MAX} characters")
    for label in labels:
        if not _LABEL.match(label):
            raise InputError(
                f"The domain name {name!r} has an invalid label {label!r}",
                hint="Each dot-separated part must be 1-63 letters, digits or hyphens, not starting or "
                "ending with a hyphen.",
            )
    if not _DS_DIRECTORY_NAME.match(fqdn):
        raise InputError(
            f"The domain name {name!r} does not match the pattern AD Connector accepts",
            hint="Use letters and digits separated by single dots or hyphens.",
        )
    return fqdn


@dataclass(frozen=True)
class PasswordCheck:
    """What a password has, measured against AD Connector's rules. Never holds the password."""

    length: int
    classes: frozenset[CharClass]
    """Which of lower, upper, digit, symbol occur."""
    api_ok: bool
    """Accepted by the ds API: 1-128 characters."""
    console_ok: bool
    """Accepted by the console: 8-128 characters with 3 of the 4 classes."""
    problems: tuple[str, ...]
    """One sentence per rule the console would reject (empty when ``console_ok``)."""

    @property
    def class_count(self) -> int:
        return len(self.classes)


def char_class(ch: str) -> CharClass | None:
    """The class a character counts towards; ``None`` for letters without case (CJK, ...)."""
    if ch.islower():
        return "lower"
    if ch.isupper():
        return "upper"
    if "0" <= ch <= "9":
        return "digit"
    if ch.isalpha() or ch.isdigit():
        return None
    return "symbol"


def check_password(password: str, *, account_name: str | None = None) -> PasswordCheck:
    """Measure ``password`` against the ds API (1-128) and console (8-128, 3 of 4 classes) rules.

    With ``account_name``, also flag a password containing the account name (Windows' complexity
    rule, applied when the name has 3 or more characters).
    """
    length = len(password)
    classes = frozenset(c for c in (char_class(ch) for ch in password) if c is not None)
    problems: list[str] = []
    if length < PASSWORD_MIN_CONSOLE:
        problems.append(
            f"The password has {length} characters; the console asks for at least {PASSWORD_MIN_CONSOLE}."
        )
    if length > PASSWORD_MAX:
        problems.append(f"The password has {length} characters; AD Connector accepts at most {PASSWORD_MAX}.")
    if len(classes) < 3:
        missing = ", ".join(c for c in CHAR_CLASSES if c not in classes)
        problems.append(
            f"The password uses {len(classes)} of the 4 character classes; the console asks for 3 "
            f"(missing: {missing})."
        )
    if account_name and len(account_name) >= 3 and account_name.casefold() in password.casefold():
        problems.append("The password contains the account name, which Windows' complexity rule forbids.")
    api_ok = PASSWORD_MIN_API <= length <= PASSWORD_MAX
    return PasswordCheck(
        length=length,
        classes=classes,
        api_ok=api_ok,
        console_ok=not problems,
        problems=tuple(problems),
    )


#: Symbols the generator uses. Left out, with the reason:
#: ``"`` ``'`` `` ` `` ``\`` ``$`` ``!`` ``&`` ``|`` ``;`` ``<`` ``>`` ``(`` ``)`` ``{`` ``}`` ``[`` ``]``
#: ``*`` ``?`` ``~`` ``#`` ``^`` ``%`` and space break or change meaning in POSIX shells, PowerShell
#: or cmd.exe (quoting, expansion, globbing, comments, escapes); ``,`` ``"`` and a leading ``= + - @``
#: break CSV files or start spreadsheet formulas (the generator always starts with a letter).
PASSWORD_SYMBOLS = "-_.:+@/"
PASSWORD_DEFAULT_LENGTH = 24


def generate_password(length: int = PASSWORD_DEFAULT_LENGTH) -> str:
    """A random password (``secrets``) with all 4 classes, safe to paste into a shell or a CSV.

    It starts with a letter and holds at least one lower-case letter, upper-case letter, digit
    and symbol from :data:`PASSWORD_SYMBOLS`, so it passes the console's 3-of-4 rule.
    """
    if not PASSWORD_MIN_CONSOLE <= length <= PASSWORD_MAX:
        raise InputError(
            f"A generated password must be {PASSWORD_MIN_CONSOLE}-{PASSWORD_MAX} characters long, not {length}"
        )
    pools = (string.ascii_lowercase, string.ascii_uppercase, string.digits, PASSWORD_SYMBOLS)
    alphabet = "".join(pools)
    rest = [secrets.choice(p) for p in pools] + [secrets.choice(alphabet) for _ in range(length - 5)]
    secrets.SystemRandom().shuffle(rest)
    return secrets.choice(string.ascii_letters) + "".join(rest)


def casefolded(values: Iterable[Any]) -> frozenset[str]:
    """The values as casefolded strings: AD compares names and DNs without case."""
    return frozenset(str(v).casefold() for v in values)
