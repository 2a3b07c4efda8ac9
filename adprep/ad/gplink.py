"""The ``gPLink`` attribute: which GPOs are linked to a domain, site or OU, and how.

Owns the string format (MS-GPOL 2.2.2): ``[LDAP://<GPO DN>;<options>]`` repeated, options 0 =
enabled, 1 = disabled, 2 = enforced, 3 = disabled and enforced. Order matters: the client processes
the links in the order they appear, so the LAST entry in the string is applied last and wins,
which GPMC shows as link order 1. GPMC and ``samba-tool gpo setlink`` link a new GPO with the
lowest precedence (the highest link order number), which in the string is the FIRST entry;
:func:`add_link` does the same by default. Entries it does not change are kept byte-for-byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adprep.ad.dn import dn_equal
from adprep.errors import InputError, WireFormatError

LINK_DISABLED = 0x1
LINK_ENFORCED = 0x2

_ENTRY = re.compile(r"\[LDAP://([^;\]]+);(\d+)\]", re.IGNORECASE)


@dataclass(frozen=True)
class GpLink:
    """One link: the GPO's DN and its options, with the text it was read from."""

    dn: str
    options: int
    raw: str

    @property
    def enabled(self) -> bool:
        return not self.options & LINK_DISABLED

    @property
    def enforced(self) -> bool:
        return bool(self.options & LINK_ENFORCED)


def parse_gplink(value: str | None) -> tuple[GpLink, ...]:
    """The links in string order (lowest precedence first). ``None``, ``""`` and ``" "`` (what is
    left after the last link is removed in some tools) give ``()``. Other text between entries is a
    :class:`WireFormatError`: adprep will not rewrite a value it cannot read whole."""
    if value is None:
        return ()
    links: list[GpLink] = []
    pos = 0
    for m in _ENTRY.finditer(value):
        if value[pos : m.start()].strip():
            raise WireFormatError(
                f"gPLink holds text that is not a link: {value[pos : m.start()]!r}", offset=pos
            )
        links.append(GpLink(m.group(1), int(m.group(2)), m.group(0)))
        pos = m.end()
    if value[pos:].strip():
        raise WireFormatError(f"gPLink holds text that is not a link: {value[pos:]!r}", offset=pos)
    return tuple(links)


def render_gplink(links: tuple[GpLink, ...] | list[GpLink]) -> str:
    """Links back to the attribute's string; ``""`` when there are none (delete the attribute then:
    LDAP does not allow an empty string value)."""
    return "".join(link.raw for link in links)


def make_link(gpo_dn: str, *, enforced: bool = False, enabled: bool = True) -> GpLink:
    """A new link entry for ``gpo_dn``."""
    if not gpo_dn or ";" in gpo_dn or "]" in gpo_dn:
        raise InputError(f"{gpo_dn!r} cannot be written into gPLink", hint="Give the GPO's DN.")
    options = (LINK_ENFORCED if enforced else 0) | (0 if enabled else LINK_DISABLED)
    return GpLink(gpo_dn, options, f"[LDAP://{gpo_dn};{options}]")


def find_link(value: str | None, gpo_dn: str) -> GpLink | None:
    """The link to ``gpo_dn`` (DNs compared as AD does, case-insensitively), if there is one."""
    for link in parse_gplink(value):
        if dn_equal(link.dn, gpo_dn):
            return link
    return None


def add_link(
    gplink: str | None, gpo_dn: str, enforced: bool = False, *, highest_precedence: bool = False
) -> str:
    """``gplink`` with a link to ``gpo_dn`` added, as GPMC adds one: lowest precedence (first in the
    string), unless ``highest_precedence`` (last in the string, link order 1).

    If ``gpo_dn`` is already linked, the value is returned unchanged, whatever its options: adprep
    does not re-enable or un-enforce a link an administrator changed (see :func:`find_link`).
    """
    links = list(parse_gplink(gplink))
    if any(dn_equal(link.dn, gpo_dn) for link in links):
        return render_gplink(links) if gplink is None else gplink
    new = make_link(gpo_dn, enforced=enforced)
    return render_gplink([*links, new] if highest_precedence else [new, *links])


def remove_link(gplink: str | None, gpo_dn: str) -> str:
    """``gplink`` without its link(s) to ``gpo_dn``; unchanged if there are none."""
    links = parse_gplink(gplink)
    kept = [link for link in links if not dn_equal(link.dn, gpo_dn)]
    if len(kept) == len(links):
        return gplink or ""
    return render_gplink(kept)
