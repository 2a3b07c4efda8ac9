"""NTP client request and server reply (RFC 5905 7.3/7.4), from hand-made packets (Samba serves no NTP)."""

from __future__ import annotations

import contextlib
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adprep.errors import WireFormatError
from adprep.wire.ntp import build_ntp_request, from_ntp_timestamp, parse_ntp_reply, to_ntp_timestamp

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wire"
SENT = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_request_is_a_48_byte_v4_client_packet_with_a_transmit_timestamp() -> None:
    request = build_ntp_request(SENT)
    assert len(request) == 48
    assert request[0] == 0x23  # LI 0, VN 4, mode 3
    assert request == fixture("ntp_handmade_stratum2.request.bin")
    (transmit,) = struct.unpack_from(">Q", request, 40)
    assert from_ntp_timestamp(transmit) == SENT


def test_timestamps_round_trip_to_the_microsecond() -> None:
    moment = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert from_ntp_timestamp(to_ntp_timestamp(moment)) == moment


def test_stratum_2_reply() -> None:
    # Given a server reply that echoes the request's transmit timestamp
    request = fixture("ntp_handmade_stratum2.request.bin")
    reply = parse_ntp_reply(fixture("ntp_handmade_stratum2.reply.bin"), request)

    # Then it is a synchronised mode-4 reply from a secondary server
    assert (reply.version, reply.mode, reply.leap, reply.stratum) == (4, 4, 0, 2)
    assert reply.reference_id == "192.0.2.1"
    assert reply.transmit_time == datetime(2026, 11, 25, 14, 0, 0, 500000, tzinfo=UTC)
    assert reply.origin_matches
    assert reply.synchronised and not reply.kiss_of_death


def test_reply_to_another_request_does_not_match() -> None:
    other = build_ntp_request(datetime(2026, 1, 1, tzinfo=UTC))
    assert not parse_ntp_reply(fixture("ntp_handmade_stratum2.reply.bin"), other).origin_matches


def test_kiss_of_death() -> None:
    reply = parse_ntp_reply(fixture("ntp_handmade_kod_rate.reply.bin"))
    assert reply.kiss_of_death
    assert reply.reference_id == "RATE"
    assert reply.transmit_time is None
    assert not reply.synchronised


def test_stratum_1_reference_clock_name() -> None:
    reply = bytearray(fixture("ntp_handmade_stratum2.reply.bin"))
    reply[1] = 1
    reply[12:16] = b"GPS\x00"
    assert parse_ntp_reply(bytes(reply)).reference_id == "GPS"


def test_our_own_request_is_not_a_reply() -> None:
    with pytest.raises(WireFormatError, match="mode 3"):
        parse_ntp_reply(build_ntp_request(SENT))


@pytest.mark.parametrize("cut", range(48))
def test_truncated_replies_are_wire_format_errors(cut: int) -> None:
    with pytest.raises(WireFormatError):
        parse_ntp_reply(fixture("ntp_handmade_stratum2.reply.bin")[:cut])


def test_version_0_is_refused() -> None:
    reply = bytearray(fixture("ntp_handmade_stratum2.reply.bin"))
    reply[0] = 0x04  # VN 0, mode 4
    with pytest.raises(WireFormatError, match="version 0"):
        parse_ntp_reply(bytes(reply))


@given(st.binary(max_size=80))
def test_parser_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        parse_ntp_reply(data, data)


def test_timestamps_after_2036_are_in_era_1() -> None:
    moment = datetime(2040, 1, 1, tzinfo=UTC)
    assert from_ntp_timestamp(to_ntp_timestamp(moment)) == moment
