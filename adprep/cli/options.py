"""Options shared by several commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from adprep.checks.drift import Baseline
    from adprep.transport.ldap_settings import DirectorySettings
    from adprep.vantage import RelayOptions, VantageSpec

F = TypeVar("F", bound=Callable[..., Any])


def report_options(func: F) -> F:
    """--format, --output, --vantage, --redact, --baseline.

    ``--redact`` and ``--baseline`` do not reach the command: the baseline is read and checked here,
    before the command runs (a bad one is exit 2 before any traffic), and both go to
    ``App.emit_report`` through the app object.
    """

    command = func

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from adprep.cli.app import App, ReportSettings

        redact = bool(kwargs.pop("redact"))
        baseline_path: Path | None = kwargs.pop("baseline")
        ctx = click.get_current_context()
        baseline = read_baseline(baseline_path, command_path=ctx.command_path) if baseline_path else None
        app = ctx.find_object(App)
        if app is not None:
            app.report_settings = ReportSettings(redact=redact, baseline=baseline)
        return command(*args, **kwargs)

    func = wrapper  # type: ignore[assignment]
    func = click.option(
        "--baseline",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="An earlier JSON report of the same command: also report what changed since (new failures, "
        "fixed ones, new or vanished DCs, changed verdicts). Exit status 5 when something regressed.",
    )(func)
    func = click.option(
        "--redact",
        is_flag=True,
        help="Replace domain, host and user names, addresses and DNs by stable tokens (DC-1, DOMAIN-1, "
        "USER-1…) in every format, for sharing the report.",
    )(func)
    func = click.option(
        "--vantage",
        metavar="LABEL",
        envvar="ADPREP_VANTAGE",
        help="Where this run happens (e.g. aws-adc-subnet-a), recorded in the report. Env: ADPREP_VANTAGE.",
    )(func)
    func = click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Write the report to FILE instead of stdout.",
    )(func)
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "junit", "markdown", "html", "openmetrics"]),
        default="table",
        show_default=True,
        help="Report format: a table for people, JSON (schema adprep/schema/report-v1.json), JUnit XML, "
        "Markdown, one self-contained HTML page, or OpenMetrics text (node_exporter textfile collector, "
        "Pushgateway).",
    )(func)
    return func


def read_baseline(path: Path, *, command_path: str) -> Baseline:
    """The ``--baseline`` report at ``path``, checked: an adprep JSON report of the same command."""
    import json

    from adprep.checks.drift import parse_baseline
    from adprep.errors import InputError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "it is not UTF-8 text"
        raise InputError(
            f"Cannot read the baseline {path}: {why}", hint="Pass a JSON report written by --format json."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(
            f"The baseline {path} is not JSON ({e.msg} at line {e.lineno})",
            hint="Pass a report written by --format json.",
        ) from None
    baseline = parse_baseline(data, source=str(path))
    command = command_path.split(" ", 1)[1] if " " in command_path else command_path
    if command != baseline.command and not command.startswith(baseline.command + " "):
        raise InputError(
            f"The baseline {path} is a report of 'adprep {baseline.command}', not of 'adprep {command}'",
            hint="Compare a run with an earlier run of the same command.",
        )
    return baseline


def config_option(func: F) -> F:
    """The ``--config`` option (``ADPREP_CONFIG``): a TOML file with the same inputs as the flags."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(exists=False, dir_okay=False, path_type=Path),
        envvar="ADPREP_CONFIG",
        help="A TOML file with the same inputs as the flags (flags win). Env: ADPREP_CONFIG.",
    )(func)


def plan_options(func: F) -> F:
    """--dry-run and --format for write commands."""
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Show the plan (and what was applied) as a table or as JSON (schema adprep/schema/plan-v1.json).",
    )(func)
    func = click.option(
        "--dry-run", is_flag=True, help="Show the changes that would be made; write nothing."
    )(func)
    return func


_DIRECTORY_KEYS = (
    "dc", "dns_ips", "domain", "user", "password_file", "dc_name", "ldap_mode", "ca_file", "insecure",
)  # fmt: skip


