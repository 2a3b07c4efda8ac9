"""PCoIP session settings for WorkSpaces: from a parsed ``pcoip.adm`` and a request to Registry.pol entries.

This module owns two pure mappings. :func:`policy_entries` turns what an administrator asks for
(clipboard direction, remote printing, session resume timeout, overridable or enforced) into the
REG_DWORD entries the Group Policy editor would write when it enables the matching policies of the
customer's ``pcoip.adm``; every value is checked against that template's items and ranges rather
than against numbers guessed here. :func:`describe` reads entries back as a person would in the
editor, for ``gpo show``.

ADM semantics followed (Windows Server 2003 "Administrative Template File Format"): enabling a
policy writes its ``VALUEON`` (NUMERIC 1 by default) when it has a ``VALUENAME``, its
``ACTIONLISTON``, and one value per part: a DROPDOWNLIST item's ``VALUE`` and ``ACTIONLIST``, a
NUMERIC part's number (REG_DWORD, or REG_SZ with ``TXTCONVERT``), a CHECKBOX's ``VALUEON`` or
``VALUEOFF``, an EDITTEXT's string. TEXT parts write nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from adprep.errors import InputError, WireFormatError
from adprep.gpo.adm import AdmAction, AdmData, AdmPart, AdmPolicy, AdmTemplate, PartKind, PolicyClass
from adprep.gpo.registry_pol import DELETE_PREFIX, PolEntry

# REQUIREMENTS §5 / WorkSpaces Administration Guide, "Using Group Policy": machine keys.
KEY_DEFAULTS = r"Software\Policies\Teradici\PCoIP\pcoip_admin_defaults"
"""Overridable Administration Defaults: the user's own PCoIP settings may override these."""
KEY_ENFORCED = r"Software\Policies\Teradici\PCoIP\pcoip_admin"
"""Not Overridable Administration Defaults: enforced."""

CLIPBOARD_VALUE = "pcoip.server_clipboard_state"
PRINTING_VALUE = "pcoip.remote_printing_enabled"
RECONNECT_POLICY = "Configure Session Automatic Reconnection Policy"
"""Found by title: its value names differ between agent versions; the seed names only the title."""


class Clipboard(StrEnum):
    """Clipboard redirection direction, as the CLI spells it."""

    DISABLED = "disabled"
    BOTH = "both"
    CLIENT_TO_WORKSPACE = "client-to-workspace"
    WORKSPACE_TO_CLIENT = "workspace-to-client"

    @property
    def number(self) -> int:
        """``pcoip.server_clipboard_state``: 0 disabled, 1 both, 2 client→agent, 3 agent→client."""
        return _CLIPBOARD_NUMBERS[self]


_CLIPBOARD_NUMBERS = {
    Clipboard.DISABLED: 0,
    Clipboard.BOTH: 1,
    Clipboard.CLIENT_TO_WORKSPACE: 2,
    Clipboard.WORKSPACE_TO_CLIENT: 3,
}


@dataclass(frozen=True)
class PcoipRequest:
    """The PCoIP settings to write; None leaves a setting out of the GPO."""

    clipboard: Clipboard | None = None
    remote_printing: int | str | None = None
    """An item of the template's remote printing list: its VALUE number or its NAME (any case)."""
    reconnect_timeout_minutes: int | None = None
    enforce: bool = False
    """Write under ``pcoip_admin`` (enforced) instead of ``pcoip_admin_defaults`` (overridable)."""

    @property
    def keyname(self) -> str:
        return KEY_ENFORCED if self.enforce else KEY_DEFAULTS


# -- ADM policy -> entries --------------------------------------------------------------------


def _entry(keyname: str, valuename: str, data: AdmData, *, expand: bool = False) -> PolEntry:
    if data is None:
        return PolEntry.delete(keyname, valuename)
    if isinstance(data, int):
        return PolEntry.dword(keyname, valuename, data)
    return PolEntry.sz(keyname, valuename, data, expand=expand)


def _actions(actions: Iterable[AdmAction], keyname: str) -> list[PolEntry]:
    return [_entry(a.keyname or keyname, a.valuename, a.value) for a in actions]


def _where(policy: AdmPolicy, source: str) -> str:
    return f"'{policy.name}' ({policy.category_path[-1]}) in {source}"


