"""PCoIP session settings for WorkSpaces: from a parsed ``pcoip.adm`` and a request to Registry.pol entries.

This module owns two pure mappings. :func:`policy_entries` turns what an administrator asks for
(clipboard direction, remote printing, session resume timeout, overridable or enforced, and any
other policy of the template by its title: :class:`PolicyChoice`) into the entries the Group Policy
editor would write when it enables (or disables) the matching policies of the customer's
``pcoip.adm``; every value is checked against that template's parts, items and ranges rather than
against numbers guessed here. :func:`describe` reads entries back as a person would in the editor,
for ``gpo show``.

ADM semantics followed (Windows Server 2003 "Administrative Template File Format"): enabling a
policy writes its ``VALUEON`` (NUMERIC 1 by default) when it has a ``VALUENAME``, its
``ACTIONLISTON``, and one value per part: a DROPDOWNLIST item's ``VALUE`` and ``ACTIONLIST``, a
NUMERIC part's number (REG_DWORD, or REG_SZ with ``TXTCONVERT``), a CHECKBOX's ``VALUEON`` or
``VALUEOFF``, an EDITTEXT's string. TEXT parts write nothing. Disabling a policy writes its
``VALUEOFF`` (or deletes its value when it has none), its ``ACTIONLISTOFF``, and deletes every part's
value (``**del.``; ``**delvals.`` for a LISTBOX's key).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from adprep.errors import InputError, WireFormatError
from adprep.gpo.adm import AdmAction, AdmData, AdmPart, AdmPolicy, AdmTemplate, PartKind, PolicyClass
from adprep.gpo.registry_pol import DELETE_PREFIX, PolEntry

# Amazon WorkSpaces Administration Guide (2016), "Using Group Policy to Manage WorkSpaces and Users": machine keys.
KEY_DEFAULTS = r"Software\Policies\Teradici\PCoIP\pcoip_admin_defaults"
"""Overridable Administration Defaults: the user's own PCoIP settings may override these."""
KEY_ENFORCED = r"Software\Policies\Teradici\PCoIP\pcoip_admin"
"""Not Overridable Administration Defaults: enforced."""

CLIPBOARD_VALUE = "pcoip.server_clipboard_state"
PRINTING_VALUE = "pcoip.remote_printing_enabled"
RECONNECT_POLICY = "Configure Session Automatic Reconnection Policy"
"""Found by title: its value names differ between agent versions; the WorkSpaces guide names only the title."""


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
    policies: tuple[PolicyChoice, ...] = ()
    """Any other policies of the template, by title (``--policy``)."""
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
        text = str(choice)
        if part.required and not text:
            raise InputError(f"The setting {where} needs a value; it cannot be empty.")
        if part.maxlen is not None and len(text) > part.maxlen:
            raise InputError(f"The setting {where} takes at most {part.maxlen} characters, not {len(text)}.")
        return [_entry(part.keyname, part.valuename, text, expand=part.expandable)]
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


def disable_policy(policy: AdmPolicy, *, source: str = "the template") -> tuple[PolEntry, ...]:
    """The entries the Group Policy editor writes when ``policy`` is disabled (see the module docstring)."""
    if policy.class_ is not PolicyClass.MACHINE:
        raise InputError(
            f"The policy {_where(policy, source)} is a user policy; adprep writes machine policies."
        )
    entries: list[PolEntry] = []
    if policy.valuename is not None:
        entries.append(_entry(policy.keyname, policy.valuename, policy.value_off))
    entries.extend(_actions(policy.actions_off, policy.keyname))
    for part in policy.parts:
        if part.kind is PartKind.LISTBOX:
            entries.append(PolEntry.delete_values(part.keyname))
        elif part.kind is not PartKind.TEXT and part.valuename is not None:
            entries.append(PolEntry.delete(part.keyname, part.valuename))
    return tuple(entries)


# -- any policy, by its title -----------------------------------------------------------------