@dataclass(frozen=True)
class DirectoryOptions:
    """The raw ``--dc/--domain/--user/...`` values of one invocation; ``settings()`` validates them."""

    dc: str | None
    dns_ips: tuple[str, ...]
    domain: str | None
    user: str | None
    password_file: Path | None
    dc_name: str | None
    ldap_mode: str
    ca_file: str | None
    insecure: bool

    def base_dn(self) -> str:
        """The domain's DN, for validating paths before any password is asked for."""
        from adprep.errors import InputError

        if not self.domain:
            raise InputError(
                "No domain given", hint="Pass --domain with the AD domain's DNS name, e.g. corp.example.com."
            )
        return ",".join(f"DC={label}" for label in self.domain.strip().rstrip(".").lower().split("."))

    def settings(self) -> DirectorySettings:
        """Validated settings, with the password read from its source (file, env, prompt) and the DC
        resolved or located (on a terminal, stderr says which DC was found and how)."""
        import sys

        from adprep.jobs.directory_session import directory_settings

        found = directory_settings(
            dc=self.dc, domain=self.domain, user=self.user, password_file=self.password_file,
            dc_name=self.dc_name, mode=self.ldap_mode, ca_file=self.ca_file, insecure=self.insecure,
            prompt=prompt_password, dns_ips=self.dns_ips,
        )  # fmt: skip
        if found.located and sys.stderr.isatty():
            click.echo(f"adprep: domain controller {found.located}", err=True)
        return found


def directory_options(func: F) -> F:
    """How to reach and bind to a domain controller (shared by every LDAP command).

    The command receives them as one keyword argument, ``dc_options: DirectoryOptions``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["dc_options"] = DirectoryOptions(**{k: kwargs.pop(k) for k in _DIRECTORY_KEYS})
        return func(*args, **kwargs)

    opts = [
        click.option(
            "--dc",
            metavar="HOST|ADDRESS",
            envvar="ADPREP_DC",
            help="The domain controller: its host name (TLS is verified against it) or IP address. Without it, a "
            "writable DC of --domain is found through DNS (_ldap._tcp.dc._msdcs), as Windows' DC locator does. "
            "Env: ADPREP_DC.",
        ),
        click.option(
            "--dns-ip",
            "dns_ips",
            multiple=True,
            metavar="IP",
            envvar="ADPREP_DNS_IP",
            help="A DNS server to find the DC with (--dc as a host name, or no --dc); default: this host's "
            "resolver. Repeatable. Env: ADPREP_DNS_IP.",
        ),
        click.option(
            "--domain",
            metavar="FQDN",
            envvar="ADPREP_DOMAIN",
            help="The AD domain, e.g. corp.example.com. Env: ADPREP_DOMAIN.",
        ),
        click.option(
            "--user",
            metavar="NAME",
            envvar="ADPREP_USER",
            help="Account to bind as (name, UPN or DN). Env: ADPREP_USER.",
        ),
        click.option(
            "--password-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File holding the password (else env ADPREP_PASSWORD, else a prompt on a terminal).",
        ),
        click.option(
            "--dc-name",
            metavar="FQDN",
            help="Verify the DC's TLS certificate against this name instead (for a certificate that names neither "
            "the host name --dc gives or DNS finds, nor the address).",
        ),
        click.option(
            "--ldap-mode",
            type=click.Choice(["ldaps", "starttls", "plain"]),
            default="ldaps",
            show_default=True,
            help="LDAPS on 636, StartTLS on 389, or plain LDAP (passwords in clear: lab use only).",
        ),
        click.option(
            "--ca-file",
            type=click.Path(dir_okay=False),
            help="PEM CA bundle that signed the DC's certificate.",
        ),
        click.option(
            "--insecure", is_flag=True, help="Do not verify the DC's certificate (not recommended)."
        ),
    ]
    decorated: Any = wrapper
    for opt in reversed(opts):
        decorated = opt(decorated)
    return decorated  # type: ignore[no-any-return]


def prompt_password(label: str) -> str:
    """Ask for a password on the terminal without echo."""
    return str(click.prompt(label, hide_input=True, default="", show_default=False))


_VIA_KEYS = ("via", "ssh_config", "winrm_password_file", "winrm_ca_file", "winrm_auth")


@dataclass(frozen=True)
class ViaOptions:
    """The raw ``--via`` options of one invocation; ``resolve()`` validates them with the config file."""

    via: tuple[str, ...]
    ssh_config: Path | None
    winrm_password_file: Path | None
    winrm_ca_file: Path | None
    winrm_auth: str | None

    def specs(self, config: dict[str, Any]) -> tuple[VantageSpec, ...]:
        """The vantages: ``--via`` flags, else the config file's ``[[vantage]]`` tables. Pure validation."""
        from adprep.errors import ConfigError
        from adprep.vantage import vantages_from

        tables = config.get("vantage", [])
        if isinstance(tables, str):
            return ()  # vantage = "label": names this host, as before [[vantage]] tables existed
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ConfigError(
                "'vantage' in the config file must be a list of tables ([[vantage]])",
                hint="See the README example.",
            )
        return vantages_from(self.via, tables)

    def relay(
        self, config: dict[str, Any], specs: tuple[VantageSpec, ...], *, concurrency: int = 256
    ) -> RelayOptions:
        """How to reach the relays; reads the WinRM password (file, ADPREP_WINRM_PASSWORD, prompt) only
        when a WinRM vantage is named, so call it after every other input is checked."""
        from adprep import config as cfg
        from adprep.errors import InputError
        from adprep.vantage import RelayOptions

        relay = cfg.section(config, "relay")
        ssh_config = self.ssh_config or _opt_path(relay.get("ssh_config"))
        if ssh_config is not None and not ssh_config.is_file():
            raise InputError(
                f"The SSH config file {ssh_config} does not exist", hint="Check the --ssh-config path."
            )
        password = None
        if any(s.kind in ("winrm", "winrms") for s in specs):
            from adprep.secrets import read_secret

            password = read_secret(
                what="the WinRM password",
                env_var="ADPREP_WINRM_PASSWORD",
                file=self.winrm_password_file or _opt_path(relay.get("winrm_password_file")),
                prompt=prompt_password,
            )
        ca = self.winrm_ca_file or _opt_path(relay.get("winrm_ca_file"))
        return RelayOptions(
            ssh_config=str(ssh_config) if ssh_config else None,
            winrm_password=password,
            winrm_auth=str(self.winrm_auth or relay.get("winrm_auth") or "ntlm"),
            winrm_ca_file=str(ca) if ca else None,
            concurrency=concurrency,
        )


