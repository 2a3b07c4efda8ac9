"""Where probes run from: the admin's host (``local``) or a relay reached over SSH or WinRM. Pure.

``--via`` takes ``local``, ``ssh://[user@]host[:port]``, ``winrm://[user@]host[:port]`` or
``winrms://[user@]host[:port]``, optionally ``LABEL=`` in front (the name reports use; default: the
host) and ``?subnet=CIDR`` behind (the AD Connector subnet the relay stands in, which the run then
checks it really does). The config file's ``[[vantage]]`` tables say the same with keys ``label``,
``via`` and ``subnet``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from adprep.errors import InputError

if TYPE_CHECKING:
    import ipaddress

    from adprep.secret import Secret

# urllib.parse and ipaddress load only when a --via is parsed: a TCP sweep from this host, which
# needs this module's RelayOptions, does not pay for them (~2 ms of its start-up).

Kind = Literal["local", "ssh", "winrm", "winrms"]
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_DEFAULT_PORTS = {"ssh": None, "winrm": 5985, "winrms": 5986}
_FORMS = "local, ssh://[user@]host[:port], winrm://[user@]host[:port] or winrms://[user@]host[:port]"


@dataclass(frozen=True)
class RelayOptions:
    """How to reach relays: SSH client config, WinRM credentials and trust, limits."""

    ssh_config: str | None = None
    """An OpenSSH client config file (``ssh -F``); default: the user's own (~/.ssh/config)."""
    connect_timeout: float = 10.0
    winrm_user: str | None = None
    winrm_password: Secret | None = None
    winrm_auth: str = "ntlm"
    winrm_ca_file: str | None = None
    winrm_verify: bool = True
    concurrency: int = 256
    source: str | None = None
    """Bind this host's own probes to this local address (``--source``)."""


@dataclass(frozen=True)
class VantageSpec:
    """One vantage the user asked for."""

    label: str
    kind: Kind
    host: str | None = None
    port: int | None = None
    """None for SSH without a port: OpenSSH (and ~/.ssh/config) decides."""
    user: str | None = None
    subnet: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    """The AD Connector subnet this vantage stands in, when given."""

    @property
    def via(self) -> str:
        """The URL form, for reports (never holds a secret)."""
        if self.kind == "local":
            return "local"
        who = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.kind}://{who}{host}{port}"


def parse_vantage(text: str, *, label: str | None = None, subnet: str | None = None) -> VantageSpec:
    """``[LABEL=]URL[?subnet=CIDR]`` → a spec; :class:`InputError` with the accepted forms otherwise."""
    raw = text.strip()
    if label is None and "=" in raw.split("://", 1)[0]:
        label, raw = (part.strip() for part in raw.split("=", 1))
    if raw == "local":
        spec = VantageSpec(label=label or "local", kind="local")
        return _with_subnet(spec, subnet)
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        raise InputError(f"--via {text!r} is not a vantage adprep knows", hint=f"Use {_FORMS}.")
    if parts.password is not None:
        raise InputError(
            f"--via {parts.scheme}://… holds a password",
            hint="Passwords never go on the command line: for WinRM use ADPREP_WINRM_PASSWORD or "
            "--winrm-password-file; for SSH use keys or your SSH agent.",
        )
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"--via {text!r} has a port that is not a number from 1 to 65535",
                         hint=f"Use {_FORMS}.") from None  # fmt: skip
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"subnet"}
    if unknown:
        raise InputError(f"--via {text!r} has an unknown parameter {sorted(unknown)[0]!r}",
                         hint="The only parameter is ?subnet=CIDR.")  # fmt: skip
    if "subnet" in query:
        subnet = subnet or query["subnet"][-1]
    spec = VantageSpec(
        label=label or parts.hostname,
        kind=scheme,  # type: ignore[arg-type]
        host=parts.hostname,
        port=port if port is not None else _DEFAULT_PORTS[scheme],
        # Percent-encoded in the URL when it holds '@' (a UPN) or a backslash (DOMAIN\user).
        user=unquote(parts.username) if parts.username else None,
    )
    return _with_subnet(spec, subnet)


def _with_subnet(spec: VantageSpec, subnet: str | None) -> VantageSpec:
    if not _LABEL.match(spec.label):
        raise InputError(
            f"The vantage label {spec.label!r} is not usable in check ids",
            hint="Use letters, digits, '.', '_' and '-' (e.g. subnet-a=ssh://10.1.1.23).",
        )
    if subnet is None:
        return spec
    import ipaddress

    try:
        network = ipaddress.ip_network(subnet.strip(), strict=False)
    except ValueError:
        raise InputError(f"The subnet {subnet!r} of vantage {spec.label} is not a CIDR block",
                         hint="Give it as 10.1.1.0/24.") from None  # fmt: skip
    return VantageSpec(spec.label, spec.kind, spec.host, spec.port, spec.user, network)


def vantages_from(via: Iterable[str], config: Iterable[Mapping[str, object]] = ()) -> tuple[VantageSpec, ...]:
    """``--via`` values, or else the config file's ``[[vantage]]`` tables (flags win), labels unique."""
    specs: list[VantageSpec] = [parse_vantage(v) for v in via]
    if not specs:
        for table in config:
            text = table.get("via")
            if not isinstance(text, str):
                raise InputError("A [[vantage]] table has no 'via'", hint=f"Give via = one of {_FORMS}.")
            label, subnet = table.get("label"), table.get("subnet")
            specs.append(
                parse_vantage(
                    text, label=str(label) if label else None, subnet=str(subnet) if subnet else None
                )
            )
    seen: set[str] = set()
    for spec in specs:
        if spec.label in seen:
            raise InputError(f"Two vantages are labelled {spec.label!r}",
                             hint="Give each one its own label: LABEL=URL, or label = in [[vantage]].")  # fmt: skip
        seen.add(spec.label)
    return tuple(specs)
