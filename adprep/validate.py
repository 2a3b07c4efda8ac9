"""Input validation shared by commands: addresses, ports, subnets, timeouts. Each failure is one sentence
(:class:`adprep.errors.InputError`) raised before any network traffic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from adprep.errors import InputError

if TYPE_CHECKING:
    import ipaddress

    Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# ipaddress loads in the functions that use it: a TCP sweep of addresses the head start already read
# (adprep.cli.plain) needs only this module's range checks.


def parse_port_list(text: str, *, option: str) -> tuple[int, ...]:
    """``"53,88,1024-1030"`` → ports. Ranges are inclusive."""
    ports: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo_s, sep, hi_s = part.partition("-")
        try:
            lo = int(lo_s)
            hi = int(hi_s) if sep else lo
        except ValueError:
            raise InputError(
                f"{option} {text!r}: {part!r} is not a port number",
                hint="Give numbers from 1 to 65535, separated by commas (ranges like 1024-1030 work).",
            ) from None
        if not (1 <= lo <= hi <= 65535):
            raise InputError(
                f"{option} {text!r}: {part!r} is outside 1-65535", hint="Give ports from 1 to 65535."
            )
        if hi - lo > 4096:
            raise InputError(
                f"{option} {text!r}: the range {part} is too wide to test",
                hint="For dynamic RPC ports, let adprep ask the endpoint mapper instead of sweeping.",
            )
        ports.extend(range(lo, hi + 1))
    return tuple(dict.fromkeys(ports))


def is_address(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address (else it is a host name)."""
    import ipaddress

    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


def parse_address(text: str, *, what: str = "target") -> str:
    """An IPv4 or IPv6 address (normalised)."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise InputError(
            f"The {what} {text!r} is not an IP address",
            hint="Give the domain controllers' IP addresses (to find them from DNS, use 'adprep preflight').",
        ) from None


def parse_addresses(texts: Iterable[str], *, what: str = "target") -> tuple[str, ...]:
    """Each text (repeated, or comma-separated) as an IP address, each once, in order."""
    out: list[str] = []
    for text in texts:
        out.extend(parse_address(t, what=what) for t in text.split(",") if t.strip())
    return tuple(dict.fromkeys(out))


def check_timeout(value: float, *, option: str = "--timeout") -> float:
    """``option``'s seconds: above 0 and at most 60, else :class:`InputError`."""
    if not (0 < value <= 60):
        raise InputError(
            f"{option} {value} is out of range", hint="Give a number of seconds above 0 and at most 60."
        )
    return float(value)


def check_concurrency(value: int) -> int:
    """``--concurrency``: 1 to 4096, else :class:`InputError`."""
    if not (1 <= value <= 4096):
        raise InputError(f"--concurrency {value} is out of range", hint="Give a number from 1 to 4096.")
    return value


def parse_subnets(texts: Sequence[str]) -> tuple[Network, ...]:
    """``--subnet`` values (repeatable, or comma-separated): networks in CIDR form with no host bits set."""
    import ipaddress

    out: list[Network] = []
    if isinstance(texts, str):  # a config file's `subnets = "10.1.1.0/24"`
        texts = (texts,)
    for part in (t.strip() for text in texts for t in str(text).split(",")):
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=True))
        except ValueError:
            try:
                loose = ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise InputError(
                    f"--subnet {part!r} is not a network in CIDR form",
                    hint="Give each AD Connector subnet as it is in the VPC, e.g. 10.1.1.0/24.",
                ) from None
            raise InputError(f"--subnet {part} has host bits set", hint=f"Did you mean {loose}?") from None
    return tuple(dict.fromkeys(out))
