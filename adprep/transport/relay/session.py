"""A relay as a :class:`~adprep.transport.network.Network`: probes gathered into batches, one line each.

Collectors call ``tcp_connect``/``udp_exchange``/… once per probe, as they do locally (typically
hundreds at once under ``asyncio.gather``). Calls made in the same turn of the event loop are sent
to the relay as one batch, so a whole probe phase costs one round trip, and the relay runs the batch
concurrently at the far end.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast, get_args

from adprep.errors import VantageError, WireFormatError
from adprep.facts.exchanges import IcmpEcho, TcpExchange, TcpExchangeOutcome, UdpExchange, UdpOutcome
from adprep.facts.ports import TcpOutcome, TcpProbe
from adprep.transport.relay.channel import RelayChannel
from adprep.wire import relay as wire
from adprep.wire.relay import Framing, Hello

_T = TypeVar("_T", bound=str)


class RelayNetwork:
    """Probes from a remote vantage, through a started relay."""

    def __init__(self, channel: RelayChannel, hello: Hello, *, label: str, concurrency: int = 256) -> None:
        self.channel = channel
        self.hello = hello
        self._label = label
        self._concurrency = concurrency
        self._pending: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = []
        self._flush_scheduled = False
        self._next_id = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        """How many batches (round trips) went to the relay: for tests and benchmarks."""

    @property
    def label(self) -> str:
        return self._label

    @property
    def remote(self) -> bool:
        return True

    async def tcp_connect(self, address: str, port: int, *, timeout: float) -> TcpProbe:
        r = await self._submit(wire.tcp_op(address, port, timeout))
        return TcpProbe(
            address, port, _outcome(r, get_args(TcpOutcome)), _ms(r), _opt(r, "errno"), _opt(r, "source")
        )

    async def udp_exchange(
        self,
        address: str,
        port: int,
        datagrams: Sequence[bytes],
        *,
        timeout: float,
        interval: float | None = None,
    ) -> UdpExchange:
        step = interval if interval is not None else timeout / len(datagrams)
        r = await self._submit(wire.udp_op(address, port, datagrams, timeout=timeout, interval=step))
        reply = r.get("reply")
        outcome = _outcome(r, get_args(UdpOutcome))
        if r.get("errno") == "EAI_NONAME":
            outcome = "unresolved"
        return UdpExchange(
            address,
            port,
            outcome,
            _ms(r),
            _int(r, "attempts"),
            reply=wire.unb64(reply, "reply") if reply is not None else None,
            errno_name=_opt(r, "errno"),
            source=_opt(r, "source"),
            peer=_opt(r, "address"),
        )

    async def tcp_exchange(
        self, address: str, port: int, messages: Sequence[bytes], *, framing: Framing, timeout: float
    ) -> TcpExchange:
        r = await self._submit(wire.tcpx_op(address, port, messages, framing=framing, timeout=timeout))
        replies = r.get("replies") or []
        if not isinstance(replies, list):
            raise WireFormatError("relay reply: replies is not a list")
        return TcpExchange(
            address,
            port,
            _outcome(r, get_args(TcpExchangeOutcome)),
            _ms(r),
            tuple(wire.unb64(x, "reply") for x in replies),
            _opt(r, "errno"),
            _opt(r, "source"),
        )

    async def source_address(self, address: str) -> str | None:
        return _opt(await self._submit(wire.route_op(address)), "source")

    async def icmp_echo(self, address: str, *, timeout: float) -> IcmpEcho:
        # The relays only open TCP and UDP sockets (ICMP needs a raw or ping socket, often root at
        # the far end): the relay protocol has no ICMP operation, so nothing is sent.
        return IcmpEcho(address, "not_carried", detail=f"the relay at {self._label} carries no ICMP")

    # -- batching --------------------------------------------------------------------------------

    async def _submit(self, op: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending.append((op, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            # After every task already scheduled in this turn has submitted its probe.
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        pending, self._pending, self._flush_scheduled = self._pending, [], False
        if not pending:
            return
        task = asyncio.get_running_loop().create_task(self._run(pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, pending: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]]) -> None:
        self._next_id += 1
        self.batches += 1
        ops = [op for op, _ in pending]
        left = len(ops)
        lines = self.channel.stream(wire.encode_batch(self._next_id, ops, concurrency=self._concurrency))
        try:
            async for line in lines:
                _, results = wire.parse_results(line)
                for index, result in results:
                    if not 0 <= index < len(pending):
                        raise WireFormatError(f"relay reply: a result for op {index} of {len(pending)}")
                    future = pending[index][1]
                    if not future.done():
                        future.set_result(result)
                        left -= 1
                if left == 0:
                    break
            else:
                raise WireFormatError(f"relay reply: {left} of {len(ops)} probes got no result")
        except (VantageError, WireFormatError) as e:
            for _, future in pending:
                if not future.done():
                    future.set_exception(e)
        finally:
            await lines.aclose()


def batch_deadline(ops: Sequence[Mapping[str, Any]], concurrency: int, *, slack: float = 10.0) -> float:
    """How long a batch may take at the far end: its waves of probes, each bounded by a timeout."""
    longest = max((float(op.get("timeout", 0.0)) for op in ops), default=0.0)
    return longest * math.ceil(len(ops) / max(concurrency, 1)) + slack


def _outcome(r: Mapping[str, Any], allowed: tuple[_T, ...]) -> _T:
    value = r.get("outcome")
    if value not in allowed:
        detail = r.get("detail")
        if value == "error":
            return cast(_T, "error")
        raise WireFormatError(
            f"relay reply: outcome {value!r} is not one adprep knows ({detail or 'no detail'})"
        )
    return cast(_T, value)


def _ms(r: Mapping[str, Any]) -> float:
    value = r.get("ms", 0.0)
    if not isinstance(value, int | float):
        raise WireFormatError("relay reply: ms is not a number")
    return float(value)


def _int(r: Mapping[str, Any], key: str) -> int:
    value = r.get(key, 0)
    if not isinstance(value, int):
        raise WireFormatError(f"relay reply: {key} is not a number")
    return value


def _opt(r: Mapping[str, Any], key: str) -> str | None:
    value = r.get(key)
    return None if value is None else str(value)
