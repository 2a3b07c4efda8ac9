"""``adprep radius``: AD Connector's RADIUS MFA settings and live RADIUS probes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from adprep import config as cfg
from adprep import requirements as req
from adprep.cli.app import App, Format
from adprep.cli.options import ViaOptions, config_option, prompt_password, report_options, vantage_options
from adprep.errors import ConfigError
from adprep.secrets import read_secret

if TYPE_CHECKING:
    from adprep.jobs.radius import RadiusSettings
from adprep.validate import parse_address

SECRET_ENV = "ADPREP_RADIUS_SECRET"
USER_PASSWORD_ENV = "ADPREP_RADIUS_USER_PASSWORD"
DEFAULT_TIMEOUT = 5.0
DEFAULT_RETRIES = 4


@click.group()
def radius() -> None:
    """Validate AD Connector's RADIUS MFA settings and probe RADIUS servers."""


@radius.command()
@click.option(
    "--server",
    "servers",
    multiple=True,
    metavar="HOST",
    help="A RADIUS server's IP address or FQDN (repeat for several).",
)
@click.option("--port", type=int, help=f"UDP port of the RADIUS servers (default {req.RADIUS_PORT_DEFAULT}).")
@click.option(
    "--protocol",
    metavar="NAME",
    help=f"One of {', '.join(req.RADIUS_PROTOCOLS)} (default PAP).",
)
@click.option(
    "--timeout", type=float, help=f"Seconds to wait for each attempt (default {DEFAULT_TIMEOUT:g})."
)
@click.option(
    "--retries", type=int, help=f"Retransmissions after the first attempt (default {DEFAULT_RETRIES})."
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"File holding the shared secret. Else env {SECRET_ENV}, else a prompt on a terminal.",
)
@click.option("--user", metavar="NAME", help="Log in as this real user instead of AWS's 'fakeusername'.")
@click.option(
    "--user-password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"File holding --user's password. Else env {USER_PASSWORD_ENV}, else a prompt on a terminal.",
)
@click.option("--source", metavar="ADDR", help="Send the probes from this local address.")
@click.option("--no-probe", is_flag=True, help="Validate the settings only; send nothing.")
@vantage_options
@config_option
@report_options
@click.pass_obj
def check(
    app: App,
    *,
    servers: tuple[str, ...],
    port: int | None,
    protocol: str | None,
    timeout: float | None,
    retries: int | None,
    secret_file: Path | None,
    user: str | None,
    user_password_file: Path | None,
    source: str | None,
    no_probe: bool,
    config_path: Path | None,
    fmt: Format,
    output: Path | None,
    vantage: str | None,
    via_options: ViaOptions,
) -> int:
    """Check the RADIUS MFA settings against AD Connector's limits, then send each server the
    Access-Request AWS sends when MFA is enabled (user 'fakeusername', Message-Authenticator first).

    Run it from a host registered as a RADIUS client, as AD Connector's two addresses must be.

    \b
    Examples:
      ADPREP_RADIUS_SECRET=... adprep radius check --server 10.0.0.5 --protocol MS-CHAPv2
      adprep radius check --config preflight.toml --secret-file radius.secret --format json
      adprep radius check --server 10.0.0.5 --user alice --user-password-file alice.pw
      adprep radius check --server 10.0.0.5 --via subnet-a=ssh://10.1.1.23 --via subnet-b=ssh://10.1.2.40
    """
    from adprep.jobs.radius import run_radius

    whole = cfg.load_config(config_path)
    specs = via_options.specs(whole)
    conf = cfg.section(whole, "radius")
    settings = radius_settings_from_config(
        conf,
        servers=servers,
        port=port,
        protocol=protocol,
        timeout=timeout,
        retries=retries,
        secret_file=secret_file,
        user=user,
        user_password_file=user_password_file,
        source=source,
        no_probe=no_probe,
        vantage=vantage,
    )
    relay = dataclasses.replace(via_options.relay(whole, specs), source=settings.relay.source)
    report = run_radius(dataclasses.replace(settings, vantages=specs, relay=relay))
    return int(app.emit_report(report, fmt=fmt, output=output))


def radius_settings_from_config(
    conf: dict[str, Any],
    *,
    servers: tuple[str, ...] = (),
    port: int | None = None,
    protocol: str | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    secret_file: Path | None = None,
    user: str | None = None,
    user_password_file: Path | None = None,
    source: str | None = None,
    no_probe: bool = False,
    vantage: str | None = None,
) -> RadiusSettings:
    """Flags over the ``[radius]`` config section, secrets from their sources: shared with preflight."""
    from adprep.jobs.radius import radius_settings

    server_list = cfg.pick(servers, conf, "servers", ())
    if isinstance(server_list, str):
        server_list = [server_list]
    secret_path = secret_file or _path(conf.get("secret_file"), "secret_file")
    password_path = user_password_file or _path(conf.get("user_password_file"), "user_password_file")
    real_user = cfg.pick(user, conf, "user")
    source_text = cfg.pick(source, conf, "source")
    secret = read_secret(
        what="the RADIUS shared secret",
        env_var=SECRET_ENV,
        file=secret_path,
        prompt=prompt_password,
        required=not no_probe,
    )
    password = None
    if real_user is not None:
        password = read_secret(
            what=f"the password of {real_user}",
            env_var=USER_PASSWORD_ENV,
            file=password_path,
            prompt=prompt_password,
            required=not no_probe,
        )
    return radius_settings(
        servers=[str(s) for s in server_list],
        port=_int(cfg.pick(port, conf, "port", req.RADIUS_PORT_DEFAULT), "port"),
        protocol=str(cfg.pick(protocol, conf, "protocol", "PAP")),
        timeout=_float(cfg.pick(timeout, conf, "timeout", DEFAULT_TIMEOUT), "timeout"),
        retries=_int(cfg.pick(retries, conf, "retries", DEFAULT_RETRIES), "retries"),
        secret=secret,
        probe=not no_probe,
        user=None if no_probe else real_user,
        password=None if no_probe else password,
        source=parse_address(source_text, what="source address") if source_text else None,
        vantage=vantage or conf.get("vantage"),
    )


def _path(value: Any, key: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"'{key}' in [radius] must be a path string", hint="Quote the path.")
    return Path(value)


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"'{key}' in [radius] must be a whole number, not {value!r}", hint="Fix the value.")
    return value


def _float(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"'{key}' in [radius] must be a number of seconds, not {value!r}", hint="Fix the value."
        )
    return float(value)
