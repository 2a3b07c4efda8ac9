"""The Registry.pol file format (MS-GPREG 2.2.1): parse, encode, and set values without I/O.

This module owns the byte layout of a Registry Policy file and the small model of one entry
(:class:`PolEntry`). It knows nothing about SYSVOL, SMB or GPT.INI: callers read the bytes, hand
them to :func:`parse_registry_pol`, change the entries with :func:`set_values`, and write back what
:func:`encode_registry_pol` returns. Encoding is canonical, so setting the same values twice gives
byte-identical files, which is what lets ``prep`` bump the GPO version only when bytes change.

A zero-byte file is accepted as "no settings": Windows' Group Policy client treats an empty
Registry.pol the same as a header-only one, and some tools truncate the file instead of writing a
header. :func:`encode_registry_pol` always writes the header.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from adprep.errors import InputError, WireFormatError

# MS-GPREG 2.2.1: the header is the signature 0x67655250 ("PReg") and the version, 1.
SIGNATURE = b"PReg"
VERSION = 1
HEADER = SIGNATURE + struct.pack("<I", VERSION)

# MS-GPREG 2.2.1: brackets, separators and string terminators are UTF-16LE characters.
_OPEN = "[".encode("utf-16le")
_SEP = ";".encode("utf-16le")
_CLOSE = "]".encode("utf-16le")
_NUL = b"\x00\x00"

# MS-GPREG 2.2.1: special value names the Group Policy client acts on instead of writing them.
DELETE_PREFIX = "**del."
DELETE_VALUES = "**delvals."


class RegType(IntEnum):
    """Registry value types (MS-RRP 2.2.5, as used in MS-GPREG entries)."""

    REG_NONE = 0
    REG_SZ = 1
    REG_EXPAND_SZ = 2
    REG_BINARY = 3
    REG_DWORD = 4
    REG_DWORD_BIG_ENDIAN = 5
    REG_LINK = 6
    REG_MULTI_SZ = 7
    REG_RESOURCE_LIST = 8
    REG_FULL_RESOURCE_DESCRIPTOR = 9
    REG_RESOURCE_REQUIREMENTS_LIST = 10
    REG_QWORD = 11


_STRING_TYPES = (RegType.REG_SZ, RegType.REG_EXPAND_SZ)

#: What :attr:`PolEntry.decoded` returns: an int for the number types, a str for REG_SZ and
#: REG_EXPAND_SZ, a tuple of str for REG_MULTI_SZ, bytes for everything else.
Decoded = int | str | tuple[str, ...] | bytes


def _utf16(text: str) -> bytes:
    # surrogatepass: a lone surrogate read from a file written on Windows is kept as it was.
    return text.encode("utf-16le", "surrogatepass")


def _sz_data(text: str) -> bytes:
    if "\x00" in text:
        raise InputError(f"A registry string cannot contain a NUL character: {text!r}.")
    return _utf16(text + "\x00")


@dataclass(frozen=True)
class PolEntry:
    """One ``[key;value;type;size;data]`` record of a Registry.pol file (MS-GPREG 2.2.1)."""

    key: str
    """Registry key path below the hive, e.g. ``Software\\Policies\\Teradici\\PCoIP\\pcoip_admin``."""
    value: str
    """Value name (MS-GPREG's "value"); may be a ``**del.``/``**delvals.`` instruction."""
    type: RegType
    """Registry value type."""
    data: bytes
    """The raw value data; its length is the entry's size field."""

    def __post_init__(self) -> None:
        for field, text in (("key", self.key), ("value name", self.value)):
            if "\x00" in text:
                raise InputError(f"A Registry.pol {field} cannot contain a NUL character: {text!r}.")
        if not isinstance(self.type, RegType):
            object.__setattr__(self, "type", RegType(self.type))
        if not isinstance(self.data, bytes):
            object.__setattr__(self, "data", bytes(self.data))

    # -- typed constructors -------------------------------------------------------------------

    @classmethod
    def dword(cls, key: str, value: str, n: int) -> PolEntry:
        """A REG_DWORD (little-endian uint32)."""
        if not 0 <= n <= 0xFFFFFFFF:
            raise InputError(f"A REG_DWORD must be between 0 and 4294967295, not {n}.")
        return cls(key, value, RegType.REG_DWORD, struct.pack("<I", n))

    @classmethod
    def qword(cls, key: str, value: str, n: int) -> PolEntry:
        """A REG_QWORD (little-endian uint64)."""
        if not 0 <= n <= 0xFFFFFFFFFFFFFFFF:
            raise InputError(f"A REG_QWORD must be between 0 and 18446744073709551615, not {n}.")
        return cls(key, value, RegType.REG_QWORD, struct.pack("<Q", n))

    @classmethod
    def sz(cls, key: str, value: str, text: str, *, expand: bool = False) -> PolEntry:
        """A NUL-terminated UTF-16LE string: REG_SZ, or REG_EXPAND_SZ when ``expand``."""
        kind = RegType.REG_EXPAND_SZ if expand else RegType.REG_SZ
        return cls(key, value, kind, _sz_data(text))

    @classmethod
    def multi_sz(cls, key: str, value: str, strings: Iterable[str]) -> PolEntry:
        """A REG_MULTI_SZ: each string NUL-terminated, then one more NUL."""
        items = tuple(strings)
        if any(item == "" for item in items):
            # An empty string would read back as the end of the list.
            raise InputError("A REG_MULTI_SZ cannot hold an empty string.")
        return cls(key, value, RegType.REG_MULTI_SZ, b"".join(_sz_data(s) for s in items) + _NUL)

    @classmethod
    def binary(cls, key: str, value: str, data: bytes) -> PolEntry:
        """A REG_BINARY."""
        return cls(key, value, RegType.REG_BINARY, bytes(data))

    @classmethod
    def delete(cls, key: str, value: str) -> PolEntry:
        """``**del.<value>``: the client deletes that value (MS-GPREG 2.2.1).

        The data is a single space, as the Group Policy editor writes it; clients ignore it.
        """
        return cls(key, DELETE_PREFIX + value, RegType.REG_SZ, _sz_data(" "))

    @classmethod
    def delete_values(cls, key: str) -> PolEntry:
        """``**delvals.``: the client deletes every value of the key (MS-GPREG 2.2.1)."""
        return cls(key, DELETE_VALUES, RegType.REG_SZ, _sz_data(" "))

    # -- reading ------------------------------------------------------------------------------

    @property
    def decoded(self) -> Decoded:
        """The data as Python reads it; raises :class:`WireFormatError` when it does not fit the type."""
        t, d = self.type, self.data
        if t in (RegType.REG_DWORD, RegType.REG_DWORD_BIG_ENDIAN, RegType.REG_QWORD):
            size = 8 if t is RegType.REG_QWORD else 4
            if len(d) != size:
                raise WireFormatError(f"{t.name} {self.value!r} has {len(d)} bytes of data, not {size}")
            return int.from_bytes(d, "big" if t is RegType.REG_DWORD_BIG_ENDIAN else "little")
        if t in _STRING_TYPES or t is RegType.REG_MULTI_SZ:
            if len(d) % 2:
                raise WireFormatError(f"{t.name} {self.value!r} has an odd number of bytes ({len(d)})")
            text = d.decode("utf-16le", "surrogatepass")
            if t is RegType.REG_MULTI_SZ:
                return tuple(s for s in text.split("\x00\x00", 1)[0].split("\x00") if s)
            return text.split("\x00", 1)[0]
        return d

    @property
    def is_delete(self) -> bool:
        """True for ``**del.`` and ``**delvals.`` instructions (compared case-insensitively)."""
        return self.value.casefold().startswith(DELETE_PREFIX) or self.value.casefold() == DELETE_VALUES

    def same_slot(self, other: PolEntry) -> bool:
        """True when both entries name the same value of the same key (registry names ignore case)."""
        return _slot(self) == _slot(other)


def _slot(entry: PolEntry) -> tuple[str, str]:
    return entry.key.casefold(), entry.value.casefold()


# -- parse ------------------------------------------------------------------------------------


class _Reader:
    """A cursor over the file body that reports the byte offset of whatever it finds wrong."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def expect(self, token: bytes, what: str) -> None:
        if self.pos + len(token) > len(self.data):
            raise WireFormatError(f"Registry.pol entry is truncated: expected {what}", offset=self.pos)
        if self.data[self.pos : self.pos + len(token)] != token:
            raise WireFormatError(f"Registry.pol entry is malformed: expected {what}", offset=self.pos)
        self.pos += len(token)

    def string(self, what: str) -> str:
        # MS-GPREG 2.2.1: key and value are NUL-terminated UTF-16LE; scan code unit by code unit
        # so that a NUL high byte of one character and a NUL low byte of the next never pair up.
        start = self.pos
        pos = start
        end = len(self.data)
        while pos + 2 <= end:
            if self.data[pos : pos + 2] == _NUL:
                self.pos = pos + 2
                return self.data[start:pos].decode("utf-16le", "surrogatepass")
            pos += 2
        if pos < end:
            raise WireFormatError(
                f"Registry.pol {what} has an odd number of bytes (ends inside a UTF-16 character)",
                offset=start,
            )
        raise WireFormatError(f"Registry.pol {what} is truncated: no NUL terminator", offset=start)

    def uint32(self, what: str) -> int:
        if self.pos + 4 > len(self.data):
            raise WireFormatError(f"Registry.pol entry is truncated: expected the {what}", offset=self.pos)
        (n,) = struct.unpack_from("<I", self.data, self.pos)
        self.pos += 4
        return int(n)


def parse_registry_pol(data: bytes) -> tuple[PolEntry, ...]:
    """Read a Registry.pol file into its entries, in file order.

    Each entry's data is taken by its size field, so data holding ``;`` or ``]`` is read
    correctly. Raises :class:`WireFormatError` with the byte offset of the first problem.
    """
    if not data:
        return ()  # see the module docstring: an empty file means no settings
    if len(data) < len(HEADER):
        raise WireFormatError("Registry.pol is shorter than its 8-byte header", offset=0)
    if data[:4] != SIGNATURE:
        raise WireFormatError(f"Registry.pol does not start with 'PReg' (found {data[:4]!r})", offset=0)
    (version,) = struct.unpack_from("<I", data, 4)
    if version != VERSION:
        raise WireFormatError(f"Registry.pol has version {version}; only version 1 exists", offset=4)

    reader = _Reader(data)
    reader.pos = len(HEADER)
    entries: list[PolEntry] = []
    while reader.pos < len(data):
        start = reader.pos
        reader.expect(_OPEN, "'[' to open an entry")
        key = reader.string("key name")
        reader.expect(_SEP, "';' after the key name")
        value = reader.string("value name")
        reader.expect(_SEP, "';' after the value name")
        type_at = reader.pos
        type_number = reader.uint32("type")
        reader.expect(_SEP, "';' after the type")
        size_at = reader.pos
        size = reader.uint32("size")
        reader.expect(_SEP, "';' after the size")
        if reader.pos + size > len(data):
            raise WireFormatError(
                f"Registry.pol entry size {size} runs past the end of the file "
                f"({len(data) - reader.pos} bytes left)",
                offset=size_at,
            )
        payload = data[reader.pos : reader.pos + size]
        reader.pos += size
        reader.expect(_CLOSE, "']' to close the entry")
        try:
            kind = RegType(type_number)
        except ValueError:
            raise WireFormatError(
                f"Registry.pol entry has unknown type {type_number}", offset=type_at
            ) from None
        try:
            entries.append(PolEntry(key, value, kind, payload))
        except InputError as e:  # unreachable today: a NUL ends the string; kept as a guard
            raise WireFormatError(e.message, offset=start) from e
    return tuple(entries)


# -- encode -----------------------------------------------------------------------------------


def encode_entry(entry: PolEntry) -> bytes:
    """One ``[key;value;type;size;data]`` record (MS-GPREG 2.2.1)."""
    return b"".join(
        (
            _OPEN,
            _utf16(entry.key),
            _NUL,
            _SEP,
            _utf16(entry.value),
            _NUL,
            _SEP,
            struct.pack("<I", entry.type),
            _SEP,
            struct.pack("<I", len(entry.data)),
            _SEP,
            entry.data,
            _CLOSE,
        )
    )


def encode_registry_pol(entries: Iterable[PolEntry]) -> bytes:
    """The bytes of a Registry.pol file holding ``entries`` in the given order, header included."""
    return HEADER + b"".join(encode_entry(e) for e in entries)


# -- change -----------------------------------------------------------------------------------


def set_values(entries: Iterable[PolEntry], updates: Iterable[PolEntry]) -> tuple[PolEntry, ...]:
    """Return ``entries`` with each update set, as the Group Policy editor would leave the file.

    An update replaces the first entry naming the same key and value (names compared without
    case) in place, and drops later duplicates of it; an update naming a new slot is appended.
    Every other entry keeps its order. Setting a value drops a ``**del.`` instruction for it, and
    setting ``**del.<value>`` drops entries setting that value, since the two contradict.
    Applying the same updates twice gives the same tuple, hence the same bytes.
    """
    result: list[PolEntry | None] = list(entries)
    for update in _last_word(updates):
        slot = _slot(update)
        stale = _contradicted(update)
        if stale is not None:
            result = [None if e is not None and _slot(e) == stale else e for e in result]
        placed = False
        for i, existing in enumerate(result):
            if existing is not None and _slot(existing) == slot:
                result[i] = None if placed else update
                placed = True
        if not placed:
            result.append(update)
    return tuple(e for e in result if e is not None)


def _contradicted(update: PolEntry) -> tuple[str, str] | None:
    """The slot an entry must not hold once ``update`` is set: its ``**del.`` twin, or the reverse."""
    value = update.value.casefold()
    if value.startswith(DELETE_PREFIX):
        # Deleting X: an entry setting X in the same file would contradict the instruction.
        return update.key.casefold(), value.removeprefix(DELETE_PREFIX)
    if value != DELETE_VALUES:
        # Setting X: a stale "**del.X" would undo it when the client processes the file.
        return update.key.casefold(), DELETE_PREFIX + value
    return None


def _last_word(updates: Iterable[PolEntry]) -> list[PolEntry]:
    """``updates`` without those a later update overrides (same slot) or contradicts (set X, then
    delete X): applying what is left twice then gives the same entries in the same order."""
    kept: list[PolEntry] = []
    for update in updates:
        gone = {_slot(update), _contradicted(update)}
        kept = [u for u in kept if _slot(u) not in gone]
        kept.append(update)
    return kept


def find(entries: Iterable[PolEntry], key: str, value: str) -> PolEntry | None:
    """The last entry naming ``key``/``value`` (case-insensitive): the one the client applies last."""
    slot = (key.casefold(), value.casefold())
    found: PolEntry | None = None
    for entry in entries:
        if _slot(entry) == slot:
            found = entry
    return found
