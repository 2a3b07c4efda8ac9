"""``adprep fix``."""

from __future__ import annotations

from pathlib import Path

import click

from adprep import config as cfg
from adprep import requirements as req
from adprep.ad.delegation import PRESET_NAMES
from adprep.ad.sites import DEFAULT_SITE
from adprep.cli.app import App
from adprep.cli.options import (
    DirectoryOptions,
    ViaOptions,
    config_option,
    directory_options,
    plan_options,
    prompt_password,
    vantage_options,
)
from adprep.jobs.fix import SERVICE_PASSWORD_ENV
from adprep.prep.manual import DEFAULT_NTP_SERVER


@click.command()
@click.option(
    "--from",
    "from_report",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="REPORT.json",
    help="Fix what this preflight report (--format json) found, instead of running the preflight now.",
)
@click.option(
    "--service-account",
    metavar="NAME",
    help="The preflight's service account (config: [directory] service_account). With --from: the report's.",
)
@click.option(
    "--service-password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"File holding the service account's password (else env {SERVICE_PASSWORD_ENV}, else a prompt; config: "
    "[directory] password_file). With --from it is optional: the account's checks run again only with it.",
)
@click.option(
    "--check-dc",
    "extra_dcs",
    multiple=True,
    metavar="IP",
    help="The preflight also checks this DC (preflight's --dc).",
)
@click.option(
    "--ou",
    "target_ou",
    metavar="PATH|DN",
    help="Where AD Connector/WorkSpaces create computers (the preflight's --ou); the OU the ad-connector-ou "
    "preset delegates on.",
)
@click.option("--profile", type=click.Choice(sorted(req.PORT_PROFILES)), help="The preflight's port profile.")
@click.option(
    "--join-probe", is_flag=True, help="WRITES: the preflight creates and deletes a scratch computer."
)
@click.option("--timeout", type=float, help="Seconds to wait for each preflight probe (default 2).")
@click.option(
    "--subnet",
    "subnets",
    multiple=True,
    metavar="CIDR",
    help="An AD Connector subnet (repeatable; the vantages' ?subnet= count too): added to AD Sites and "
    "Services if missing, and named in firewall rules.",
)
@click.option("--site", default=DEFAULT_SITE, show_default=True, help="The AD site new subnets belong to.")
@click.option(
    "--preauth-user",
    "preauth_users",
    multiple=True,
    metavar="NAME",
    help="Turn Kerberos pre-authentication on for this user (repeatable); no other user is changed.",
)
@click.option(
    "--preset",
    type=click.Choice(PRESET_NAMES),
    default="workspaces-2016",
    show_default=True,
    help="The delegation to complete when the service account lacks rights (as adprep delegate).",
)
@click.option("--group", metavar="NAME", help=f"The delegation group (default {req.DELEGATION_GROUP}).")
@click.option("--group-container", metavar="PATH|DN", help="Where to create the group (default CN=Users).")
@click.option("--no-write", is_flag=True, help="ad-connector-ou: leave out Write on computer objects.")
@click.option(
    "--security-group", metavar="SG_ID", help="AD Connector's security group, for the AWS CLI commands."
)
@click.option(
    "--dc-security-group",
    metavar="SG_ID",
    help="The DCs' security group (DCs in a VPC), for the AWS CLI commands.",
)
@click.option(
    "--ntp-server",
    metavar="HOST",
    help=f"The time source for the w32tm commands (default {DEFAULT_NTP_SERVER}).",
)
@vantage_options
@config_option
@directory_options
@plan_options
@click.pass_obj
def fix(
    app: App,
    from_report: Path | None,
    service_account: str | None,
    service_password_file: Path | None,
    extra_dcs: tuple[str, ...],
    target_ou: str | None,
    profile: str | None,
    join_probe: bool,
    timeout: float | None,
    subnets: tuple[str, ...],
    site: str,
    preauth_users: tuple[str, ...],
    preset: str,
    group: str | None,
    group_container: str | None,
    no_write: bool,
    security_group: str | None,
    dc_security_group: str | None,
    ntp_server: str | None,
    via_options: ViaOptions,
    config_path: Path | None,
    dc_options: DirectoryOptions,
    dry_run: bool,
    fmt: str,
) -> int:
    """Fix what a preflight found: adprep writes what it can over LDAP, and says what to run elsewhere.

    The preflight runs now with the same inputs as adprep preflight (--domain, --dns-ip, the service
    account, --via, --config), or is read with --from REPORT.json. The account that writes is --user
    (its password in ADPREP_PASSWORD or --password-file), on --dc or the DC the preflight used.

    Remedies, each only for a check that failed: the delegation and the service account's group
    (as adprep delegate), unlocking the service account, AD Connector's subnets in an AD site,
    Kerberos pre-authentication for the users named with --preauth-user. After applying, the checks
    they address run again. Firewall rules, security groups, DNS records and DC clocks become the
    commands to run where they live (PowerShell on the DC, the AWS CLI).

    \b
    Examples:
      adprep fix --config preflight.toml --user Administrator --dry-run
      adprep fix --from preflight.json --user Administrator --subnet 10.1.1.0/24 --subnet 10.1.2.0/24
    """
    from adprep.cli.exit import exit_status_for_fix
    from adprep.errors import InputError
    from adprep.jobs.fix import AdminOptions, fix_settings, run_fix
    from adprep.jobs.preflight import PreflightSettings, preflight_settings
    from adprep.render.fix import render_fix_json, render_fix_table
    from adprep.secret import Secret
    from adprep.secrets import read_secret

    conf = cfg.load_config(config_path)
    d = cfg.section(conf, "directory")
    p = cfg.section(conf, "ports")
    live = from_report is None
    if not live and (via_options.via or extra_dcs or join_probe):
        raise InputError(
            "--from reads a preflight report; --via, --check-dc and --join-probe run one",
            hint="Choose one: the report, or the preflight's inputs.",
        )
    svc = service_account or d.get("service_account")
    svc_file = service_password_file or (Path(d["password_file"]) if d.get("password_file") else None)
    ca_file = cfg.pick(dc_options.ca_file, d, "ca_file")
    verify = not (dc_options.insecure or bool(d.get("insecure", False)))
    domain = cfg.pick(dc_options.domain, d, "domain")
    all_subnets = cfg.pick(subnets, d, "subnets", ())

    def service_password() -> Secret:
        secret = read_secret(
            what=f"the password of {svc or 'the service account'}",
            env_var=SERVICE_PASSWORD_ENV,
            file=svc_file,
            prompt=prompt_password,
        )
        assert secret is not None
        return secret

    def preflight() -> PreflightSettings:
        specs = via_options.specs(conf)
        settings = preflight_settings(
            domain=domain,
            dns_ips=cfg.pick(dc_options.dns_ips, d, "dns_ips", ()),
            username=svc,
            password=service_password,
            extra_dcs=cfg.pick(extra_dcs, d, "dcs", ()),
            target_ou=cfg.pick(target_ou, d, "target_ou"),
            profile=cfg.pick(profile, p, "profile"),
            ldap_mode=dc_options.ldap_mode,
            ca_file=ca_file,
            verify=verify,
            join_probe=join_probe or bool(d.get("join_probe", False)),
            timeout=cfg.pick(timeout, p, "timeout", 2.0),
            vantage=conf["vantage"] if isinstance(conf.get("vantage"), str) else None,
            vantages=specs,
            subnets=all_subnets,
        )
        import dataclasses

        return dataclasses.replace(
            settings, relay=via_options.relay(conf, specs, concurrency=settings.concurrency)
        )

    def admin_password() -> Secret:
        secret = read_secret(
            what=f"the password of {dc_options.user}",
            env_var="ADPREP_PASSWORD",
            file=dc_options.password_file,
            prompt=prompt_password,
        )
        assert secret is not None
        return secret

    admin = AdminOptions(
        user=dc_options.user, dc=dc_options.dc, dc_name=dc_options.dc_name, dns_ips=dc_options.dns_ips,
        mode=dc_options.ldap_mode, ca_file=ca_file, verify=verify,  # type: ignore[arg-type]
    )  # fmt: skip
    settings = fix_settings(
        domain=domain,
        admin=admin,
        report=from_report,
        preflight=preflight if live else None,
        admin_password=admin_password,
        service_account=svc,
        # With --from, the service account's password is optional and never prompted for.
        service_password=None
        if live
        else lambda: read_secret(
            what="the service account's password", env_var=SERVICE_PASSWORD_ENV, file=svc_file, required=False
        ),
        target_ou=cfg.pick(target_ou, d, "target_ou"),
        subnets=all_subnets,
        site=site,
        preauth_users=preauth_users,
        preset=preset,
        group=group,
        group_container=group_container,
        write=not no_write,
        join_probe=join_probe,
        security_group=security_group,
        dc_security_group=dc_security_group,
        ntp_server=ntp_server,
    )
    result = run_fix(settings, dry_run=dry_run)
    status = exit_status_for_fix(
        changes_failed=result.changes_failed, after=[r.status for r in result.after.values()]
    )
    if fmt == "json":
        click.echo(render_fix_json(result, exit_status=int(status)), nl=False)
    else:
        import sys

        click.echo(render_fix_table(result, color=sys.stdout.isatty()), nl=False)
    return int(status)