def _part_entries(
    policy: AdmPolicy, part: AdmPart, choice: int | str | bool | None, source: str
) -> list[PolEntry]:
    assert part.valuename is not None  # the parser requires one for every kind handled here
    where = f"'{part.name}' of {_where(policy, source)}"
    if part.kind is PartKind.CHECKBOX:
        checked = bool(part.default) if choice is None else bool(choice)
        return [_entry(part.keyname, part.valuename, part.value_on if checked else part.value_off)]
    if choice is None:
        choice = part.default
        if choice is None:
            raise InputError(f"The setting {where} needs a value and the template gives no default.")
    if part.kind is PartKind.NUMERIC:
        if isinstance(choice, bool) or not isinstance(choice, int):
            raise InputError(f"The setting {where} takes a whole number, not {choice!r}.")
        low = 0 if part.minimum is None else part.minimum
        high = 9999 if part.maximum is None else part.maximum
        if not low <= choice <= high:
            raise InputError(f"The setting {where} accepts {low} to {high}, not {choice}.")
        return [_entry(part.keyname, part.valuename, str(choice) if part.txtconvert else choice)]
    if part.kind is PartKind.DROPDOWNLIST:
        for item in part.items:
            matches_name = isinstance(choice, str) and item.name.casefold() == choice.casefold()
            if matches_name or (not isinstance(choice, bool) and item.value == choice):
                return [
                    _entry(part.keyname, part.valuename, item.value),
                    *_actions(item.actions, part.keyname),
                ]
        offered = ", ".join(f"{item.value} ({item.name})" for item in part.items)
        raise InputError(f"The setting {where} offers {offered}; {choice!r} is not one of them.")
    if part.kind in (PartKind.EDITTEXT, PartKind.COMBOBOX):
        return [_entry(part.keyname, part.valuename, str(choice), expand=part.expandable)]
    raise InputError(f"adprep cannot set {part.kind.value} parts such as {where}.")


def enable_policy(
    policy: AdmPolicy, choices: Mapping[str, int | str | bool] | None = None, *, source: str = "the template"
) -> tuple[PolEntry, ...]:
    """The entries the Group Policy editor writes when ``policy`` is enabled.

    ``choices`` maps a part's VALUENAME (any case) to its value: a number for NUMERIC, an item
    VALUE or NAME for DROPDOWNLIST, a bool for CHECKBOX, a string for EDITTEXT. Parts left out
    take the template's default; a required part without one raises :class:`InputError`.
    """
    if policy.class_ is not PolicyClass.MACHINE:
        raise InputError(
            f"The policy {_where(policy, source)} is a user policy; adprep writes machine policies."
        )
    wanted = {name.casefold(): value for name, value in (choices or {}).items()}
    known = {part.valuename.casefold() for part in policy.parts if part.valuename is not None}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise InputError(f"The policy {_where(policy, source)} has no part writing {', '.join(unknown)}.")
    entries: list[PolEntry] = []
    if policy.valuename is not None:
        entries.append(_entry(policy.keyname, policy.valuename, policy.value_on))
    entries.extend(_actions(policy.actions_on, policy.keyname))
    for part in policy.parts:
        if part.kind is PartKind.TEXT or part.valuename is None:
            continue
        entries.extend(_part_entries(policy, part, wanted.get(part.valuename.casefold()), source))
    return tuple(entries)


# -- the PCoIP request ------------------------------------------------------------------------


def _policy_writing(template: AdmTemplate, keyname: str, valuename: str, what: str) -> AdmPolicy:
    found = template.writing(keyname, valuename)
    if found is None:
        raise InputError(
            f"{template.source} has no {what} policy writing {valuename} under {keyname}; "
            "use the pcoip.adm copied from a WorkSpace."
        )
    return found[0]


