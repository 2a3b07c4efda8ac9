"""``adprep preflight``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from adprep import config as cfg
from adprep import requirements as req
from adprep.cli.app import App, Format
from adprep.cli.options import ViaOptions, config_option, prompt_password, report_options, vantage_options


@click.command()
@click.option(
    "--domain", metavar="FQDN", help="The AD domain you will give AD Connector, e.g. corp.example.com."
)
@click.option(
    "--dns-ip",
    "dns_ips",
    multiple=True,
    metavar="IP",
    help="A DNS server you will give AD Connector (once or twice).",
)
@click.option(
    "--user",
    metavar="NAME",
    help="The service account's user name (no DOMAIN\\ and no @domain). Without it, only the checks that need "
    "no credentials run (DNS/SRV, ports, CLDAP, functional levels, clocks); the account checks are skipped.",
)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the service account's password (else env ADPREP_PASSWORD, else a prompt on a terminal).",
)
@click.option(
    "--dc", "extra_dcs", multiple=True, metavar="IP", help="Also check this DC (besides those DNS names)."
)
@click.option(
    "--ou",
    "target_ou",
    metavar="DN",
    help="Where AD Connector/WorkSpaces will create computers (default: CN=Computers).",
)
@click.option(
    "--target-domain",
    metavar="FQDN",
    help="The WorkSpaces target domain, when computers go into another domain than --domain (config: [directory] "
    "target_domain): its DNS names through the --dns-ip servers, its DCs' ports, the trust (it must trust "
    "--domain) and the right to create computers there. An --ou whose DC= parts name another domain implies it.",
)
@click.option(
    "--profile",
    type=click.Choice(sorted(req.PORT_PROFILES)),
    help=f"Port profile (default {req.DEFAULT_PORT_PROFILE}, AD Connector's minimum; {req.WORKSPACES_PROFILE}: "
    "everything WorkSpaces needs towards the DCs, ICMP echo included). The summary names what a profile "
    "leaves untested.",
)
@click.option(
    "--ldap-mode",
    type=click.Choice(["ldaps", "starttls", "plain"]),
    help="How to bind as the account (default ldaps).",
)
@click.option(
    "--ca-file", type=click.Path(dir_okay=False), help="PEM CA bundle that signed the DCs' certificates."
)
@click.option("--insecure", is_flag=True, help="Do not verify the DCs' certificates (not recommended).")
@click.option(
    "--join-probe", is_flag=True, help="WRITES: create and delete a scratch computer object as the account."
)
@click.option("--timeout", type=float, help="Seconds to wait for each probe (default 2).")
@click.option(
    "--subnet",
    "subnets",
    multiple=True,
    metavar="CIDR",
    help="An AD Connector subnet (repeatable; config: [directory] subnets; the vantages' ?subnet= count too): "
    "checked to be in an AD site in AD Sites and Services (sites.subnet.<cidr>).",
)
@vantage_options
@config_option
@report_options
@click.pass_obj
def preflight(
    app: App,
    domain: str | None,
    dns_ips: tuple[str, ...],
    user: str | None,
    password_file: Path | None,
    extra_dcs: tuple[str, ...],
    target_ou: str | None,
    target_domain: str | None,
    profile: str | None,
    ldap_mode: str | None,
    ca_file: str | None,
    insecure: bool,
    join_probe: bool,
    timeout: float | None,
    subnets: tuple[str, ...],
    config_path: Path | None,
    fmt: Format,
    output: Path | None,
    vantage: str | None,
    via_options: ViaOptions,
) -> int:
    """Check everything AD Connector will need, with the inputs you will give it.

    \b
    Examples:
      adprep preflight --domain corp.example.com --dns-ip 10.0.0.10 --dns-ip 10.0.0.11 \\
          --user svc-adconnector --password-file pw.txt --profile workspaces
      adprep preflight --domain corp.example.com --dns-ip 10.0.0.10     # no account yet
      adprep preflight --config preflight.toml --format junit -o preflight.xml
    """
    from adprep.jobs.preflight import preflight_settings, run_preflight
    from adprep.secret import Secret
    from adprep.secrets import read_secret

    conf = cfg.load_config(config_path)
    d = cfg.section(conf, "directory")
    p = cfg.section(conf, "ports")
    pw_file = password_file or (Path(d["password_file"]) if d.get("password_file") else None)
    user_name = cfg.pick(user, d, "service_account")

    def password() -> Secret:
        secret = read_secret(
            what=f"the password of {user_name or 'the service account'}",
            env_var="ADPREP_PASSWORD",
            file=pw_file,
            prompt=prompt_password,
        )
        assert secret is not None  # required=True raises instead of returning None
        return secret

    specs = via_options.specs(conf)
    radius = None
    r = cfg.section(conf, "radius")
    if r.get("servers"):
        from adprep.cli.commands.radius import radius_settings_from_config

        radius = radius_settings_from_config(r, vantage=vantage)
    settings = preflight_settings(
        domain=cfg.pick(domain, d, "domain"),
        dns_ips=cfg.pick(dns_ips, d, "dns_ips", ()),
        username=user_name,
        password=password,
        extra_dcs=cfg.pick(extra_dcs, d, "dcs", ()),
        target_ou=cfg.pick(target_ou, d, "target_ou"),
        target_domain=cfg.pick(target_domain, d, "target_domain"),
        profile=cfg.pick(profile, p, "profile"),
        ldap_mode=cfg.pick(ldap_mode, d, "ldap_mode", "ldaps"),
        ca_file=cfg.pick(ca_file, d, "ca_file"),
        verify=not (insecure or bool(d.get("insecure", False))),
        join_probe=join_probe or bool(d.get("join_probe", False)),
        timeout=cfg.pick(timeout, p, "timeout", 2.0),
        vantage=vantage or (conf["vantage"] if isinstance(conf.get("vantage"), str) else None),
        radius=radius,
        vantages=specs,
        subnets=cfg.pick(subnets, d, "subnets", ()),
    )
    settings = dataclasses.replace(
        settings, relay=via_options.relay(conf, specs, concurrency=settings.concurrency)
    )
    report = run_preflight(settings)
    return int(app.emit_report(report, fmt=fmt, output=output))
