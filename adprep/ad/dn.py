"""Distinguished names and search filter values: escaping, parsing, comparing (RFC 4514, RFC 4515).

This module owns the string side of LDAP names. It never talks to a directory, so "equal" here means
what Active Directory means by equal for the attribute types adprep handles (``CN``, ``OU``, ``DC``):
case-insensitive on both the type and the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from adprep.errors import InputError

#: The ``ou`` attribute's rangeUpper in the AD schema (MS-ADA3: Organizational-Unit-Name).
OU_NAME_MAX = 64

# RFC 4514 2.4: characters that must be escaped anywhere in a value. "=" is not required by the RFC
# but is allowed as an escaped "special", and Microsoft's DN rules list it, so it is escaped too.
_ALWAYS_ESCAPED = frozenset(',+"\\<>;=')
# RFC 4514 3: a backslash may be followed by one of these ("special" / SPACE / SHARP / EQUALS).
_ESCAPABLE = frozenset(' "#+,;<=>\\')
_HEX = frozenset("0123456789abcdefABCDEF")
# RFC 4512 1.4: descr (keystring) or numericoid.
_ATTR_TYPE = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)\Z")


@dataclass(frozen=True)
class Rdn:
    """One relative distinguished name: one or more ``type=value`` pairs joined by ``+``.

    Values are held unescaped; ``str()`` renders them escaped.
    """

    avas: tuple[tuple[str, str], ...]

    @property
    def attr(self) -> str:
        """The type of the first (usually only) pair, as written."""
        return self.avas[0][0]

    @property
    def value(self) -> str:
        """The unescaped value of the first (usually only) pair."""
        return self.avas[0][1]

    def __str__(self) -> str:
        return "+".join(f"{t}={escape_rdn_value(v)}" for t, v in self.avas)

    def key(self) -> tuple[tuple[str, str], ...]:
        """A comparison key: types and values casefolded, pairs sorted (``+`` is unordered)."""
        return tuple(sorted((t.casefold(), v.casefold()) for t, v in self.avas))


def escape_rdn_value(value: str) -> str:
    """Escape an attribute value for use in a DN string (RFC 4514 2.4).

    ``, + " \\ < > ; =`` get a backslash; a leading ``#`` or space and a trailing space get a
    backslash; NUL, CR and LF become ``\\00``, ``\\0d``, ``\\0a`` (hex pairs are always valid and
    keep control characters out of logs).
    """
    out: list[str] = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch in _ALWAYS_ESCAPED:
            out.append("\\" + ch)
        elif ch in "\x00\r\n":
            out.append(f"\\{ord(ch):02x}")
        elif (i == 0 and ch in "# ") or (i == last and ch == " "):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def rdn(attr: str, value: str) -> str:
    """``rdn("OU", "Sales, EMEA")`` -> ``OU=Sales\\, EMEA``. Empty values are refused (AD refuses them)."""
    if not _ATTR_TYPE.match(attr):
        raise InputError(f"{attr!r} is not an LDAP attribute type", hint="Use a name such as OU, CN or DC.")
    if value == "":
        raise InputError(f"An {attr} name cannot be empty", hint="Give a name with at least one character.")
    return f"{attr}={escape_rdn_value(value)}"


def _bad_dn(dn: str, why: str) -> InputError:
    return InputError(
        f"{dn!r} is not a valid distinguished name: {why}",
        hint='Write it like OU=Users,DC=corp,DC=example,DC=com; escape , + " \\ < > ; = with a backslash.',
    )


def _parse_value(dn: str, i: int) -> tuple[str, int]:
    """Read one attribute value from ``dn[i:]``; return (unescaped value, index of the stop char)."""
    n = len(dn)
    while i < n and dn[i] == " ":  # leniency: "OU=a, DC=b" (RFC 4514 3 lets decoders accept spaces)
        i += 1
    if i < n and dn[i] == "#":
        raise _bad_dn(dn, "BER-encoded (#hex) values are not supported")
    buf = bytearray()
    keep = 0  # length of buf up to the last byte that is not an unescaped space
    while i < n:
        ch = dn[i]
        if ch in ",+":
            break
        if ch == "\\":
            if i + 2 < n and dn[i + 1] in _HEX and dn[i + 2] in _HEX:
                buf.append(int(dn[i + 1 : i + 3], 16))
                i += 3
            elif i + 1 < n and dn[i + 1] in _ESCAPABLE:
                buf.extend(dn[i + 1].encode())
                i += 2
            else:
                raise _bad_dn(dn, f"a backslash at position {i} escapes nothing valid")
            keep = len(buf)
            continue
        if ch in '";<>':
            raise _bad_dn(dn, f"the character {ch!r} must be escaped")
        buf.extend(ch.encode())
        if ch != " ":
            keep = len(buf)
        i += 1
    try:
        return bytes(buf[:keep]).decode("utf-8"), i
    except UnicodeDecodeError:
        raise _bad_dn(dn, "its hex escapes are not UTF-8") from None


def parse_dn(dn: str) -> tuple[Rdn, ...]:
    """Split a DN into RDNs, most specific first, with values unescaped (RFC 4514 3).

    ``""`` (the root DSE) gives ``()``. Raises :class:`InputError` for malformed input.
    """
    if dn.strip() == "":
        return ()
    rdns: list[Rdn] = []
    avas: list[tuple[str, str]] = []
    i, n = 0, len(dn)
    while True:
        eq = dn.find("=", i)
        if eq < 0:
            raise _bad_dn(dn, f"{dn[i:].strip()!r} has no '='")
        attr = dn[i:eq].strip()
        if not _ATTR_TYPE.match(attr):
            raise _bad_dn(dn, f"{attr!r} is not an attribute type")
        value, i = _parse_value(dn, eq + 1)
        avas.append((attr, value))
        if i >= n:
            rdns.append(Rdn(tuple(avas)))
            return tuple(rdns)
        if dn[i] == ",":
            rdns.append(Rdn(tuple(avas)))
            avas = []
        i += 1
        if i >= n:
            raise _bad_dn(dn, "it ends with a separator")


#: Another name for :func:`parse_dn`.
split = parse_dn


def render_dn(rdns: Iterable[Rdn]) -> str:
    """RDNs back to a DN string, values escaped (the inverse of :func:`parse_dn`)."""
    return ",".join(str(r) for r in rdns)


def dn_equal(a: str, b: str) -> bool:
    """Whether two DNs name the same entry, as AD compares them (case-insensitive, escapes resolved)."""
    ra, rb = parse_dn(a), parse_dn(b)
    return len(ra) == len(rb) and all(x.key() == y.key() for x, y in zip(ra, rb, strict=True))


def parent(dn: str) -> str:
    """The DN one level up: ``parent("OU=a,DC=x,DC=y") == "DC=x,DC=y"``. The parent of a
    one-RDN DN is ``""``; the root DSE has no parent (:class:`InputError`)."""
    rdns = parse_dn(dn)
    if not rdns:
        raise InputError("The root DSE (an empty DN) has no parent")
    return render_dn(rdns[1:])


def is_descendant(dn: str, ancestor: str) -> bool:
    """Whether ``dn`` is ``ancestor`` or below it."""
    rd, ra = parse_dn(dn), parse_dn(ancestor)
    if len(ra) > len(rd):
        return False
    tail = rd[len(rd) - len(ra) :]
    return all(x.key() == y.key() for x, y in zip(tail, ra, strict=True))


def ou_path_to_dn(path: str, base_dn: str) -> str:
    """``ou_path_to_dn("WorkSpaces/Users", "DC=corp,DC=com")`` -> ``OU=Users,OU=WorkSpaces,DC=corp,DC=com``.

    The path is written top-down, as in Active Directory Users and Computers; ``/`` separates levels,
    so an OU whose name contains ``/`` cannot be named this way (give a DN instead). Each component
    is stripped of surrounding spaces and escaped; an empty component is an :class:`InputError`.
    """
    if not parse_dn(base_dn):
        raise InputError(
            "The base DN is empty", hint="Give the domain's DN, such as DC=corp,DC=example,DC=com."
        )
    parts = [p.strip() for p in path.split("/")]
    if not path.strip() or any(p == "" for p in parts):
        raise InputError(
            f"The OU path {path!r} has an empty component",
            hint="Write OU names from the top down, separated by single slashes, such as WorkSpaces/Users.",
        )
    for p in parts:
        if len(p) > OU_NAME_MAX:
            raise InputError(
                f"The OU name {p!r} is longer than {OU_NAME_MAX} characters",
                hint=f"Active Directory limits an OU name to {OU_NAME_MAX} characters.",
            )
    rdns = [rdn("OU", p) for p in reversed(parts)]
    return ",".join([*rdns, base_dn])


# RFC 4515 3: in an assertion value, * ( ) \ and NUL are written as \2a \28 \29 \5c \00.
_FILTER_ESCAPES = {"\\": "\\5c", "*": "\\2a", "(": "\\28", ")": "\\29", "\x00": "\\00"}


def escape_filter_value(value: str) -> str:
    """Escape a string for use as an assertion value in a search filter (RFC 4515 3).

    Produces exactly what ldap3's ``escape_filter_chars`` produces for a ``str``: the five
    characters above are hex-escaped and everything else, including non-ASCII, is left for the
    transport to encode as UTF-8 (RFC 4515 allows either). It is written here rather than
    imported because ldap3's version reads ldap3's global configuration (``DEFAULT_ENCODING``) and
    falls back to a different bytes-escaping path on errors; this one is a pure function of ``str``.
    A test checks the two agree.
    """
    return "".join(_FILTER_ESCAPES.get(ch, ch) for ch in value)
