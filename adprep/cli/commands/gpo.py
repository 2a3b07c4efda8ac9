"""``adprep gpo``: create, link, fill (PCoIP settings), show and scan GPOs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from adprep.cli.app import App, Format
from adprep.cli.options import (
    DirectoryOptions,
    directory_options,
    plan_options,
    report_options,
)
from adprep.errors import InputError

if TYPE_CHECKING:
    from adprep.gpo.adm import AdmTemplate
    from adprep.jobs.gpo import GpoConnection
    from adprep.prep.plan import Plan


def _run_plan(app: App, /, conn: GpoConnection, plan: Plan, *, fmt: str, dry_run: bool) -> int:
    from adprep.jobs.gpo import apply_gpo_plan

    result = None if dry_run or plan.empty else apply_gpo_plan(conn, plan)
    return int(app.emit_plan(plan, result, fmt=fmt, dry_run=dry_run))


@click.group()
def gpo() -> None:
    """Create, link and fill GPOs (PCoIP settings) and scan for settings that break WorkSpaces.

    \b
    Examples:
      adprep gpo create "WorkSpaces PCoIP" --link OU=WorkSpaces,DC=corp,DC=example --dc 10.0.0.10 ...
      adprep gpo pcoip set "WorkSpaces PCoIP" --adm pcoip.adm --clipboard client-to-workspace \\
          --remote-printing 0 --reconnect-timeout 20 --dc 10.0.0.10 ...
      adprep gpo pcoip set "WorkSpaces PCoIP" --adm pcoip.adm \\
          --policy "Configure remote printing=Basic printing only" --dc 10.0.0.10 ...
      adprep gpo show "WorkSpaces PCoIP" --dc 10.0.0.10 ...
      adprep gpo scan --ou WorkSpaces --dc 10.0.0.10 ...
    """


@gpo.command()
@click.argument("name")
@click.option(
    "--link",
    "link",
    metavar="OU|domain",
    help="Link the GPO to this OU (DN or path such as WorkSpaces/Users) or to the domain.",
)
@directory_options
@plan_options
@click.pass_obj
def create(
    app: App, /, name: str, link: str | None, dry_run: bool, fmt: str, dc_options: DirectoryOptions
) -> int:
    """Create the GPO NAME (or complete a half-made one) with its SYSVOL folder, and link it."""
    from adprep.jobs.gpo import gpo_connection, plan_gpo_change

    settings = dc_options.settings()
    with gpo_connection(settings) as conn:
        plan = plan_gpo_change(conn, name, link=link)
        return _run_plan(app, conn, plan, fmt=fmt, dry_run=dry_run)


def _link_command(link: bool) -> click.Command:
    verb = "link" if link else "unlink"

    @click.argument("target", metavar="OU|domain")
    @click.argument("name")
    @directory_options
    @plan_options
    @click.pass_obj
    def command(
        app: App, /, name: str, target: str, dry_run: bool, fmt: str, dc_options: DirectoryOptions
    ) -> int:
        from adprep.jobs.gpo import gpo_connection, plan_link_change

        settings = dc_options.settings()
        with gpo_connection(settings) as conn:
            plan = plan_link_change(conn, name, target, link=link)
            return _run_plan(app, conn, plan, fmt=fmt, dry_run=dry_run)

    command.__doc__ = (
        f"{verb.capitalize()} the GPO NAME (display name or GUID) {'to' if link else 'from'} an OU (DN or path) "
        "or the domain; every other link is kept."
    )
    return click.command(verb)(command)


gpo.add_command(_link_command(True))
gpo.add_command(_link_command(False))


@gpo.command()
@click.argument("name")
@click.option(
    "--adm",
    "adm_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pcoip.adm (or other ADM) to read the settings with; default: the templates installed in the GPO.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Text for people or JSON.",
)
@directory_options
@click.pass_obj
def show(app: App, /, name: str, adm_path: Path | None, fmt: str, dc_options: DirectoryOptions) -> int:
    """Show the GPO NAME: versions, links and its computer settings as a person reads them."""
    from adprep.jobs.gpo import gpo_connection, show_gpo

    template = _read_adm(adm_path)[0] if adm_path else None
    settings = dc_options.settings()
    with gpo_connection(settings) as conn:
        view = show_gpo(conn, name, template)
    if fmt == "json":
        data = {
            "name": view.name, "guid": view.guid, "dn": view.dn, "version": view.ldap_version,
            "gpt_version": view.gpt_version, "flags": view.flags, "machine_extensions": list(view.machine_extensions),
            "links": list(view.links), "sysvol": view.sysvol_exists, "templates": list(view.templates),
            "settings": [{"policy": p, "value": v} for p, v in view.settings],
        }  # fmt: skip
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    lines = [
        f"GPO          {view.name} {view.guid}",
        f"DN           {view.dn}",
        f"Version      {view.version_text(view.ldap_version)} in LDAP; {view.version_text(view.gpt_version)} in GPT.INI",
        f"Linked at    {'; '.join(view.links) if view.links else 'nowhere'}",
        f"Extensions   {'; '.join(view.machine_extensions) if view.machine_extensions else 'none'}",
        f"Templates    {'; '.join(view.templates) if view.templates else 'none installed'}",
    ]
    if view.version_text(view.ldap_version) != view.version_text(view.gpt_version):
        lines.append(
            "Warning      the LDAP and GPT.INI versions differ: re-run the adprep gpo command that wrote it"
        )
    if not view.sysvol_exists:
        lines.append("Warning      the GPO has no SYSVOL folder: run adprep gpo create NAME to complete it")
    lines.append("Computer settings:" if view.settings else "Computer settings: none")
    lines.extend(f"  {policy}: {value}" for policy, value in view.settings)
    click.echo("\n".join(lines))
    return 0


@gpo.command()
@click.option(
    "--ou",
    metavar="OU",
    help="The WorkSpaces OU (DN, path or 'domain'); default: the domain's computers container (as redircmp set it).",
)
@directory_options
@report_options
@click.pass_obj
def scan(
    app: App,
    /,
    ou: str | None,
    fmt: Format,
    output: Path | None,
    vantage: str | None,
    dc_options: DirectoryOptions,
) -> int:
    """Report settings that break WorkSpaces in the GPOs that reach their computers (site, domain, OUs):
    a logon banner, or session time limits that log users off."""
    from adprep.jobs.gpo import run_gpo_scan

    settings = dc_options.settings()
    report = run_gpo_scan(settings, ou, vantage=vantage)
    return int(app.emit_report(report, fmt=fmt, output=output))


@gpo.group()
def pcoip() -> None:
    """PCoIP session settings, read from the WorkSpace's pcoip.adm."""


