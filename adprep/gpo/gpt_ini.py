"""GPT.INI, the version file at the root of a GPO's SYSVOL folder, and GPO version arithmetic.

This module owns the file's text layout (MS-GPOL 2.2.4: ``[General]`` with ``Version=``) and the
split of a GPO version number into its user and computer halves (MS-GPOL 2.2.4 / 3.2.5.1.4:
high 16 bits user, low 16 bits computer). The same number is stored in GPT.INI and in the
``versionNumber`` attribute of the groupPolicyContainer; keeping the two equal is the caller's job.

Wrap-around: each half is a 16-bit counter. A bump from 0xFFFF goes to 1, not 0, because clients
read a half equal to 0 as "this half of the GPO is empty" and would skip its settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from adprep.errors import InputError, WireFormatError

GENERAL = "General"
_HALF = 0xFFFF
_MAX = 0xFFFFFFFF


# -- version numbers --------------------------------------------------------------------------


def _unsigned(version: int) -> int:
    # versionNumber is an LDAP INTEGER (signed 32-bit): a user half >= 0x8000 reads negative.
    if not -(2**31) <= version <= _MAX:
        raise InputError(f"A GPO version must fit in 32 bits, not {version}.")
    return version & _MAX


def split_version(version: int) -> tuple[int, int]:
    """``(user, machine)``: the high and low 16 bits. Negative LDAP values are read as unsigned."""
    n = _unsigned(version)
    return n >> 16, n & _HALF


def join_version(user: int, machine: int) -> int:
    """The version number with the given user and machine halves."""
    for name, half in (("user", user), ("machine", machine)):
        if not 0 <= half <= _HALF:
            raise InputError(f"The {name} half of a GPO version must be between 0 and 65535, not {half}.")
    return user << 16 | machine


def _next(half: int) -> int:
    return 1 if half >= _HALF else half + 1  # see the module docstring: 0 means "empty"


def bump_machine(version: int) -> int:
    """The version with the machine (computer) half incremented, the user half kept."""
    user, machine = split_version(version)
    return join_version(user, _next(machine))


def bump_user(version: int) -> int:
    """The version with the user half incremented, the machine half kept."""
    user, machine = split_version(version)
    return join_version(_next(user), machine)


def ldap_version(version: int) -> int:
    """The version as the signed 32-bit integer the ``versionNumber`` attribute holds."""
    n = _unsigned(version)
    return n - 2**32 if n >= 2**31 else n


# -- the file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GptIni:
    """The settings of a GPT.INI file that adprep reads or writes; anything else is kept as read."""

    version: int = 0
    """``[General] Version=``, unsigned."""
    display_name: str | None = None
    """``[General] displayName=``, written by older editors; clients ignore it."""
    extra: tuple[tuple[str, str, str], ...] = ()
    """Other ``(section, key, value)`` lines, in file order, rendered after the known ones."""

    def with_version(self, version: int) -> GptIni:
        """This GPT.INI with ``Version`` set (as the unsigned 32-bit number it is stored as)."""
        return dataclasses.replace(self, version=_unsigned(version))


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")  # Windows writes GPT.INI in the ANSI code page


def parse_gpt_ini(data: bytes) -> GptIni:
    """Read GPT.INI. A missing ``Version`` reads as 0, as on Windows; a non-number is an error."""
    section: str | None = None
    version = 0
    display_name: str | None = None
    extra: list[tuple[str, str, str]] = []
    for number, raw in enumerate(_decode(data).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if not sep or section is None:
            raise WireFormatError(f"GPT.INI line {number}: expected [section] or key=value, found {line!r}")
        key, value = key.strip(), value.strip()
        if section.casefold() == GENERAL.casefold() and key.casefold() == "version":
            try:
                version = _unsigned(int(value))
            except (ValueError, InputError):
                raise WireFormatError(
                    f"GPT.INI line {number}: Version={value!r} is not a 32-bit number"
                ) from None
        elif section.casefold() == GENERAL.casefold() and key.casefold() == "displayname":
            display_name = value
        else:
            extra.append((section, key, value))
    return GptIni(version=version, display_name=display_name, extra=tuple(extra))


def render_gpt_ini(ini: GptIni) -> bytes:
    """GPT.INI bytes: CRLF lines, ``[General]`` first with ``Version`` then ``displayName``, UTF-8."""
    sections: dict[str, list[str]] = {GENERAL: [f"Version={_unsigned(ini.version)}"]}
    if ini.display_name is not None:
        sections[GENERAL].append(f"displayName={ini.display_name}")
    for section, key, value in ini.extra:
        name = GENERAL if section.casefold() == GENERAL.casefold() else section
        sections.setdefault(name, []).append(f"{key}={value}")
    lines: list[str] = []
    for name, body in sections.items():
        lines.append(f"[{name}]")
        lines.extend(body)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
