"""The exit statuses, from their one place (adprep/cli/exit.py): exceptions and plans."""

from __future__ import annotations

import click
import pytest

from adprep.cli.exit import ExitStatus, exit_status_for_exception, exit_status_for_plan
from adprep.cli.main import _exit_status_for
from adprep.errors import AdprepError, InputError, LdapError


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (KeyboardInterrupt(), ExitStatus.INTERRUPTED),
        (click.exceptions.Abort(), ExitStatus.INTERRUPTED),
        (click.UsageError("no such option"), ExitStatus.USAGE),
        (click.BadParameter("not a port"), ExitStatus.USAGE),
        (InputError("The domain is empty", hint="Pass --domain."), ExitStatus.USAGE),
        (LdapError("The bind failed", hint="Check the password."), ExitStatus.ERROR),
        (AdprepError("Something stopped it", hint="Try again."), ExitStatus.ERROR),
        (KeyError("surprise"), ExitStatus.BUG),
    ],
)
def test_an_exception_that_ends_a_command_has_one_exit_status(exc: BaseException, status: ExitStatus) -> None:
    # Given an exception that ended a command; When it is mapped; Then its status is the documented one
    assert _exit_status_for(exc) is status
    if not isinstance(exc, click.ClickException | click.exceptions.Abort):
        # the same without click (the plain sweep, adprep.cli.plain, never loads it)
        assert exit_status_for_exception(exc) is status


def test_a_plan_with_a_failed_change_exits_1_and_one_without_exits_0() -> None:
    assert exit_status_for_plan(failed=True) is ExitStatus.FAILED
    assert exit_status_for_plan(failed=False) is ExitStatus.OK
    assert int(ExitStatus.INTERRUPTED) == 130
