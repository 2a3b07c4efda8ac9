"""adprep's RADIUS probe against the lab FreeRADIUS (127.0.0.5:1812, clients 127.0.0.0/24), one test
per outcome. Also a throwaway in-test peer for what FreeRADIUS never does (sign with another secret)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from adprep.checks.radius import check_client_registration, check_message_authenticator, check_probe
from adprep.collect.radius import build_login, collect_radius
from adprep.facts.radius import RadiusProbe
from adprep.model import Status
from adprep.secret import Secret
from adprep.transport.network import LocalNetwork
from adprep.transport.radius import exchange
from adprep.wire import radius as wire
from tests.conftest import LabRadius
from tests.loopback import udp_responder

pytestmark = pytest.mark.lab

NOT_A_CLIENT = "127.0.9.1"  # outside the lab's 127.0.0.0/24 client range


def probe(
    lab: LabRadius,
    *,
    protocol: str = "PAP",
    secret: str | None = None,
    user: str | None = None,
    password: str | None = None,
    address: str | None = None,
    port: int | None = None,
    bind: str | None = None,
    timeout: float = 0.5,
) -> RadiusProbe:
    facts = asyncio.run(
        collect_radius(
            LocalNetwork(bind=bind),
            [address or lab.address],
            port=port or lab.port,
            protocol=protocol,
            secret=Secret(secret or lab.secret, "test"),
            user=user or "fakeusername",
            password=Secret(password, "test") if password is not None else None,
            timeout=timeout,
            retries=0,
        )
    )
    return facts.probes[0]


def test_right_secret_and_fakeusername_is_a_signed_reject(radius_lab: LabRadius) -> None:
    p = probe(radius_lab, timeout=2.0)
    assert p.exchange.outcome == "reject"
    result = check_probe(p)
    assert result.status is Status.PASS and "shared secret matches" in result.title
    # FreeRADIUS 3.2.1 signs the reply but adds no Message-Authenticator: not BlastRADIUS-hardened.
    readiness = check_message_authenticator(p)
    expected = {"valid": Status.PASS, "absent": Status.WARN}[str(p.exchange.message_authenticator)]
    assert readiness.status is expected
    assert p.exchange.source == "127.0.0.1"
    assert check_client_registration([p], bind=None).status is Status.PASS


@pytest.mark.parametrize("protocol", ["PAP", "CHAP", "MS-CHAPv1", "MS-CHAPv2"])
def test_lab_user_is_accepted_in_each_protocol(radius_lab: LabRadius, protocol: str) -> None:
    p = probe(
        radius_lab, protocol=protocol, user=radius_lab.user, password=radius_lab.user_password, timeout=2.0
    )
    assert p.exchange.outcome == "accept", p
    assert check_probe(p).status is Status.PASS
    if protocol == "MS-CHAPv2":
        # RFC 2759 §8.7: the server proved it knows the password too.
        assert p.mschap2_server_proof is True


@pytest.mark.parametrize("protocol", ["CHAP", "MS-CHAPv2"])
def test_lab_user_with_a_wrong_password_is_rejected(radius_lab: LabRadius, protocol: str) -> None:
    p = probe(radius_lab, protocol=protocol, user=radius_lab.user, password="not-the-password", timeout=2.0)
    assert p.exchange.outcome == "reject"
    assert check_probe(p).status is Status.FAIL


def test_wrong_secret_is_silence_on_freeradius_with_the_three_causes(radius_lab: LabRadius) -> None:
    # FreeRADIUS drops a request whose Message-Authenticator does not verify ("Shared secret is
    # incorrect") without answering, so with Message-Authenticator first, a wrong secret is silence.
    p = probe(radius_lab, secret="wrong-secret-123")
    assert p.exchange.outcome == "no_response"
    result = check_probe(p)
    assert result.status is Status.FAIL
    assert "shared secret does not match" in (result.remedy or "")
    assert "not registered as a RADIUS client" in (result.remedy or "")


def test_wrong_secret_without_message_authenticator_is_a_bad_authenticator(radius_lab: LabRadius) -> None:
    # Without Message-Authenticator the lab server (require_message_authenticator = no) answers, and
    # its reply is signed with its own secret: the loop must say so instead of waiting.
    auth = wire.new_request_authenticator()
    wrong = b"wrong-secret-123"
    req = wire.encode_access_request(
        [
            (wire.Attr.USER_NAME, b"fakeusername"),
            (wire.Attr.USER_PASSWORD, wire.hide_password(b"x", wrong, auth)),
        ],
        secret=wrong,
        identifier=9,
        authenticator=auth,
        message_authenticator=False,
    )
    x = asyncio.run(
        exchange(LocalNetwork(), radius_lab.address, radius_lab.port, req, wrong, timeout=2.0, retries=0)
    )
    assert x.outcome == "bad_authenticator"
    assert x.elapsed_ms < 1000


def test_source_that_is_not_a_client_gets_no_response_with_the_hint(radius_lab: LabRadius) -> None:
    p = probe(radius_lab, bind=NOT_A_CLIENT)
    assert p.exchange.outcome == "no_response" and p.exchange.source == NOT_A_CLIENT
    result = check_probe(p)
    assert NOT_A_CLIENT in (result.remedy or "") and "not registered as a RADIUS client" in (
        result.remedy or ""
    )
    assert check_client_registration([p], bind=NOT_A_CLIENT).status is Status.WARN


def test_challenge_user_gets_access_challenge(radius_lab: LabRadius) -> None:
    p = probe(radius_lab, user=radius_lab.challenge_user, password="123456", timeout=2.0)
    assert p.exchange.outcome == "challenge"
    result = check_probe(p)
    assert result.status is Status.FAIL
    assert "AD Connector does not support Access-Challenge" in result.title


def test_port_with_no_listener_is_closed_at_once(radius_lab: LabRadius) -> None:
    # A loopback port where nothing listens answers with ICMP port unreachable.
    p = probe(radius_lab, port=_free_udp_port(radius_lab.address), timeout=2.0)
    assert p.exchange.outcome == "closed"
    assert p.exchange.elapsed_ms < 1000
    assert "ICMP port unreachable" in check_probe(p).title


# --- a throwaway peer for a reply signed with another secret ---------------------------------------


@pytest.fixture
def impostor() -> Iterator[tuple[str, int]]:
    """A UDP peer on 127.0.0.1 that answers every request with an Access-Reject signed with another secret."""

    def reject(data: bytes) -> bytes:
        req = wire.decode_packet(data)
        return wire.encode_reply(
            wire.Code.ACCESS_REJECT,
            [],
            secret=b"the-servers-own-secret",
            identifier=req.identifier,
            request_authenticator=req.authenticator,
        )

    with udp_responder(reject) as port:
        yield ("127.0.0.1", port)


def test_reply_signed_with_another_secret_is_a_bad_authenticator(impostor: tuple[str, int]) -> None:
    host, port = impostor
    login = build_login("PAP", "fakeusername", "x", b"our-secret-123")
    x = asyncio.run(
        exchange(LocalNetwork(), host, port, login.request, b"our-secret-123", timeout=2.0, retries=0)
    )
    assert x.outcome == "bad_authenticator"
    assert x.message_authenticator == "invalid"
    result = check_probe(RadiusProbe(x, "PAP", "fakeusername", False))
    assert "the shared secret does not match" in result.title


def _free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])
