"""``adprep ports``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from adprep import config as cfg
from adprep import requirements as req
from adprep.cli.app import App, Format
from adprep.cli.options import ViaOptions, config_option, report_options, vantage_options
from adprep.validate import parse_addresses, parse_port_list


@click.command()
@click.argument("targets", nargs=-1)
@click.option(
    "--profile",
    type=click.Choice(sorted(req.PORT_PROFILES)),
    help=f"A named port set (default {req.DEFAULT_PORT_PROFILE} when no --tcp/--udp is given).",
)
@click.option(
    "--tcp", "tcp_text", metavar="PORTS", help="TCP ports to test, e.g. 53,88,389 (replaces the profile's)."
)
@click.option(
    "--udp", "udp_text", metavar="PORTS", help="UDP ports to test, e.g. 53,88,389 (replaces the profile's)."
)
@click.option(
    "--domain",
    metavar="FQDN",
    help="The AD domain, so the CLDAP ping decodes the DC's domain, name and site.",
)
@click.option(
    "--no-rpc",
    is_flag=True,
    help="Do not ask the endpoint mapper for the RPC ports (when TCP 135 is tested).",
)
@click.option("--timeout", type=float, help="Seconds to wait for each probe (default 2).")
@click.option("--concurrency", type=int, help="Probes in flight at once (default 256).")
@vantage_options
@config_option
@report_options
@click.pass_obj
def ports(
    app: App,
    targets: tuple[str, ...],
    profile: str | None,
    tcp_text: str | None,
    udp_text: str | None,
    domain: str | None,
    no_rpc: bool,
    timeout: float | None,
    concurrency: int | None,
    config_path: Path | None,
    fmt: Format,
    output: Path | None,
    vantage: str | None,
    via_options: ViaOptions,
) -> int:
    """Test the ports AD Connector needs on each domain controller TARGET (IP addresses).

    \b
    Examples:
      adprep ports 10.0.0.10 10.0.0.11
      adprep ports --profile legacy-2016 10.0.0.10 --format json -o ports.json
      adprep ports --tcp 53,88,389,636 10.0.0.10
      adprep ports 10.0.0.10 --via local --via subnet-a=ssh://ec2-user@10.1.1.23 --via ssh://10.1.2.40
    """
    from adprep.cli.plain import sweep_report
    from adprep.jobs.ports import ports_settings

    whole = cfg.load_config(config_path)
    conf = cfg.section(whole, "ports")
    tcp_value = cfg.pick(tcp_text, conf, "tcp")
    udp_value = cfg.pick(udp_text, conf, "udp")
    settings = ports_settings(
        targets=parse_addresses(cfg.pick(targets, conf, "targets", ())),
        profile=cfg.pick(profile, conf, "profile"),
        tcp=_ports(tcp_value, "--tcp"),
        udp=_ports(udp_value, "--udp"),
        timeout=cfg.pick(timeout, conf, "timeout", 2.0),
        concurrency=cfg.pick(concurrency, conf, "concurrency", 256),
        vantage=vantage or conf.get("vantage"),
        domain=cfg.pick(domain, conf, "domain"),
        rpc=not no_rpc,
        vantages=via_options.specs(whole),
    )
    settings = dataclasses.replace(
        settings, relay=via_options.relay(whole, settings.vantages, concurrency=settings.concurrency)
    )
    return sweep_report(app, settings, fmt=fmt, output=output)


def _ports(value: object, option: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return parse_port_list(str(value), option=option)