def policy_entries(template: AdmTemplate, request: PcoipRequest) -> tuple[PolEntry, ...]:
    """The Registry.pol entries for ``request``, checked against ``template`` (the customer's pcoip.adm)."""
    key, source = request.keyname, template.source
    entries: list[PolEntry] = []
    if request.clipboard is not None:
        policy = _policy_writing(template, key, CLIPBOARD_VALUE, "clipboard redirection")
        entries.extend(enable_policy(policy, {CLIPBOARD_VALUE: request.clipboard.number}, source=source))
    if request.remote_printing is not None:
        policy = _policy_writing(template, key, PRINTING_VALUE, "remote printing")
        entries.extend(enable_policy(policy, {PRINTING_VALUE: request.remote_printing}, source=source))
    if request.reconnect_timeout_minutes is not None:
        reconnect = template.find(RECONNECT_POLICY, keyname=key)
        if reconnect is None:
            raise InputError(
                f"{source} has no '{RECONNECT_POLICY}' policy under {key}; use the pcoip.adm copied from a WorkSpace."
            )
        # Enabling reconnection means every checkbox of the policy on and its one NUMERIC part set.
        choices: dict[str, int | str | bool] = {}
        timeouts: list[str] = []
        for part in reconnect.parts:
            if part.valuename is not None and part.kind is PartKind.CHECKBOX:
                choices[part.valuename] = True
            elif part.valuename is not None and part.kind is PartKind.NUMERIC:
                timeouts.append(part.valuename)
        if len(timeouts) != 1:
            raise InputError(
                f"The policy {_where(reconnect, source)} does not have exactly one timeout (NUMERIC) part."
            )
        choices[timeouts[0]] = request.reconnect_timeout_minutes
        entries.extend(enable_policy(reconnect, choices, source=source))
    return tuple(entries)


# -- entries -> what a person reads -----------------------------------------------------------


def _same(data: AdmData, decoded: object) -> bool:
    if isinstance(data, int):
        return decoded == data
    return isinstance(data, str) and isinstance(decoded, str) and data == decoded


def _read_part(part: AdmPart, decoded: object) -> str:
    if part.kind is PartKind.DROPDOWNLIST:
        for item in part.items:
            if _same(item.value, decoded):
                return f"{item.name} ({decoded})"
        return f"{decoded} (not one of the template's choices)"
    if part.kind is PartKind.CHECKBOX:
        if _same(part.value_on, decoded):
            return "on"
        if _same(part.value_off, decoded):
            return "off"
        return str(decoded)
    if part.kind is PartKind.NUMERIC and isinstance(decoded, int):
        low, high = part.minimum, part.maximum
        if low is not None and high is not None and not low <= decoded <= high:
            return f"{decoded} (outside the template's {low} to {high})"
    return str(decoded)


def _read_raw(entry: PolEntry) -> str:
    try:
        decoded = entry.decoded
    except WireFormatError:
        return f"unreadable {entry.type.name} data ({len(entry.data)} bytes)"
    if isinstance(decoded, bytes):
        return decoded.hex(" ") if decoded else "(empty)"
    if isinstance(decoded, tuple):
        return "; ".join(decoded)
    return str(decoded)


def describe(entries: Iterable[PolEntry], template: AdmTemplate) -> list[tuple[str, str]]:
    """``(policy title, value as a person reads it)`` for each policy the entries set, in file order.

    A title is the policy name with its category, e.g. ``Configure clipboard redirection
    (Overridable Administration Defaults)``. Entries no template policy writes are listed by
    ``key\\value`` with their raw value, so nothing in the file goes unseen.
    """
    rows: dict[object, tuple[str, list[tuple[str | None, str]]]] = {}
    for entry in entries:
        value_name = entry.value
        deleted = value_name.casefold().startswith(DELETE_PREFIX)
        if deleted:
            value_name = value_name[len(DELETE_PREFIX) :]
        found = template.writing(entry.key, value_name)
        if found is None:
            rows[(entry.key.casefold(), entry.value.casefold())] = (
                f"{entry.key}\\{entry.value}",
                [(None, _read_raw(entry))],
            )
            continue
        policy, part = found
        title = f"{policy.name} ({policy.category_path[-1]})" if policy.category_path else policy.name
        _, readings = rows.setdefault(id(policy), (title, []))
        if deleted:
            reading = "deleted"
        elif part is None:
            decoded = _decoded_or_none(entry)
            reading = (
                "Enabled"
                if _same(policy.value_on, decoded)
                else "Disabled"
                if _same(policy.value_off, decoded)
                else _read_raw(entry)
            )
        else:
            decoded = _decoded_or_none(entry)
            reading = _read_raw(entry) if decoded is None else _read_part(part, decoded)
        readings.append((part.name if part is not None else None, reading))
    result: list[tuple[str, str]] = []
    for title, readings in rows.values():
        if len(readings) == 1:
            result.append((title, readings[0][1]))
        else:
            result.append((title, "; ".join(f"{name}: {text}" if name else text for name, text in readings)))
    return result


def _decoded_or_none(entry: PolEntry) -> object:
    try:
        return entry.decoded
    except WireFormatError:
        return None
