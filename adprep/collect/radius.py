"""Collect RADIUS facts: build the Access-Request AWS sends when MFA is enabled, probe every server
concurrently, and keep what each reply said.

The request follows AD Connector: user ``fakeusername`` (or a real user when asked), the configured
protocol, Message-Authenticator first. Each server gets its own identifier and Request
Authenticator (RFC 2865 §3), hence its own hidden password or CHAP challenge.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adprep.facts.radius import RadiusExchange, RadiusFacts, RadiusProbe
from adprep.secret import Secret
from adprep.transport.network import Network
from adprep.transport.radius import exchange
from adprep.wire import mschap
from adprep.wire.radius import (
    VENDOR_MICROSOFT,
    AccessRequest,
    Attr,
    encode_access_request,
    hide_password,
    text_values,
)

#: RFC 2865 §4.1: an Access-Request names its NAS (NAS-IP-Address or NAS-Identifier).
NAS_IDENTIFIER = b"adprep"


@dataclass(frozen=True)
class LoginRequest:
    """An encoded Access-Request and, for MS-CHAPv2, the server proof an Accept must carry."""

    request: AccessRequest
    expected_mschap2_success: str | None = None


def build_login(
    protocol: str,
    user: str,
    password: str,
    secret: bytes,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> LoginRequest:
    """The Access-Request for ``user``/``password`` in ``protocol`` (PAP, CHAP, MS-CHAPv1, MS-CHAPv2)."""
    # RFC 2865 §3: the Request Authenticator is unpredictable (os.urandom by default).
    authenticator = random_bytes(16)
    identifier = random_bytes(1)[0]
    user_bytes = user.encode("utf-8")
    expected: str | None = None
    attrs: list[tuple[int, bytes]] = [(Attr.USER_NAME, user_bytes)]
    if protocol == "PAP":
        # RFC 2865 §5.2: the password is hidden with the secret and this request's authenticator.
        attrs.append((Attr.USER_PASSWORD, hide_password(password.encode("utf-8"), secret, authenticator)))
    elif protocol == "CHAP":
        attrs += mschap.chap_attributes(random_bytes(1)[0], password.encode("utf-8"), random_bytes(16))
    elif protocol == "MS-CHAPv1":
        attrs += mschap.mschap1_attributes(random_bytes(1)[0], password, random_bytes(8))
    elif protocol == "MS-CHAPv2":
        v2_attrs, expected = mschap.mschap2_attributes(
            random_bytes(1)[0], user_bytes, password, random_bytes(16), random_bytes(16)
        )
        attrs += v2_attrs
    else:
        raise ValueError(f"unknown RADIUS protocol {protocol!r}")
    attrs.append((Attr.NAS_IDENTIFIER, NAS_IDENTIFIER))
    request = encode_access_request(attrs, secret=secret, identifier=identifier, authenticator=authenticator)
    return LoginRequest(request, expected)


def _probe_facts(
    result: RadiusExchange, login: LoginRequest, protocol: str, user: str, real_login: bool
) -> RadiusProbe:
    reply = result.reply
    signed = result.outcome in ("accept", "reject", "challenge")
    if reply is None or not signed:
        return RadiusProbe(result, protocol, user, real_login)
    error = reply.vendor(VENDOR_MICROSOFT, mschap.MS_CHAP_ERROR)
    proof: bool | None = None
    if result.outcome == "accept" and login.expected_mschap2_success is not None:
        success = reply.vendor(VENDOR_MICROSOFT, mschap.MS_CHAP2_SUCCESS)
        proof = success is not None and mschap.mschap2_success_matches(
            success, login.expected_mschap2_success
        )
    return RadiusProbe(
        result,
        protocol,
        user,
        real_login,
        reply_messages=text_values(reply, Attr.REPLY_MESSAGE),
        mschap_error=error[1:].decode("ascii", "replace") if error else None,
        mschap2_server_proof=proof,
    )


async def collect_radius(
    net: Network,
    servers: Sequence[str],
    *,
    port: int,
    protocol: str,
    secret: Secret,
    user: str,
    password: Secret | None,
    timeout: float,
    retries: int,
) -> RadiusFacts:
    """Probe every server at once: the run takes one server's worst case, not the sum."""
    secret_bytes = secret.reveal().encode("utf-8")
    real_login = password is not None
    # AWS's enablement check sends a made-up password; a fresh random one proves nothing is guessed.
    password_text = password.reveal() if password is not None else secrets.token_urlsafe(12)

    async def one(server: str) -> RadiusProbe:
        login = build_login(protocol, user, password_text, secret_bytes)
        result = await exchange(
            net, server, port, login.request, secret_bytes, timeout=timeout, retries=retries
        )
        return _probe_facts(result, login, protocol, user, real_login)

    probes = await asyncio.gather(*(one(s) for s in servers))
    return RadiusFacts(tuple(probes))
