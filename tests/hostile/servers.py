"""Loopback servers that answer every request with a hostile reply, one per protocol adprep speaks.

A :class:`HostilePeer` binds one loopback address (127.0.50.0/24 is theirs: no lab service uses it)
on the ports of DNS (UDP and TCP 53), Kerberos (UDP and TCP 88), NTP (UDP 123), NBNS (UDP 137),
CLDAP (UDP 389), the endpoint mapper (TCP 135), LDAP (TCP 389 and 636), SMB (TCP 445) and RADIUS
(UDP 1812), and answers whatever comes with the :class:`Behaviour` it is told:

``truncated``
    A real reply of the protocol, cut after ``cut`` bytes (TCP: then the connection is closed).
``oversized``
    UDP: the biggest datagram there is (65,507 bytes) starting with a real reply. TCP: a length
    prefix that announces far more than anyone should read (4 GiB for Kerberos, 2 GiB for an
    LDAP message, 64 KiB DCE/RPC fragments that never end), then bytes without end.
``random``
    ``data``, whatever hypothesis drew (TCP: then the connection is closed).
``drip``
    A real reply, one byte a second (UDP: a one-byte datagram after :data:`UDP_DRIP_DELAY`).
``endless``
    TCP: random bytes as fast as the client takes them, for ever. UDP: a datagram every millisecond.
``flood``
    LDAP: well-formed search result entries for the request's message id, without end and never
    the searchResDone; the endpoint mapper: response fragments, none the last (elsewhere: as ``endless``).

The servers run on their own event loop in a daemon thread; ports below 1024 need root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

WIRE = Path(__file__).resolve().parents[2] / "fixtures" / "wire"

Kind = Literal["truncated", "oversized", "random", "drip", "endless", "flood"]
KINDS: tuple[Kind, ...] = ("truncated", "oversized", "random", "drip", "endless")
"""The kinds every protocol gets; ``flood`` is LDAP's own (well-formed entries without end)."""
#: How long a UDP ``drip`` waits before its one byte: three times the tests' 1 s timeout, so a
#: loaded machine (a CI runner) cannot make the late byte arrive in time and the verdict flip.
UDP_DRIP_DELAY = 3.0
#: The biggest UDP payload over IPv4 (65,535 - 20 - 8).
MAX_DATAGRAM = 65507


@dataclass(frozen=True)
class Behaviour:
    kind: Kind
    data: bytes = b""
    """``random``: the reply."""
    cut: int = 0
    """``truncated``: how many bytes of the real reply to send (modulo its length; over TCP at least one)."""


def _fixture(name: str) -> bytes:
    return (WIRE / name).read_bytes()


def _with_id(template: bytes, request: bytes, span: slice) -> bytes:
    """``template`` with the request's id copied in, so the reply looks like an answer to it."""
    if len(request) < (span.stop or 0):
        return template
    return template[: span.start] + request[span] + template[span.stop :]


def _radius_reject(request: bytes) -> bytes:
    # RFC 2865 §3: code 3 (Access-Reject), the request's identifier, length 20, an authenticator.
    identifier = request[1:2] if len(request) > 1 else b"\x00"
    return b"\x03" + identifier + b"\x00\x14" + os.urandom(16)


#: UDP port → a real reply to a request (for ``truncated``, ``oversized`` and ``drip``).
UDP_REPLIES: dict[int, Callable[[bytes], bytes]] = {
    53: lambda r: _with_id(_fixture("dns_samba_soa.reply.bin"), r, slice(0, 2)),
    88: lambda r: _fixture("kdc_samba_principal_unknown.reply.bin"),
    123: lambda r: _fixture("ntp_handmade_stratum2.reply.bin"),
    137: lambda r: _with_id(_fixture("nbns_samba_node_status.reply.bin"), r, slice(0, 2)),
    389: lambda r: _fixture("cldap_samba_ex.reply.bin"),
    1812: _radius_reject,
}


def _dns_tcp(request: bytes) -> bytes:
    reply = _with_id(_fixture("dns_samba_soa.reply.bin"), request[2:], slice(0, 2))
    return len(reply).to_bytes(2, "big") + reply


#: An LDAP searchResDone / bindResponse-shaped message (RFC 4511 §4.1.1), message id 1, success.
_LDAP_DONE = bytes.fromhex("300c02010165070a010004000400")
#: A DCE/RPC bind_ack header (C706 §12.6.3.1), frag_length 16, first and last fragment.
_DCERPC_ACK = bytes.fromhex("05000c03100000001000000001000000")
#: A DCE/RPC response fragment (C706 §12.6.4.10) flagged first but never last: fragments without end.
_DCERPC_FIRST_FRAGMENT = bytes.fromhex("05000201100000001800000001000000") + bytes(8)
#: A NetBIOS session message (RFC 1002 §4.3.6) carrying the start of an SMB2 header (MS-SMB2 2.2.1).
_SMB2 = b"\x00\x00\x00\x40\xfeSMB" + b"\x40\x00" + bytes(58)


