"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def report_options(func: F) -> F:
    """--format, --output, --vantage."""
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
        type=click.Choice(["table", "json", "junit"]),
        default="table",
        show_default=True,
        help="Report format: a table for people, JSON (schema adprep/schema/report-v1.json) or JUnit XML.",
    )(func)
    return func


def config_option(func: F) -> F:
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
