"""Classic ADM administrative templates (the pre-ADMX ``.adm`` format): read them into policies.

This module owns the ADM text format as the Windows Group Policy editor reads it ("Administrative
Template File Format", Windows Server 2003 Group Policy reference): ``CLASS``, nested ``CATEGORY``,
``POLICY``, ``PART`` with its kinds, ``KEYNAME``/``VALUENAME``, ``VALUEON``/``VALUEOFF``, item and
action lists, ``#if version`` blocks, ``;`` comments and the ``[strings]`` section that ``!!name``
refers to. It returns frozen dataclasses and knows nothing about PCoIP or Registry.pol; mapping a
policy to registry entries is :mod:`adprep.gpo.pcoip`'s job.

Malformed input raises :class:`AdmSyntaxError` with the line number, e.g.
``pcoip.adm line 42: expected END PART, found 'END POLICY'``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from adprep.errors import WireFormatError

#: The template-language version the editor reports to ``#if version`` (4: Windows XP / 2003 and
#: later editors). Blocks for a newer editor are skipped, as an editor of this version would.
EDITOR_VERSION = 4

#: What a registry value written by the template holds: ``NUMERIC n`` is an int (REG_DWORD), a
#: string is a str (REG_SZ), and ``DELETE`` is None (the value is deleted).
AdmData = int | str | None


class AdmSyntaxError(WireFormatError):
    """An ADM template does not follow the format; ``line`` is the 1-based line number."""

    def __init__(self, message: str, *, line: int, source: str = "template.adm") -> None:
        super().__init__(f"{source} line {line}: {message}")
        self.line = line
        self.source = source


class PolicyClass(StrEnum):
    """``CLASS MACHINE`` (HKLM, Computer Configuration) or ``CLASS USER`` (HKCU)."""

    MACHINE = "MACHINE"
    USER = "USER"


class PartKind(StrEnum):
    """The control a ``PART`` shows, which also decides the registry type it writes."""

    CHECKBOX = "CHECKBOX"
    COMBOBOX = "COMBOBOX"
    DROPDOWNLIST = "DROPDOWNLIST"
    EDITTEXT = "EDITTEXT"
    LISTBOX = "LISTBOX"
    NUMERIC = "NUMERIC"
    TEXT = "TEXT"


@dataclass(frozen=True)
class AdmAction:
    """One entry of an ``ACTIONLIST``: an extra value written along with a choice."""

    keyname: str
    valuename: str
    value: AdmData


@dataclass(frozen=True)
class AdmItem:
    """One ``NAME ... VALUE ...`` entry of a DROPDOWNLIST's ``ITEMLIST``."""

    name: str
    value: AdmData
    default: bool = False
    actions: tuple[AdmAction, ...] = ()


@dataclass(frozen=True)
class AdmPart:
    """One ``PART`` of a policy: a control with its own value."""

    name: str
    kind: PartKind
    keyname: str
    """The part's ``KEYNAME``, or else the policy's."""
    valuename: str | None
    items: tuple[AdmItem, ...] = ()
    """DROPDOWNLIST choices, in file order."""
    minimum: int | None = None
    """NUMERIC ``MIN`` (the format's default is 0)."""
    maximum: int | None = None
    """NUMERIC ``MAX`` (the format's default is 9999)."""
    default: int | str | None = None
    """NUMERIC/EDITTEXT ``DEFAULT``; DROPDOWNLIST: the DEFAULT item's value; CHECKBOX: 1 if DEFCHECKED."""
    spin: int | None = None
    required: bool = False
    value_on: AdmData = None
    """CHECKBOX: written when checked (NUMERIC 1 unless VALUEON says otherwise)."""
    value_off: AdmData = None
    """CHECKBOX: written when cleared (NUMERIC 0 unless VALUEOFF says otherwise)."""
    txtconvert: bool = False
    """NUMERIC: write REG_SZ instead of REG_DWORD."""
    expandable: bool = False
    """EDITTEXT/COMBOBOX: write REG_EXPAND_SZ."""
    maxlen: int | None = None
    """EDITTEXT/COMBOBOX ``MAXLEN``: the longest text the editor accepts."""
    line: int = 0