def _ldap_entry(request: bytes) -> bytes:
    """A searchResEntry (RFC 4511 §4.5.2) with no name and no attributes, for the request's message id."""
    # The request is an LDAPMessage SEQUENCE whose first element is the INTEGER messageID.
    start = 2 if request[1] < 0x80 else 2 + (request[1] & 0x7F)
    id_tlv = request[start : start + 2 + request[start + 1]] if len(request) > start + 1 else b"\x02\x01\x01"
    body = id_tlv + b"\x64\x04\x04\x00\x30\x00"
    return b"\x30" + bytes([len(body)]) + body


#: TCP port → a real reply to a request.
TCP_REPLIES: dict[int, Callable[[bytes], bytes]] = {
    53: _dns_tcp,
    88: lambda r: _fixture("kdc_samba_tcp_principal_unknown.reply.bin"),
    135: lambda r: _DCERPC_ACK,
    389: lambda r: _LDAP_DONE,
    636: lambda r: _LDAP_DONE,
    445: lambda r: _SMB2,
}

#: TCP port → a head announcing a reply no client should wait for or allocate.
TCP_OVERSIZED_HEADS: dict[int, bytes] = {
    53: b"\xff\xff",  # the largest u16 (RFC 1035 §4.2.2)
    88: b"\xff\xff\xff\xff",  # RFC 4120 §7.2.2: 4 GiB (the high bit is reserved: a signed reader sees -1)
    135: bytes.fromhex("05000c01100000000000"),  # frag_length 0 at bytes 8-9 (below the header's own size)
    389: b"\x30\x84\x7f\xff\xff\xff",  # an LDAPMessage SEQUENCE of 2 GiB
    636: b"\x30\x84\x7f\xff\xff\xff",
    445: b"\x00\x01\xff\xff",  # a NetBIOS session message of 128 KiB
}

UDP_PORTS = tuple(UDP_REPLIES)
TCP_PORTS = tuple(TCP_REPLIES)


