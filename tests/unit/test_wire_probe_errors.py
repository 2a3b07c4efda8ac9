"""UDP probes judge hostile bytes without raising, and only those: a parser's own errors become an
unrecognised answer (with the library's cause as a fact), any other exception is a bug that surfaces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adprep.wire import probes
from adprep.wire.probes import UDP_PROBES, NtpProbe, ProbeContext

CONTEXT = ProbeContext(domain="wire.test")


@settings(max_examples=60, deadline=None)
@given(port=st.sampled_from(sorted(UDP_PROBES)), reply=st.binary(max_size=300))
def test_any_bytes_are_judged_without_raising(port: int, reply: bytes) -> None:
    probe = UDP_PROBES[port]
    request = probe.build(CONTEXT)
    answer = probe.interpret(reply, request)
    assert answer.service == probe.service
    if not answer.recognised:
        assert "answered with something that is not" in answer.summary


def test_the_cause_under_a_wire_format_error_is_a_fact() -> None:
    # Given a DNS reply that dnspython cannot parse (a label type it does not know)
    request = UDP_PROBES[53].build(CONTEXT)
    reply = request[:2] + b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00" + b"\xc0"
    answer = UDP_PROBES[53].interpret(reply, request)
    assert not answer.recognised
    assert "cause" in answer.facts and "error" in answer.facts


def test_an_ntp_reply_that_does_not_echo_the_request_is_not_recognised() -> None:
    probe = NtpProbe()
    request = probe.build(CONTEXT)
    # a server reply (LI 0, VN 4, mode 4, stratum 2) whose origin timestamp is zero, not our transmit time
    reply = bytes([0x24, 2, 6, 0xEC]) + bytes(44)
    assert not probe.interpret(reply, request).recognised
    assert probe.interpret(reply).recognised  # without the request, any server reply counts


def test_a_bug_in_a_parser_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from adprep.wire import ntp

    def broken(*_a: object, **_k: object) -> object:
        raise RuntimeError("a bug, not a malformed reply")

    monkeypatch.setattr(ntp, "parse_ntp_reply", broken)
    with pytest.raises(RuntimeError):
        probes.NtpProbe().interpret(bytes(48))
