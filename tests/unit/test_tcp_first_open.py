"""transport.tcp.first_open: the order given decides, not the fastest answer; none open is None."""

from __future__ import annotations

import asyncio
import socket

from adprep.transport.tcp import first_open
from tests.loopback import unused_port


def test_the_first_candidate_in_order_whose_port_is_open_wins() -> None:
    # Given a listening port on 127.0.0.1 and candidates named by the address to try
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        # 127.0.0.1 and 127.0.0.3 both "answer" only where something listens: only 127.0.0.1 does
        candidates = [("b", "127.0.0.3"), ("a", "127.0.0.1"), ("c", "127.0.0.1")]
        # When the first open one is asked for
        found = asyncio.run(first_open(candidates, lambda c: c[1], port, 1.0))
    # Then it is the first in the order given that completed a handshake
    assert found == ("a", "127.0.0.1")


def test_none_open_is_none() -> None:
    port = unused_port()
    assert asyncio.run(first_open(["127.0.0.1"], str, port, 0.5)) is None
    assert asyncio.run(first_open([], str, port, 0.5)) is None
