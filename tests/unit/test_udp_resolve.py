"""transport.udp.resolve: an IP address is its own answer (no getaddrinfo in a worker thread)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from adprep.transport.udp import resolve


def test_an_address_needs_no_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(*_a: object, **_k: object) -> object:
        raise AssertionError("getaddrinfo called for an IP address")

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", no_lookup)
    assert asyncio.run(resolve("10.0.0.10", 53, socket.SOCK_DGRAM)) == (socket.AF_INET, "10.0.0.10")
    assert asyncio.run(resolve("2001:db8:0::1", 53, socket.SOCK_DGRAM)) == (socket.AF_INET6, "2001:db8::1")


def test_a_name_is_still_looked_up() -> None:
    assert asyncio.run(resolve("localhost", 53, socket.SOCK_DGRAM))[1] in ("127.0.0.1", "::1")
