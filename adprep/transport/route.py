"""Which local address traffic to a target leaves from (the kernel's route choice)."""

from __future__ import annotations

import _socket  # not socket: its enums cost a TCP sweep's start-up ~1.5 ms (adprep.transport.tcp_sweep)


def source_address_for(target: str) -> str | None:
    """The local address the kernel would use to reach ``target``.

    A UDP socket's connect() only selects a route and a source address: it sends nothing.
    Returns None when there is no route.
    """
    family = _socket.AF_INET6 if ":" in target else _socket.AF_INET
    try:
        sock = _socket.socket(family, _socket.SOCK_DGRAM)
    except OSError:
        return None
    try:
        sock.connect((target, 9))
        return str(sock.getsockname()[0])
    except OSError:
        return None
    finally:
        sock.close()
