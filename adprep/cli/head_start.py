"""A head start for a plain TCP sweep: its connects begin before click and adprep have loaded.

``adprep ports 10.0.0.10 10.0.0.11 --tcp 53,88,389 [--timeout S] [--concurrency N] [--no-rpc]
[--format F]`` waits for its filtered ports' timeout after the tens of milliseconds an interpreter
takes to load the command line. :func:`head_start` reads such a command line with the standard
library only and starts its connects at once (:class:`adprep.transport.early_tcp.EarlyConnects`);
the sweep takes each connect over (a probe's timeout still runs from its own SYN). Since such a
command line holds nothing else for click to read or check, it then runs without click
(:mod:`adprep.cli.plain`).

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
#: ``--format`` when not given (adprep.cli.options.report_options).
DEFAULT_FORMAT = "table"


class Plan:
    """A plain ``adprep ports`` sweep, as click reads its command line (and environment)."""

    __slots__ = ("concurrency", "fmt", "ports", "quiet", "rpc", "targets", "timeout", "vantage")

    def __init__(
        self, targets: list[str], ports: list[int], timeout: float, concurrency: int, fmt: str, rpc: bool,
        vantage: str | None, quiet: bool,
    ) -> None:  # fmt: skip
        self.targets = targets
        self.ports = ports
        self.timeout = timeout
        self.concurrency = concurrency
        self.fmt = fmt
        """``--format``: one of :data:`FORMATS`."""
        self.rpc = rpc
        """Not ``--no-rpc``: ask the endpoint mapper when TCP 135 answers."""
        self.vantage = vantage
        """``--vantage``'s environment variable, ADPREP_VANTAGE (the option itself is not read here)."""
        self.quiet = quiet
        """``adprep -q``: no progress bar."""

    def __repr__(self) -> str:
        return f"Plan({', '.join(f'{k}={getattr(self, k)!r}' for k in self.__slots__)})"


def head_start(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[Plan, EarlyConnects] | None:
    """The plan of ``argv`` and its connects begun, when it is a command line this reads exactly; else None."""
    plan = read_plan(argv, environ)
    if plan is None:
        return None
    from adprep.transport.open_files import usable_concurrency

    pairs = [(a, p) for a in plan.targets for p in plan.ports]
    if len(pairs) > usable_concurrency(plan.concurrency):
        return None  # the sweep would start them in turns: starting all now would exceed its bound
    early = EarlyConnects(plan.timeout)
    early.start(pairs)
    return plan, early


def read_plan(argv: Sequence[str], environ: Mapping[str, str]) -> Plan | None:
    """The plan of a plain ``adprep ports`` sweep, or None."""
    if environ.get("ADPREP_CONFIG"):
        return None
    args = list(argv)
    quiet = False
    while args and args[0] in ("-q", "--quiet"):  # --debug: no head start (its run is not timed)
        quiet = True
        args.pop(0)
    if not args or args.pop(0) != "ports":
        return None
    targets: list[str] = []
    ports: list[int] | None = None
    timeout, concurrency, fmt, rpc = DEFAULT_TIMEOUT, DEFAULT_CONCURRENCY, DEFAULT_FORMAT, True
    seen: set[str] = set()
    while args:
        token = args.pop(0)
        name, eq, inline = token.partition("=")
        if name in ("--debug", "-q", "--quiet"):  # global options: click wants them before "ports"
            return None
        if name == "--no-rpc" and not eq:
            rpc = False
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
            elif value in FORMATS:
                fmt = value
            else:
                return None
            continue
        if token.startswith("-") or not _canonical_ipv4(token):
            return None
        if token not in targets:
            targets.append(token)
    if not targets or not ports:
        return None
    return Plan(targets, ports, timeout, concurrency, fmt, rpc, environ.get("ADPREP_VANTAGE") or None, quiet)


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