def _read_adm(path: Path) -> tuple[AdmTemplate, bytes]:
    """The template parsed, and the file's bytes."""
    from adprep.gpo.adm import parse_adm

    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(
            f"Cannot read the template {path}: {e.strerror or e}", hint="Check the path."
        ) from None
    return parse_adm(data, source=path.name), data


@pcoip.command("set")
@click.argument("name")
@click.option(
    "--adm",
    "adm_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pcoip.adm copied from a WorkSpace; it is also installed in the GPO (Add/Remove Templates).",
)
@click.option(
    "--clipboard",
    type=click.Choice(["disabled", "both", "client-to-workspace", "workspace-to-client"]),
    help="Clipboard redirection direction.",
)
@click.option(
    "--remote-printing",
    metavar="CHOICE",
    help="An item of the template's remote printing list: its number or its name.",
)
@click.option(
    "--reconnect-timeout",
    type=int,
    metavar="MINUTES",
    help="Session auto-reconnect timeout (range from the template).",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar='"TITLE=VALUE"',
    help="Any policy of the template by its title: VALUE is enabled, disabled, or the value of its one part; "
    '"TITLE > PART=VALUE" sets one part of several. Repeatable.',
)
@click.option(
    "--enforce",
    is_flag=True,
    help="Write the not-overridable settings (pcoip_admin) instead of the overridable defaults.",
)
@directory_options
@plan_options
@click.pass_obj
def pcoip_set(app: App, /, name: str, adm_path: Path, clipboard: str | None, remote_printing: str | None,
    reconnect_timeout: int | None, policies: tuple[str, ...], enforce: bool, dry_run: bool, fmt: str,
    dc_options: DirectoryOptions,
) -> int:  # fmt: skip
    """Write PCoIP settings into the computer side of the GPO NAME (created first with gpo create), and
    install the template in the GPO so that the Group Policy editor shows them under its policies."""
    from adprep.gpo.pcoip import Clipboard, PcoipRequest, parse_policy_choice, policy_entries
    from adprep.jobs.gpo import gpo_connection, plan_gpo_change
    from adprep.prep.gpo import AdmFile, validate_adm_name

    if clipboard is None and remote_printing is None and reconnect_timeout is None and not policies:
        raise InputError(
            "No PCoIP setting given",
            hint="Pass --clipboard, --remote-printing, --reconnect-timeout or --policy.",
        )
    printing: int | str | None = remote_printing
    if remote_printing is not None and remote_printing.strip().isdigit():
        printing = int(remote_printing)
    request = PcoipRequest(
        clipboard=Clipboard(clipboard) if clipboard else None, remote_printing=printing,
        reconnect_timeout_minutes=reconnect_timeout, enforce=enforce,
        policies=tuple(parse_policy_choice(text) for text in policies),
    )  # fmt: skip
    template, data = _read_adm(adm_path)
    entries = policy_entries(template, request)  # checks the values before any traffic
    adm_file = AdmFile(validate_adm_name(adm_path.name), data)  # installed as Add/Remove Templates does
    settings = dc_options.settings()
    with gpo_connection(settings) as conn:
        plan = plan_gpo_change(conn, name, machine_settings=entries, may_create=False, templates=(adm_file,))
        return _run_plan(app, conn, plan, fmt=fmt, dry_run=dry_run)
