"""The channel to a relay: start it, exchange batch lines with it, stop it."""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator

from adprep.wire.relay import Hello


class RelayChannel(abc.ABC):
    """One relay at one vantage. Implementations raise :class:`~adprep.errors.VantageError`."""

    #: How the vantage is reached, for reports (``ssh://bastion``); never holds a secret.
    via: str

    @abc.abstractmethod
    async def open(self) -> Hello:
        """Start the relay and read its hello line."""

    @abc.abstractmethod
    async def exchange(self, batch: bytes) -> bytes:
        """Send one batch line (``wire.relay.encode_batch``) and return its result line.

        Several exchanges may be in flight at once.
        """

    async def stream(self, batch: bytes) -> AsyncGenerator[bytes, None]:
        """Send one batch line and yield its result lines as they come (the caller stops reading when
        every op has its result). By default, the one line of :meth:`exchange`."""
        yield await self.exchange(batch)

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop the relay; never raises."""
