"""The network as seen from one vantage: the four things a probe needs, here or through a relay.

Collectors talk to a :class:`Network`, never to sockets, so the same collector (and so the same
checks) runs on the admin's host (:class:`LocalNetwork`) and at a remote vantage
(:class:`adprep.transport.relay.session.RelayNetwork`). Every request is built and every reply
decoded by the collector, on the admin's host; a network only carries bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from adprep.facts.exchanges import IcmpEcho, TcpExchange, UdpExchange
from adprep.facts.ports import TcpProbe
from adprep.transport.icmp import echo_icmp
from adprep.transport.open_files import usable_concurrency
from adprep.transport.route import source_address_for
from adprep.transport.tcp import exchange_tcp, probe_tcp
from adprep.transport.udp import exchange_udp
from adprep.wire.relay import Framing

#: The label of the admin's own host when no other is given.
LOCAL = "local"


class Network(Protocol):
    """Probes from one vantage. Methods never raise for network trouble: outcomes are facts."""

    @property
    def label(self) -> str:
        """The vantage's name in reports (``local``, ``subnet-a``)."""
        ...

    @property
    def remote(self) -> bool:
        """True when the probes leave from another host than this one."""
        ...

    async def tcp_connect(self, address: str, port: int, *, timeout: float) -> TcpProbe:
        """One TCP handshake, closed at once."""
        ...

    async def udp_exchange(
        self,
        address: str,
        port: int,
        datagrams: Sequence[bytes],
        *,
        timeout: float,
        interval: float | None = None,
    ) -> UdpExchange:
        """Datagram k at k × interval until a reply, within ``timeout`` (see ``transport.udp``)."""
        ...

    async def tcp_exchange(
        self, address: str, port: int, messages: Sequence[bytes], *, framing: Framing, timeout: float
    ) -> TcpExchange:
        """A framed request/response conversation over one connection (see ``transport.tcp``)."""
        ...

    async def source_address(self, address: str) -> str | None:
        """The source address this vantage's kernel picks to reach ``address`` (sends nothing)."""
        ...

    async def icmp_echo(self, address: str, *, timeout: float) -> IcmpEcho:
        """An ICMP echo exchange; ``not_carried`` from a vantage that cannot send ICMP (see ``transport.icmp``)."""
        ...


class LocalNetwork:
    """Probes from this host, at most ``concurrency`` at once, optionally from a bound address."""

    def __init__(self, *, concurrency: int = 256, bind: str | None = None, label: str = LOCAL) -> None:
        self.concurrency = usable_concurrency(concurrency)
        """Probes in flight at most: ``concurrency``, or fewer when RLIMIT_NOFILE is lower."""
        self.wanted_concurrency = concurrency
        self._limit = asyncio.Semaphore(self.concurrency)
        self._bind = bind
        self._label = label

    @property
    def label(self) -> str:
        return self._label

    @property
    def remote(self) -> bool:
        return False

    async def tcp_connect(self, address: str, port: int, *, timeout: float) -> TcpProbe:
        async with self._limit:
            return await probe_tcp(address, port, timeout, bind=self._bind)

    async def udp_exchange(
        self,
        address: str,
        port: int,
        datagrams: Sequence[bytes],
        *,
        timeout: float,
        interval: float | None = None,
    ) -> UdpExchange:
        async with self._limit:
            return await exchange_udp(
                address, port, datagrams, timeout=timeout, interval=interval, bind=self._bind
            )

    async def tcp_exchange(
        self, address: str, port: int, messages: Sequence[bytes], *, framing: Framing, timeout: float
    ) -> TcpExchange:
        async with self._limit:
            return await exchange_tcp(address, port, messages, framing=framing, timeout=timeout)

    async def source_address(self, address: str) -> str | None:
        return self._bind or source_address_for(address)

    async def icmp_echo(self, address: str, *, timeout: float) -> IcmpEcho:
        async with self._limit:
            return await echo_icmp(address, timeout=timeout, bind=self._bind)
