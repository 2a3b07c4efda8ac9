"""Which local address traffic to a target leaves from (the kernel's route choice)."""

from __future__ import annotations

import socket


def source_address_for(target: str) -> str | None:
    """The local address the kernel would use to reach ``target``.

    A UDP socket's connect() only selects a route and a source address: it sends nothing.
    Returns None when there is no route.
    """
    family = socket.AF_INET6 if ":" in target else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((target, 9))
            return str(sock.getsockname()[0])
    except OSError:
        return None
