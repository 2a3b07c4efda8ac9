"""Errors as data: every ``error`` result says why (``reason``), and each error class maps to one reason."""

from __future__ import annotations

import errno
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adprep.cli.exit import ExitStatus, exit_status_for
from adprep.errors import (
    LdapConnectionLost,
    LdapError,
    SmbError,
    TransportError,
    VantageError,
    WireFormatError,
    reason_for_errno,
    reason_of,
)
from adprep.model import CheckResult, ErrorReason, Report, Status, Vantage
from adprep.render.json import report_to_dict
from adprep.report import area_failed, could_not_run, run_area
from adprep.report_json import report_from_dict


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TransportError("Cannot connect"), ErrorReason.UNREACHABLE),
        (LdapConnectionLost("lost"), ErrorReason.UNREACHABLE),
        (LdapError("bind failed", code=49), ErrorReason.AUTHENTICATION),
        (LdapError("read failed", code=50), ErrorReason.PERMISSION),
        (LdapError("refused", code=53), ErrorReason.NOT_SUPPORTED),
        (LdapError("needs TLS", code=8), ErrorReason.TLS),
        (LdapError("odd code", code=80), ErrorReason.NOT_SUPPORTED),
        (LdapError("bad cert", error_reason=ErrorReason.TLS), ErrorReason.TLS),
        (SmbError("denied", status=0xC0000022), ErrorReason.PERMISSION),
        (SmbError("logon failed", status=0xC000006D), ErrorReason.AUTHENTICATION),
        (SmbError("lost"), ErrorReason.UNREACHABLE),
        (WireFormatError("garbage"), ErrorReason.MALFORMED),
        (VantageError("host key changed", reason="host_key"), ErrorReason.AUTHENTICATION),
        (VantageError("no python3", reason="no_interpreter"), ErrorReason.NOT_SUPPORTED),
        (VantageError("not a relay", reason="protocol"), ErrorReason.MALFORMED),
        (TimeoutError(), ErrorReason.TIMEOUT),
        (ssl.SSLError("handshake"), ErrorReason.TLS),
        (PermissionError(errno.EPERM, "no"), ErrorReason.PERMISSION),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), ErrorReason.UNREACHABLE),
        (KeyError("x"), ErrorReason.BUG),
        (AssertionError(), ErrorReason.BUG),
    ],
)
def test_each_error_maps_to_one_reason(exc: BaseException, reason: ErrorReason) -> None:
    assert reason_of(exc) is reason


def test_errno_names_map_to_reasons() -> None:
    assert reason_for_errno("EHOSTUNREACH") is ErrorReason.UNREACHABLE
    assert reason_for_errno("EPERM") is ErrorReason.PERMISSION  # this host's own firewall said no
    assert reason_for_errno(errno.ETIMEDOUT) is ErrorReason.TIMEOUT
    assert reason_for_errno(None) is ErrorReason.UNREACHABLE


def test_could_not_run_carries_the_reason() -> None:
    r = could_not_run("gpo.scan", "GPO scan: could not run", "Access denied.", reason=ErrorReason.PERMISSION)
    assert r.status is Status.ERROR and r.reason is ErrorReason.PERMISSION
    assert r.facts == {"reason": "Access denied."} and r.remedy == "Access denied."


def test_a_bug_in_one_area_is_one_error_result_without_the_exception_text() -> None:
    # Given an area whose code raises something adprep did not expect, with a secret-looking text
    def broken() -> list[CheckResult]:
        raise KeyError("hunter2")

    # When it runs guarded
    (r,) = run_area("dns.run", "DNS/SRV checks", broken)
    # Then it is one error result with reason bug, naming the exception's type and nothing of its text
    assert (r.id, r.status, r.reason) == ("dns.run", Status.ERROR, ErrorReason.BUG)
    assert "KeyError" in r.title and "hunter2" not in repr(r)
    assert "--debug" in (r.remedy or "")


def test_an_expected_error_in_an_area_keeps_its_own_reason() -> None:
    r = area_failed("directory.run", "Directory checks", LdapError("Search failed", code=50))
    assert r.reason is ErrorReason.PERMISSION and r.facts["reason"] == "Search failed"


def _report(*results: CheckResult) -> Report:
    t = datetime(2026, 1, 2, tzinfo=UTC)
    return Report("preflight", "0", t, t, Vantage(host="h"), (), results)


def test_a_bug_result_makes_exit_status_4_even_with_failures() -> None:
    fail = CheckResult("dcs.found", Status.FAIL, "No DC", {})
    bug = area_failed("dns.run", "DNS/SRV checks", RuntimeError("x"))
    assert exit_status_for(_report(fail, bug)) is ExitStatus.BUG
    assert exit_status_for(_report(fail)) is ExitStatus.FAILED
    unreachable = could_not_run("directory.reachable", "No DC answered LDAP", "Fix the ports.")
    assert exit_status_for(_report(unreachable)) is ExitStatus.ERROR


def test_reason_round_trips_through_json() -> None:
    report = _report(
        could_not_run("users.scope", "Users: could not be checked", "Timed out.", reason=ErrorReason.TIMEOUT),
        CheckResult("dcs.found", Status.PASS, "1 DC", {}),
    )
    data = report_to_dict(report)
    assert data["results"][0]["reason"] == "timeout" and "reason" not in data["results"][1]
    back = report_from_dict(data, path=Path("r.json"))
    assert back.results[0].reason is ErrorReason.TIMEOUT and back.results[1].reason is None