@dataclass(frozen=True)
class AdmPolicy:
    """One ``POLICY``: a setting an administrator enables, disables or leaves not configured."""

    name: str
    class_: PolicyClass
    category_path: tuple[str, ...]
    keyname: str
    """The policy's ``KEYNAME``, or else the nearest enclosing category's."""
    valuename: str | None
    parts: tuple[AdmPart, ...] = ()
    value_on: AdmData = None
    """Written when enabled, if ``valuename`` is set (NUMERIC 1 unless VALUEON says otherwise)."""
    value_off: AdmData = None
    """Written when disabled, if ``valuename`` is set (None: the value is deleted)."""
    explain: str | None = None
    supported: str | None = None
    actions_on: tuple[AdmAction, ...] = ()
    actions_off: tuple[AdmAction, ...] = ()
    line: int = 0

    def part(self, valuename: str) -> AdmPart | None:
        """The part writing ``valuename`` (case-insensitive)."""
        for part in self.parts:
            if part.valuename is not None and part.valuename.casefold() == valuename.casefold():
                return part
        return None


@dataclass(frozen=True)
class AdmTemplate:
    """A parsed ADM file: its policies in file order."""

    source: str
    policies: tuple[AdmPolicy, ...]

    def find(self, name: str, *, keyname: str | None = None) -> AdmPolicy | None:
        """The first policy titled ``name`` (case-insensitive), under ``keyname`` if given."""
        for policy in self.policies:
            if policy.name.casefold() == name.casefold() and (
                keyname is None or policy.keyname.casefold() == keyname.casefold()
            ):
                return policy
        return None

    def writing(self, keyname: str, valuename: str) -> tuple[AdmPolicy, AdmPart | None] | None:
        """The policy (and part, None for the policy's own VALUENAME) writing that registry value."""
        key, value = keyname.casefold(), valuename.casefold()
        for policy in self.policies:
            if (
                policy.valuename is not None
                and policy.keyname.casefold() == key
                and policy.valuename.casefold() == value
            ):
                return policy, None
            for part in policy.parts:
                if part.keyname.casefold() == key and (part.valuename or "").casefold() == value:
                    return policy, part
        return None


# -- text and tokens --------------------------------------------------------------------------


