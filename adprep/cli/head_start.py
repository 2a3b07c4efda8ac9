"""A head start for a plain TCP sweep: its connects begin before click and adprep have loaded.

``adprep ports 10.0.0.10 10.0.0.11 --tcp 53,88,389 [--timeout S] [--concurrency N] [--no-rpc]
[--format F]`` waits for its filtered ports' timeout after the tens of milliseconds an interpreter
takes to load the command line. :func:`head_start` reads such a command line with the standard
library only and starts its connects at once (:class:`adprep.transport.early_tcp.EarlyConnects`);
the command then parses its arguments with click as always, and the sweep takes each connect over
(a probe's timeout still runs from its own SYN).

It is deliberately narrow. Anything it does not read exactly as click will (another option, a host
name, ``127.1``, a port range, ``--config`` or ``ADPREP_CONFIG``, more pairs than the concurrency
lets run at once, a value click would refuse) means no head start: the run is as before, and a
command that ends in a usage error has sent nothing. ``tests/unit/test_head_start.py`` holds it to
click's reading of the same command lines.
"""

from __future__ import annotations

import _socket  # socket's wrapper loads enum and selectors: not before the connects
from _collections_abc import Mapping, Sequence  # collections.abc without loading collections

from adprep.transport.early_tcp import EarlyConnects

#: click's choices for ``--format`` (adprep.cli.options.report_options; a test keeps them equal).
FORMATS = ("table", "json", "junit", "markdown", "html", "openmetrics")
#: ``--timeout`` and ``--concurrency`` when not given (adprep.cli.commands.ports).
DEFAULT_TIMEOUT = 2.0
DEFAULT_CONCURRENCY = 256


def head_start(argv: Sequence[str], environ: Mapping[str, str]) -> EarlyConnects | None:
    """The connects of ``argv`` begun, when it is a command line this reads exactly; else None."""
    plan = read_plan(argv, environ)
    if plan is None:
        return None
    targets, ports, timeout, concurrency = plan
    from adprep.transport.open_files import usable_concurrency

    pairs = [(a, p) for a in targets for p in ports]
    if len(pairs) > usable_concurrency(concurrency):
        return None  # the sweep would start them in turns: starting all now would exceed its bound
    early = EarlyConnects(timeout)
    early.start(pairs)
    return early


def read_plan(
    argv: Sequence[str], environ: Mapping[str, str]
) -> tuple[list[str], list[int], float, int] | None:
    """(targets, TCP ports, timeout, concurrency) of a plain ``adprep ports`` sweep, or None."""
    if environ.get("ADPREP_CONFIG"):
        return None
    args = list(argv)
    while args and args[0] in ("--debug", "-q", "--quiet"):
        args.pop(0)
    if not args or args.pop(0) != "ports":
        return None
    targets: list[str] = []
    ports: list[int] | None = None
    timeout, concurrency = DEFAULT_TIMEOUT, DEFAULT_CONCURRENCY
    seen: set[str] = set()
    while args:
        token = args.pop(0)
        name, eq, inline = token.partition("=")
        if name in ("--debug", "-q", "--quiet"):  # global options: click wants them before "ports"
            return None
        if name == "--no-rpc" and not eq:
            continue
        if name in ("--tcp", "--timeout", "--concurrency", "--format"):
            if name in seen:  # click keeps the last; simpler not to guess
                return None
            seen.add(name)
            if eq:
                value = inline
            elif args:
                value = args.pop(0)
            else:
                return None
            if name == "--tcp":
                ports = _ports(value)
                if ports is None:
                    return None
            elif name == "--timeout":
                timeout = _number(value, float, 0.0, 60.0)
                if not timeout:
                    return None
            elif name == "--concurrency":
                concurrency = int(_number(value, int, 0, 4096))
                if not concurrency:
                    return None
            elif value not in FORMATS:
                return None
            continue
        if token.startswith("-") or not _canonical_ipv4(token):
            return None
        if token not in targets:
            targets.append(token)
    if not targets or not ports:
        return None
    return targets, ports, timeout, concurrency


def _ports(text: str) -> list[int] | None:
    """``53,88,389``: plain port numbers 1-65535 (no ranges, no blanks), each once, in order."""
    out: list[int] = []
    for part in text.split(","):
        if not (part.isascii() and part.isdigit()) or not (1 <= int(part) <= 65535):
            return None
        if int(part) not in out:
            out.append(int(part))
    return out


def _number(text: str, kind: type[float] | type[int], low: float, high: float) -> float:
    """``text`` as ``kind`` when above ``low`` and at most ``high``; else 0 (none)."""
    if not text.isascii() or text != text.strip():
        return 0
    try:
        value = kind(text)
    except ValueError:
        return 0
    return value if low < value <= high else 0


def _canonical_ipv4(text: str) -> bool:
    """Whether ``text`` is an IPv4 address written as adprep would print it (no ``127.1``, no 010)."""
    try:
        return _socket.inet_ntop(_socket.AF_INET, _socket.inet_pton(_socket.AF_INET, text)) == text
    except (OSError, ValueError):
        return False
