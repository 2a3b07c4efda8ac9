"""``adprep checks``: the catalogue of checks (adprep/catalogue.py), as a table or JSON."""

from __future__ import annotations

import json

import click

from adprep.cli.app import App


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True,
    help="table: one line per check; json: every field, with each id's regular expression; markdown: the "
    "README's list.",
)  # fmt: skip
@click.option("--category", help="Only the checks of one category (ports, dns, directory, account…).")
@click.pass_obj
def checks(app: App, fmt: str, category: str | None) -> int:
    """List every check adprep can report: its id pattern, what it proves, the AD Connector error its
    failure causes, the usual remedy and the public sources it rests on.

    \b
    Examples:
      adprep checks
      adprep checks --category ports --format json
    """
    from adprep.catalogue import CATALOGUE, catalogue_dicts, render_markdown

    specs = [s for s in CATALOGUE if category is None or s.category == category]
    if not specs:
        categories = ", ".join(dict.fromkeys(s.category for s in CATALOGUE))
        raise click.BadParameter(f"no check has the category {category!r}; the categories: {categories}")
    if fmt == "json":
        chosen = {s.id for s in specs}
        rows = [d for d in catalogue_dicts() if d["id"] in chosen]
        click.echo(json.dumps({"checks": rows}, indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render_markdown(specs), nl=False)
    else:
        width = max(len(s.id) for s in specs)
        for s in specs:
            adc = "  [AD Connector error]" if s.adc_error else ""
            click.echo(f"{s.id:<{width}}  {s.title}{adc}")
    return 0