def decode_adm(data: bytes) -> str:
    """ADM text: UTF-16 with a BOM (what the editor writes), UTF-8, or the ANSI code page."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if len(data) >= 4 and data[1] == 0 and data[3] == 0:
        return data.decode("utf-16le")  # UTF-16LE without a BOM: ASCII text with NUL high bytes
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


@dataclass(frozen=True)
class _Token:
    text: str
    line: int
    literal: bool
    """From quotes or a ``!!`` reference: never a keyword."""

    def keyword(self) -> str | None:
        return None if self.literal else self.text.upper()


_STRING_LINE = re.compile(r"^\s*([^=\s]+)\s*=\s*(.*?)\s*$")
_COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_IF = re.compile(r"^#if\s+version\s*(<=|>=|==|!=|<|>)\s*(\d+)\s*$", re.IGNORECASE)


def _unescape(text: str) -> str:
    # ADM strings use C-style \n for line breaks in EXPLAIN text.
    return text.replace("\\n", "\n").replace("\\t", "\t")


def _split_sections(text: str, source: str) -> tuple[list[tuple[int, str]], dict[str, str]]:
    """Body lines (numbered) and the ``[strings]`` table, keys case-folded."""
    body: list[tuple[int, str]] = []
    strings: dict[str, str] = {}
    section: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if re.fullmatch(r"\[[^\]]+\]", stripped):
            section = stripped[1:-1].strip().casefold()
            continue
        if section is None:
            body.append((number, line))
            continue
        if section != "strings" or not stripped or stripped.startswith(";"):
            continue  # other sections (e.g. other languages) are not read
        match = _STRING_LINE.match(stripped)
        if match is None:
            raise AdmSyntaxError(
                f'expected name="value" in [strings], found {stripped!r}', line=number, source=source
            )
        name, value = match.groups()
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"'):
                raise AdmSyntaxError(f"unterminated string for {name!r}", line=number, source=source)
            value = value[1:-1]
        strings[name.casefold()] = _unescape(value)
    return body, strings


def _condition(line: str) -> bool:
    match = _IF.match(line)
    if match is None:
        return False  # a condition this reader does not know: skip the block, as old editors do
    return bool(_COMPARE[match.group(1)](EDITOR_VERSION, int(match.group(2))))


def _tokens(body: list[tuple[int, str]], strings: dict[str, str], source: str) -> list[_Token]:
    tokens: list[_Token] = []
    # Each open #if: (whether its block is read, whether the enclosing block is read, line).
    stack: list[tuple[bool, bool, int]] = []
    active = True
    for number, line in body:
        stripped = line.strip()
        if stripped.startswith("#"):
            directive = stripped.split(None, 1)[0].lower()
            if directive in ("#if", "#ifdef", "#ifndef"):
                taken = active and _condition(stripped)
                stack.append((taken, active, number))
                active = taken
            elif directive == "#else":
                if not stack:
                    raise AdmSyntaxError("#else without #if", line=number, source=source)
                taken, outer, opened = stack.pop()
                stack.append((not taken and outer, outer, opened))
                active = not taken and outer
            elif directive == "#endif":
                if not stack:
                    raise AdmSyntaxError("#endif without #if", line=number, source=source)
                _, active, _ = stack.pop()
            else:
                raise AdmSyntaxError(f"unknown directive {directive!r}", line=number, source=source)
            continue
        if active:
            tokens.extend(_line_tokens(line, number, strings, source))
    if stack:
        raise AdmSyntaxError("#if without #endif", line=stack[-1][2], source=source)
    return tokens


def _line_tokens(line: str, number: int, strings: dict[str, str], source: str) -> Iterator[_Token]:
    i, end = 0, len(line)
    while i < end:
        c = line[i]
        if c.isspace():
            i += 1
        elif c == ";":
            return  # a comment runs to the end of the line
        elif c == '"':
            close = line.find('"', i + 1)
            if close < 0:
                raise AdmSyntaxError("unterminated quoted string", line=number, source=source)
            yield _Token(_unescape(line[i + 1 : close]), number, literal=True)
            i = close + 1
        else:
            j = i
            while j < end and not line[j].isspace() and line[j] not in '";':
                j += 1
            word = line[i:j]
            if word.startswith("!!"):
                name = word[2:]
                if name.casefold() not in strings:
                    raise AdmSyntaxError(f"!!{name} is not defined in [strings]", line=number, source=source)
                yield _Token(strings[name.casefold()], number, literal=True)
            else:
                yield _Token(word, number, literal=False)
            i = j


# -- grammar ----------------------------------------------------------------------------------

_PART_KINDS = {kind.value for kind in PartKind}


class _Parser:
    def __init__(self, tokens: list[_Token], source: str, last_line: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.source = source
        self.last_line = last_line

    # token helpers

    def error(self, message: str, token: _Token | None = None) -> AdmSyntaxError:
        line = token.line if token is not None else self.last_line
        return AdmSyntaxError(message, line=line, source=self.source)

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise self.error(f"expected {what}, found end of file")
        self.pos += 1
        return token

    def string(self, what: str) -> str:
        return self.next(what).text

    def number(self, what: str) -> int:
        token = self.next(what)
        try:
            return int(token.text, 16) if token.text.lower().startswith("0x") else int(token.text)
        except ValueError:
            raise self.error(f"expected {what}, found {token.text!r}", token) from None

    def end(self, block: str, found: _Token) -> None:
        """Having read END at ``found``, require the block's name."""
        token = self.next(f"END {block}")
        if token.keyword() != block:
            raise self.error(f"expected END {block}, found 'END {token.text}'", found)

    def data(self, what: str) -> AdmData:
        """``NUMERIC n``, ``DELETE`` or a string."""
        token = self.next(what)
        if token.keyword() == "NUMERIC":
            return self.number(f"a number after NUMERIC in {what}")
        if token.keyword() == "DELETE":
            return None
        return token.text

    # the file

    def template(self) -> tuple[AdmPolicy, ...]:
        policies: list[AdmPolicy] = []
        class_: PolicyClass | None = None
        while (token := self.peek()) is not None:
            self.pos += 1
            keyword = token.keyword()
            if keyword == "CLASS":
                which = self.next("MACHINE or USER after CLASS")
                chosen = which.keyword()
                if chosen not in ("MACHINE", "USER"):
                    raise self.error(f"expected MACHINE or USER after CLASS, found {which.text!r}", which)
                class_ = PolicyClass(chosen)
            elif keyword == "CATEGORY":
                if class_ is None:
                    raise self.error("expected CLASS MACHINE or CLASS USER before CATEGORY", token)
                policies.extend(self.category(class_, (), ""))
            else:
                raise self.error(f"expected CLASS or CATEGORY, found {token.text!r}", token)
        return tuple(policies)

    def category(self, class_: PolicyClass, path: tuple[str, ...], keyname: str) -> list[AdmPolicy]:
        path = (*path, self.string("a category name"))
        policies: list[AdmPolicy] = []
        while True:
            token = self.next("END CATEGORY")
            keyword = token.keyword()
            if keyword == "KEYNAME":
                keyname = self.string("a key name after KEYNAME")
            elif keyword == "CATEGORY":
                policies.extend(self.category(class_, path, keyname))
            elif keyword == "POLICY":
                policies.append(self.policy(class_, path, keyname, token.line))
            elif keyword == "EXPLAIN":
                self.string("text after EXPLAIN")
            elif keyword == "END":
                self.end("CATEGORY", token)
                return policies
            else:
                raise self.error(f"expected END CATEGORY, found {token.text!r}", token)

    def actions(self, block: str) -> tuple[AdmAction, ...]:
        """An ACTIONLIST/ACTIONLISTON/ACTIONLISTOFF body, up to its END."""
        actions: list[AdmAction] = []
        keyname = ""
        while True:
            token = self.next(f"END {block}")
            keyword = token.keyword()
            if keyword == "KEYNAME":
                keyname = self.string("a key name after KEYNAME")
            elif keyword == "VALUENAME":
                valuename = self.string("a value name after VALUENAME")
                value_token = self.next("VALUE")
                if value_token.keyword() != "VALUE":
                    raise self.error(f"expected VALUE, found {value_token.text!r}", value_token)
                actions.append(AdmAction(keyname, valuename, self.data("a VALUE")))
            elif keyword == "END":
                self.end(block, token)
                return tuple(actions)
            else:
                raise self.error(f"expected END {block}, found {token.text!r}", token)

    def policy(self, class_: PolicyClass, path: tuple[str, ...], keyname: str, line: int) -> AdmPolicy:
        name = self.string("a policy name")
        valuename: str | None = None
        value_on: AdmData = 1
        value_off: AdmData = None
        explain = supported = None
        parts: list[AdmPart] = []
        actions_on: tuple[AdmAction, ...] = ()
        actions_off: tuple[AdmAction, ...] = ()
        while True:
            token = self.next("END POLICY")
            keyword = token.keyword()
            if keyword == "KEYNAME":
                keyname = self.string("a key name after KEYNAME")
            elif keyword == "VALUENAME":
                valuename = self.string("a value name after VALUENAME")
            elif keyword == "VALUEON":
                value_on = self.data("a value after VALUEON")
            elif keyword == "VALUEOFF":
                value_off = self.data("a value after VALUEOFF")
            elif keyword == "EXPLAIN":
                explain = self.string("text after EXPLAIN")
            elif keyword == "SUPPORTED":
                supported = self.string("text after SUPPORTED")
            elif keyword == "CLIENTEXT":
                self.string("a GUID after CLIENTEXT")
            elif keyword in ("ACTIONLISTON", "ACTIONLISTOFF"):
                if keyword == "ACTIONLISTON":
                    actions_on = self.actions(keyword)
                else:
                    actions_off = self.actions(keyword)
            elif keyword == "PART":
                parts.append(self.part(keyname, token.line))
            elif keyword == "END":
                self.end("POLICY", token)
                break
            else:
                raise self.error(f"expected END POLICY, found {token.text!r}", token)
        if not keyname:
            raise self.error(f"policy {name!r} has no KEYNAME (neither its own nor its category's)", None)
        return AdmPolicy(
            name=name,
            class_=class_,
            category_path=path,
            keyname=keyname,
            valuename=valuename,
            parts=tuple(parts),
            value_on=value_on if valuename is not None else None,
            value_off=value_off,
            explain=explain,
            supported=supported,
            actions_on=actions_on,
            actions_off=actions_off,
            line=line,
        )

    def items(self) -> tuple[AdmItem, ...]:
        items: list[AdmItem] = []
        while True:
            token = self.next("END ITEMLIST")
            keyword = token.keyword()
            if keyword == "NAME":
                name = self.string("an item name after NAME")
                value_token = self.next("VALUE")
                if value_token.keyword() != "VALUE":
                    raise self.error(
                        f"expected VALUE after NAME {name!r}, found {value_token.text!r}", value_token
                    )
                item = AdmItem(name, self.data(f"the VALUE of item {name!r}"))
                while (after := self.peek()) is not None and after.keyword() in ("DEFAULT", "ACTIONLIST"):
                    self.pos += 1
                    if after.keyword() == "DEFAULT":
                        item = AdmItem(item.name, item.value, True, item.actions)
                    else:
                        item = AdmItem(item.name, item.value, item.default, self.actions("ACTIONLIST"))
                items.append(item)
            elif keyword == "END":
                self.end("ITEMLIST", token)
                return tuple(items)
            else:
                raise self.error(f"expected NAME or END ITEMLIST, found {token.text!r}", token)

    def part(self, policy_keyname: str, line: int) -> AdmPart:
        name = self.string("a part name")
        kind_token = self.next("a part type")
        kind_name = kind_token.keyword()
        if kind_name not in _PART_KINDS:
            raise self.error(
                f"expected a part type ({', '.join(sorted(_PART_KINDS))}), found {kind_token.text!r}",
                kind_token,
            )
        kind = PartKind(kind_name)
        keyname = policy_keyname
        valuename: str | None = None
        items: tuple[AdmItem, ...] = ()
        minimum = maximum = spin = None
        default: int | str | None = None
        required = txtconvert = expandable = False
        maxlen: int | None = None
        value_on: AdmData = 1 if kind is PartKind.CHECKBOX else None
        value_off: AdmData = 0 if kind is PartKind.CHECKBOX else None
        while True:
            token = self.next("END PART")
            keyword = token.keyword()
            if keyword == "KEYNAME":
                keyname = self.string("a key name after KEYNAME")
            elif keyword == "VALUENAME":
                valuename = self.string("a value name after VALUENAME")
            elif keyword == "ITEMLIST":
                items = self.items()
            elif keyword == "MIN":
                minimum = self.number("a number after MIN")
            elif keyword == "MAX":
                maximum = self.number("a number after MAX")
            elif keyword == "SPIN":
                spin = self.number("a number after SPIN")
            elif keyword == "DEFAULT":
                default = (
                    self.number("a number after DEFAULT")
                    if kind is PartKind.NUMERIC
                    else self.string("DEFAULT text")
                )
            elif keyword == "DEFCHECKED":
                default = 1
            elif keyword == "VALUEON":
                value_on = self.data("a value after VALUEON")
            elif keyword == "VALUEOFF":
                value_off = self.data("a value after VALUEOFF")
            elif keyword in ("ACTIONLISTON", "ACTIONLISTOFF"):
                self.actions(keyword)
            elif keyword == "MAXLEN":
                maxlen = self.number("a number after MAXLEN")
            elif keyword in ("VALUEPREFIX", "CLIENTEXT"):
                self.string(f"a value after {keyword}")
            elif keyword == "SUGGESTIONS":
                while (word := self.next("END SUGGESTIONS")).keyword() != "END":
                    pass
                self.end("SUGGESTIONS", word)
            elif keyword == "REQUIRED":
                required = True
            elif keyword == "TXTCONVERT":
                txtconvert = True
            elif keyword == "EXPANDABLETEXT":
                expandable = True
            elif keyword in ("NOSORT", "OEMCONVERT", "EXPLICITVALUE", "ADDITIVE", "SOFT", "NOWRAP"):
                pass
            elif keyword == "END":
                self.end("PART", token)
                break
            else:
                raise self.error(f"expected END PART, found {token.text!r}", token)
        if kind is PartKind.NUMERIC:
            minimum = 0 if minimum is None else minimum
            maximum = 9999 if maximum is None else maximum
            if minimum > maximum:
                raise self.error(f"part {name!r} has MIN {minimum} above MAX {maximum}", kind_token)
            if isinstance(default, int) and not minimum <= default <= maximum:
                raise self.error(
                    f"part {name!r} has DEFAULT {default} outside {minimum}..{maximum}", kind_token
                )
        if kind is PartKind.DROPDOWNLIST:
            if not items:
                raise self.error(f"DROPDOWNLIST {name!r} has no ITEMLIST", kind_token)
            default = next((item.value for item in items if item.default), None)
        if kind is not PartKind.TEXT and kind is not PartKind.LISTBOX and valuename is None:
            raise self.error(f"part {name!r} has no VALUENAME", kind_token)
        return AdmPart(
            name=name,
            kind=kind,
            keyname=keyname,
            valuename=valuename,
            items=items,
            minimum=minimum,
            maximum=maximum,
            default=default,
            spin=spin,
            required=required,
            value_on=value_on,
            value_off=value_off,
            txtconvert=txtconvert,
            expandable=expandable,
            maxlen=maxlen,
            line=line,
        )


def parse_adm(data: bytes | str, *, source: str = "template.adm") -> AdmTemplate:
    """Read an ADM template. ``source`` (usually the file name) prefixes error messages."""
    text = decode_adm(data) if isinstance(data, bytes) else data
    body, strings = _split_sections(text, source)
    tokens = _tokens(body, strings, source)
    last_line = body[-1][0] if body else 1
    policies = _Parser(tokens, source, last_line).template()
    return AdmTemplate(source=source, policies=policies)
