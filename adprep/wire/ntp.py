"""NTP client request and server reply (RFC 5905 7.3), enough to prove a time server answered.

A DC's time service (W32Time) answers mode-3 client requests with mode-4 server replies. A reply
with stratum 0 is a kiss-o'-death packet (RFC 5905 7.4): the server answered but refuses to serve
time, and its reference id is an ASCII kiss code such as ``RATE`` or ``DENY``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adprep.errors import WireFormatError

# RFC 5905 6: NTP timestamps count seconds since 1900-01-01 00:00 UTC (era 0).
NTP_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)
PACKET_LENGTH = 48
VERSION = 4
MODE_CLIENT = 3
MODE_SERVER = 4
MODE_BROADCAST = 5

# RFC 5905 7.3: LI (2 bits) | VN (3 bits) | Mode (3 bits), stratum, poll, precision,
# root delay, root dispersion, reference id, then four 64-bit timestamps.
_HEADER = struct.Struct(">BBbbII4sQQQQ")


@dataclass(frozen=True)
class NtpReply:
    """A decoded NTP server reply (RFC 5905 7.3)."""

    version: int
    mode: int
    leap: int
    """Leap indicator; 3 means the server's clock is unsynchronised."""
    stratum: int
    """0 kiss-o'-death, 1 primary reference, 2-15 secondary, 16 unsynchronised."""
    reference_id: str
    """Kiss code or refid (ASCII for stratum 0-1, dotted IPv4 or hex above)."""
    transmit_time: datetime | None
    """The server's clock when it sent the reply (UTC); None when the server sent zero."""
    origin_matches: bool
    """The reply's origin timestamp echoes the request's transmit timestamp (RFC 5905 8)."""

    @property
    def kiss_of_death(self) -> bool:
        return self.stratum == 0

    @property
    def synchronised(self) -> bool:
        return self.leap != 3 and 0 < self.stratum < 16


def to_ntp_timestamp(moment: datetime) -> int:
    """A 64-bit NTP timestamp (RFC 5905 6): 32 bits of seconds since 1900, 32 of fraction."""
    delta = moment - NTP_EPOCH
    seconds = delta.days * 86400 + delta.seconds
    fraction = ((delta.microseconds << 32) + 500_000) // 1_000_000
    return ((seconds & 0xFFFFFFFF) << 32) | fraction


def from_ntp_timestamp(value: int) -> datetime:
    """The UTC time of a 64-bit NTP timestamp, rounded to the microsecond.

    RFC 4330 3: a seconds value with the high bit clear is taken to be in era 1 (from 2036-02-07).
    """
    seconds, fraction = value >> 32, value & 0xFFFFFFFF
    if not seconds & 0x80000000:
        seconds += 1 << 32
    return NTP_EPOCH + timedelta(seconds=seconds, microseconds=(fraction * 1_000_000 + (1 << 31)) >> 32)


def build_ntp_request(transmit_time: datetime | None = None) -> bytes:
    """A 48-byte NTPv4 client request (mode 3) whose transmit timestamp is ``transmit_time`` (now).

    The server copies the transmit timestamp into its reply's origin timestamp, which is how
    :func:`parse_ntp_reply` tells a reply to this request from a stray packet.
    """
    if transmit_time is None:
        transmit_time = datetime.now(UTC)
    first = (0 << 6) | (VERSION << 3) | MODE_CLIENT
    return _HEADER.pack(first, 0, 0, 0, 0, 0, b"\0\0\0\0", 0, 0, 0, to_ntp_timestamp(transmit_time))


def _reference_id(stratum: int, raw: bytes) -> str:
    # RFC 5905 7.3: stratum 0 (kiss code) and 1 (reference clock) carry 4 ASCII characters;
    # above, an IPv4 address (or an IPv6 hash, which reads the same way).
    if stratum <= 1:
        text = raw.rstrip(b"\0")
        if all(0x20 <= b < 0x7F for b in text):
            return text.decode("ascii")
        return raw.hex()
    return ".".join(str(b) for b in raw)


def _check_trailer(data: bytes) -> None:
    """After the 48-byte header an NTP packet holds only extension fields (RFC 7822 §3: type, a length
    of at least 16 that is a multiple of 4) and an optional MAC (RFC 5905 §7.3: a key id and an MD5 or
    SHA-1 digest, 20 or 24 bytes). Anything else is not NTP."""
    offset = PACKET_LENGTH
    while (remaining := len(data) - offset) not in (0, 20, 24):
        length = int.from_bytes(data[offset + 2 : offset + 4], "big") if remaining >= 16 else 0
        if length < 16 or length % 4 or length > remaining:
            raise WireFormatError(
                f"{remaining} bytes after the NTP header are neither extension fields nor a MAC.",
                offset=offset,
            )
        offset += length


def parse_ntp_reply(data: bytes, request: bytes | None = None) -> NtpReply:
    """Decode a server reply (mode 4). With ``request``, also check the origin timestamp echo."""
    if len(data) < PACKET_LENGTH:
        raise WireFormatError(f"NTP packet is {len(data)} bytes, at least 48 expected.", offset=len(data))
    first, stratum, _poll, _precision, _delay, _dispersion, refid, _ref, origin, _rx, transmit = (
        _HEADER.unpack_from(data, 0)
    )
    leap, version, mode = first >> 6, (first >> 3) & 0x7, first & 0x7
    if mode not in (MODE_SERVER, MODE_BROADCAST):
        raise WireFormatError(f"NTP mode {mode} is not a server reply (4).", offset=0)
    if not 1 <= version <= 4:
        raise WireFormatError(f"NTP version {version} is not 1-4.", offset=0)
    _check_trailer(data)
    origin_matches = False
    if request is not None and len(request) >= PACKET_LENGTH:
        origin_matches = origin == _HEADER.unpack_from(request, 0)[10]
    return NtpReply(
        version=version,
        mode=mode,
        leap=leap,
        stratum=stratum,
        reference_id=_reference_id(stratum, refid),
        transmit_time=from_ntp_timestamp(transmit) if transmit else None,
        origin_matches=origin_matches,
    )