class HostilePeer:
    """Every protocol's server on ``address``, answering with :attr:`behaviour` (change it at will)."""

    def __init__(
        self,
        address: str,
        *,
        udp: tuple[int, ...] = UDP_PORTS,
        tcp: tuple[int, ...] = TCP_PORTS,
        honest_dns: str | None = None,
    ):
        self.address = address
        self.honest_dns = honest_dns
        """A domain: DNS (UDP and TCP 53) then answers truly, naming ``dc.<domain>`` at this address as
        the domain's only DC, so that a preflight reaches the other, hostile, services."""
        self.udp_ports = udp
        self.tcp_ports = tcp
        self.behaviour = Behaviour("random", b"\x00")
        self.requests = 0
        """Requests seen (datagrams, and TCP connections that sent something)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"hostile-{address}", daemon=True)
        self._closers: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # -- life cycle --------------------------------------------------------------------------------

    def __enter__(self) -> HostilePeer:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        except BaseException:
            self.__exit__()  # a port already taken: close what was bound
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        for port in self.udp_ports:
            transport, _ = await self._loop.create_datagram_endpoint(
                lambda port=port: _Datagrams(self, port), local_addr=(self.address, port), reuse_port=False
            )
            self._closers.append(transport.close)
        for port in self.tcp_ports:
            server = await asyncio.start_server(
                lambda r, w, port=port: self._serve(port, r, w), self.address, port, reuse_address=True
            )
            self._closers.append(server.close)

    async def _stop(self) -> None:
        for close in self._closers:
            close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)

    def spawn(self, coro: object) -> None:
        task = self._loop.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- TCP ---------------------------------------------------------------------------------------

    def _serve(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.spawn(self._converse(port, reader, writer))

    async def _converse(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        behaviour = self.behaviour
        try:
            try:
                async with asyncio.timeout(5):
                    request = await reader.read(65536)
            except TimeoutError:
                request = b""
            if not request:
                return  # a connect probe: it sends nothing and closes
            if port == 53 and self.honest_dns:
                reply = honest_dns_reply(request[2:], self.honest_dns, self.address)
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
                return
            self.requests += 1
            reply = TCP_REPLIES[port](request)
            kind = behaviour.kind
            if kind == "truncated":
                writer.write(reply[: max(1, behaviour.cut % len(reply))])  # none at all is a mere close
                await writer.drain()
            elif kind == "random":
                writer.write(behaviour.data)
                await writer.drain()
            elif kind == "drip":
                for byte in reply:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(1)
            elif kind == "oversized":
                writer.write(TCP_OVERSIZED_HEADS[port])
                await self._stream(writer, frame=TCP_OVERSIZED_HEADS[port] if port == 135 else None)
            elif kind == "flood" and port in (389, 636):
                await self._stream(writer, frame=_ldap_entry(request))
            elif kind == "flood" and port == 135:
                await self._stream(writer, frame=_DCERPC_FIRST_FRAGMENT)
            else:
                await self._stream(writer)
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _stream(writer: asyncio.StreamWriter, *, frame: bytes | None = None) -> None:
        """Bytes without end, as fast as the client reads them (``frame``: repeated, for DCE/RPC)."""
        chunk = (frame * (65536 // len(frame))) if frame else os.urandom(65536)
        while True:
            writer.write(chunk)
            await writer.drain()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, peer: HostilePeer, port: int) -> None:
        self.peer = peer
        self.port = port
        self.transport: asyncio.DatagramTransport | None = None
        self.raw: socket.socket | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        fd = transport.get_extra_info("socket").fileno()
        self.raw = socket.fromfd(fd, socket.AF_INET, socket.SOCK_DGRAM)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.raw is not None:
            self.raw.close()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.port == 53 and self.peer.honest_dns and self.transport is not None:
            self.transport.sendto(honest_dns_reply(data, self.peer.honest_dns, self.peer.address), addr)
            return
        self.peer.requests += 1
        self.peer.spawn(self._answer(data, addr, self.peer.behaviour))

    async def _answer(self, request: bytes, addr: tuple[str, int], behaviour: Behaviour) -> None:
        assert self.transport is not None
        reply = UDP_REPLIES[self.port](request)

        def send(data: bytes) -> None:
            if data:
                self.transport.sendto(data, addr)  # type: ignore[union-attr]
            else:  # asyncio drops an empty datagram; a duplicate of its socket sends it
                assert self.raw is not None
                self.raw.sendto(b"", addr)

        kind = behaviour.kind
        with contextlib.suppress(OSError):
            if kind == "truncated":
                send(reply[: behaviour.cut % len(reply)])
            elif kind == "random":
                send(behaviour.data)
            elif kind == "oversized":
                big = (reply + os.urandom(MAX_DATAGRAM))[:MAX_DATAGRAM]
                if self.port == 1812:  # RFC 2865 §3: a Length above 4096 (below it, the rest is padding)
                    big = big[:2] + MAX_DATAGRAM.to_bytes(2, "big") + big[4:]
                self.transport.sendto(big, addr)
            elif kind == "drip":
                await asyncio.sleep(UDP_DRIP_DELAY)
                self.transport.sendto(reply[:1], addr)
            else:
                for _ in range(5000):  # a datagram a millisecond, for five seconds at most
                    self.transport.sendto(os.urandom(512), addr)
                    await asyncio.sleep(0.001)


def honest_dns_reply(request: bytes, domain: str, address: str) -> bytes:
    """A true answer for ``domain``: every SRV record a DC locator asks for names ``dc.<domain>``,
    which is at ``address``; other names are NXDOMAIN."""
    import dns.message
    import dns.rcode
    import dns.rrset

    query = dns.message.from_wire(request)
    reply = dns.message.make_response(query)
    question = query.question[0]
    qname = question.name.to_text(omit_final_dot=True).lower()
    host = f"dc.{domain}."
    ports = {"_ldap._tcp": 389, "_kerberos._tcp": 88, "_kerberos._udp": 88, "_gc._tcp": 3268}
    if question.rdtype == 33 and qname.endswith(domain):  # SRV
        service = qname[: -len(domain) - 1].removesuffix(".dc._msdcs")
        port = next((p for s, p in ports.items() if service.startswith(s)), 389)
        reply.answer.append(dns.rrset.from_text(question.name, 600, "IN", "SRV", f"0 100 {port} {host}"))
        reply.additional.append(dns.rrset.from_text(host, 600, "IN", "A", address))
    elif question.rdtype == 1 and qname == host.rstrip("."):
        reply.answer.append(dns.rrset.from_text(question.name, 600, "IN", "A", address))
    elif not qname.endswith(domain):
        reply.set_rcode(dns.rcode.NXDOMAIN)
    reply.flags |= 0x0400  # authoritative
    return reply.to_wire()


@contextlib.contextmanager
def hostile_peer(address: str, **kw: Any) -> Iterator[HostilePeer]:
    """A :class:`HostilePeer` on ``address`` for the ``with`` block."""
    with HostilePeer(address, **kw) as peer:
        yield peer
