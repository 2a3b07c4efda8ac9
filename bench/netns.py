"""A filtered peer for benchmarks: a network namespace of our own, reached over a veth pair, that
drops everything it receives. Its address (RFC 2544 benchmark range, apart from the routed lab's 198.18.0.x) exists only inside it."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

HOST_SIDE = "198.19.255.1"
FILTERED = "198.19.255.2"
PREFIX = 27


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


@contextlib.contextmanager
def filtered_peer() -> Iterator[str]:
    """Yield an address whose every port is filtered (packets dropped inside our namespace)."""
    with filtered_peers(1) as peers:
        yield peers[0]


@contextlib.contextmanager
def filtered_peers(count: int) -> Iterator[list[str]]:
    """Yield ``count`` (at most 29) addresses whose every port is filtered, all inside our namespace."""
    base = int(FILTERED.rsplit(".", 1)[1])
    peers = [f"{FILTERED.rsplit('.', 1)[0]}.{base + i}" for i in range(count)]
    ns, a, b = f"adpb{os.getpid()}", f"adpa{os.getpid() % 10000}", f"adpz{os.getpid() % 10000}"
    _run("ip", "netns", "add", ns)
    try:
        _run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        _run("ip", "link", "set", b, "netns", ns)
        _run("ip", "addr", "add", f"{HOST_SIDE}/{PREFIX}", "dev", a)
        _run("ip", "link", "set", a, "up")
        ex = ("ip", "netns", "exec", ns)
        for peer in peers:
            _run(*ex, "ip", "addr", "add", f"{peer}/{PREFIX}", "dev", b)
        _run(*ex, "ip", "link", "set", b, "up")
        _run(*ex, "ip", "link", "set", "lo", "up")
        _run(*ex, "nft", "add", "table", "inet", "f")
        _run(*ex, "nft", "add", "chain", "inet", "f", "in", "{ type filter hook input priority 0; }")
        _run(*ex, "nft", "add", "rule", "inet", "f", "in", "drop")
        yield peers
    finally:
        subprocess.run(["ip", "link", "delete", a], capture_output=True)
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