def _opt_path(value: object) -> Path | None:
    return Path(str(value)).expanduser() if value else None


def vantage_options(func: F) -> F:
    """--via (repeatable) and how to reach relays; the command gets ``via_options: ViaOptions``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["via_options"] = ViaOptions(**{k: kwargs.pop(k) for k in _VIA_KEYS})
        return func(*args, **kwargs)

    opts = [
        click.option(
            "--via",
            multiple=True,
            metavar="[LABEL=]URL",
            help="Also (or instead) probe from another host, e.g. one in AD Connector's subnets: local, "
            "ssh://[user@]host[:port], winrm://… or winrms://[user@]host[:port]; add ?subnet=CIDR to check "
            "the relay stands in that subnet. Repeatable: all vantages run at once, one report. "
            "Nothing is installed there (SSH needs python3 3.7+, WinRM PowerShell 5.1).",
        ),
        click.option(
            "--ssh-config",
            type=click.Path(dir_okay=False, path_type=Path),
            help="An OpenSSH client config file for ssh:// vantages (default: yours, ~/.ssh/config).",
        ),
        click.option(
            "--winrm-password-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File holding the WinRM password (else env ADPREP_WINRM_PASSWORD, else a prompt).",
        ),
        click.option(
            "--winrm-ca-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="PEM CA bundle that signed the WinRM listener's certificate (winrms://).",
        ),
        click.option(
            "--winrm-auth",
            type=click.Choice(["ntlm", "kerberos"]),
            help="WinRM authentication (default ntlm).",
        ),
    ]
    decorated: Any = wrapper
    for opt in reversed(opts):
        decorated = opt(decorated)
    return decorated  # type: ignore[no-any-return]