ENABLED = "enabled"
DISABLED = "disabled"
PART_SEPARATOR = " > "
"""Between a policy's title and one of its parts' names: ``--policy "TITLE > PART=VALUE"``."""


@dataclass(frozen=True)
class PolicyChoice:
    """One ``--policy``: ``TITLE=VALUE`` or ``TITLE > PART=VALUE``, as given on the command line.

    VALUE is ``enabled`` or ``disabled`` (the policy's state; parts take the template's defaults), or
    the value of the policy's one part, or (with ``> PART``) of that part: a number for NUMERIC, an
    item's name or VALUE for DROPDOWNLIST, on/off for CHECKBOX, text for EDITTEXT. Setting a part
    enables the policy.
    """

    title: str
    part: str | None
    value: str


def parse_policy_choice(text: str) -> PolicyChoice:
    """Read one ``--policy`` value; malformed text is an :class:`InputError`."""
    name, sep, value = text.partition("=")
    title, _, part = name.partition(PART_SEPARATOR.strip())
    if not sep or not title.strip() or (PART_SEPARATOR.strip() in name and not part.strip()):
        raise InputError(
            f"--policy {text!r} is not TITLE=VALUE or TITLE > PART=VALUE",
            hint='Give a policy title as the Group Policy editor shows it, e.g. --policy "Configure remote '
            'printing=Basic printing only".',
        )
    return PolicyChoice(title.strip(), part.strip() or None, value.strip())


def _resolve_policy(template: AdmTemplate, title: str, keyname: str) -> AdmPolicy:
    """The policy titled ``title``; among several, the one under ``keyname`` (--enforce picks it)."""
    found = [p for p in template.policies if p.name.casefold() == title.casefold()]
    source = template.source
    if not found:
        close = difflib.get_close_matches(title, sorted({p.name for p in template.policies}), n=1)
        raise InputError(
            f"{source} has no policy titled {title!r}",
            hint=f"Did you mean {close[0]!r}?"
            if close
            else "Use a title as the Group Policy editor shows it.",
        )
    if len(found) > 1:
        narrowed = [p for p in found if p.keyname.casefold() == keyname.casefold()]
        if len(narrowed) == 1:
            return narrowed[0]
        places = "; ".join(" > ".join(p.category_path) for p in found)
        raise InputError(f"{source} has several policies titled {title!r} ({places})",
                         hint="adprep cannot tell them apart; set this one in the Group Policy editor.")  # fmt: skip
    policy = found[0]
    pcoip_keys = {KEY_DEFAULTS.casefold(), KEY_ENFORCED.casefold()}
    if policy.keyname.casefold() in pcoip_keys and policy.keyname.casefold() != keyname.casefold():
        enforced = policy.keyname.casefold() == KEY_ENFORCED.casefold()
        raise InputError(
            f"The policy {_where(policy, source)} is only in {policy.category_path[-1]} ({policy.keyname})",
            hint="Add --enforce to set it." if enforced else "Drop --enforce to set it.",
        )
    return policy


def _settable(policy: AdmPolicy) -> list[AdmPart]:
    return [p for p in policy.parts if p.kind is not PartKind.TEXT and p.valuename is not None]


def _part_for(policy: AdmPolicy, choice: PolicyChoice, source: str) -> AdmPart:
    parts = _settable(policy)
    names = ", ".join(repr(p.name) for p in parts)
    if choice.part is not None:
        wanted = choice.part.casefold()
        for part in parts:
            if part.name.casefold() == wanted or (part.valuename or "").casefold() == wanted:
                return part
        raise InputError(
            f"The policy {_where(policy, source)} has no part {choice.part!r}",
            hint=f"Its parts are {names}." if parts else "It has no parts: give enabled or disabled.",
        )
    if len(parts) == 1:
        return parts[0]
    if not parts:
        raise InputError(
            f"The policy {_where(policy, source)} has no value to set, only a state",
            hint=f'Give --policy "{choice.title}=enabled" or "{choice.title}=disabled".',
        )
    raise InputError(
        f"The policy {_where(policy, source)} has several parts ({names})",
        hint=f'Give each as --policy "{choice.title}{PART_SEPARATOR}PART=VALUE".',
    )


_ON = {"on", "true", "yes", "1", "checked", "enabled"}
_OFF = {"off", "false", "no", "0", "unchecked", "disabled"}


def _typed(policy: AdmPolicy, part: AdmPart, text: str, source: str) -> int | str | bool:
    """The command line's text as the value :func:`enable_policy` checks against the part."""
    where = f"'{part.name}' of {_where(policy, source)}"
    if part.kind is PartKind.NUMERIC:
        try:
            return int(text)
        except ValueError:
            raise InputError(f"The setting {where} takes a whole number, not {text!r}.") from None
    if part.kind is PartKind.CHECKBOX:
        if text.casefold() in _ON:
            return True
        if text.casefold() in _OFF:
            return False
        raise InputError(f"The setting {where} is a checkbox: give on or off, not {text!r}.")
    if part.kind is PartKind.DROPDOWNLIST:
        if any(item.name.casefold() == text.casefold() for item in part.items):
            return text
        try:
            number = int(text)
        except ValueError:
            return text
        return number if any(item.value == number for item in part.items) else text
    if part.kind in (PartKind.EDITTEXT, PartKind.COMBOBOX):
        return text
    raise InputError(f"adprep cannot set {part.kind.value} parts such as {where}.")


def policy_choice_entries(
    template: AdmTemplate, choices: Sequence[PolicyChoice], *, keyname: str = KEY_DEFAULTS
) -> tuple[PolEntry, ...]:
    """The entries for ``--policy`` choices, policy by policy in the order first named.

    Choices naming the same policy combine (its parts); ``keyname`` picks between policies of the
    same title in several categories (the overridable and enforced PCoIP defaults).
    """
    source = template.source
    groups: dict[int, tuple[AdmPolicy, list[PolicyChoice]]] = {}
    for choice in choices:
        policy = _resolve_policy(template, choice.title, keyname)
        groups.setdefault(id(policy), (policy, []))[1].append(choice)
    entries: list[PolEntry] = []
    for policy, given in groups.values():
        states = [c for c in given if c.part is None and c.value.casefold() in (ENABLED, DISABLED)]
        if any(c.value.casefold() == DISABLED for c in states):
            if len(given) > 1:
                raise InputError(
                    f"The policy {_where(policy, source)} is both disabled and set; give one or the other."
                )
            entries.extend(disable_policy(policy, source=source))
            continue
        values: dict[str, int | str | bool] = {}
        for choice in given:
            if choice in states:
                continue
            part = _part_for(policy, choice, source)
            assert part.valuename is not None  # _settable parts have one
            value = _typed(policy, part, choice.value, source)
            previous = values.setdefault(part.valuename, value)
            if previous != value:
                raise InputError(f"The setting '{part.name}' of {_where(policy, source)} is given twice.")
        entries.extend(enable_policy(policy, values, source=source))
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
    entries.extend(policy_choice_entries(template, request.policies, keyname=key))
    return _without_conflicts(entries)


def _without_conflicts(entries: Iterable[PolEntry]) -> tuple[PolEntry, ...]:
    """``entries`` with exact repeats dropped; one value given two different ways is an :class:`InputError`."""
    kept: dict[tuple[str, str], PolEntry] = {}
    for entry in entries:
        slot = (entry.key.casefold(), entry.value.casefold())
        previous = kept.setdefault(slot, entry)
        if previous != entry:
            raise InputError(
                f"{entry.key}\\{entry.value} is set twice with different values",
                hint="Give each setting once (a shortcut option and --policy may name the same policy).",
            )
    return tuple(kept.values())


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
