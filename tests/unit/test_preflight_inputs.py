"""Preflight input validation: before any traffic, one sentence each (pure)."""

from __future__ import annotations

import pytest

from adprep.errors import InputError
from adprep.jobs.preflight import preflight_settings, validate_dns_ip
from adprep.model import Status
from adprep.secret import Secret

GOOD = Secret("Corr3ct-Horse-battery", "test")


def settings(**kw):  # type: ignore[no-untyped-def]
    args = {"domain": "corp.example.com", "dns_ips": ["10.0.0.10"], "username": "svc-adc", "password": GOOD}
    args.update(kw)
    return preflight_settings(**args)


@pytest.mark.parametrize(
    "ip", ["10.1.0.0", "10.1.2.255", "0.0.0.0", "224.0.0.1", "255.255.255.255", "dc1", "10.0.0"]
)
def test_dns_ip_that_is_not_a_host_address_is_refused(ip: str) -> None:
    with pytest.raises(InputError) as e:
        validate_dns_ip(ip)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"domain": "corp"}, "single-label"),
        ({"domain": "corp-x"}, "single-label"),
        ({"username": "CORP\\svc"}, "without"),
        ({"username": "svc@corp.example.com"}, "without"),
        ({"username": "svc adc"}, ""),
        ({"dns_ips": ["10.0.0.1", "10.0.0.2", "10.0.0.3"]}, "at most 2"),
        ({"dns_ips": []}, "No DNS server"),
        ({"password": Secret("x" * 129, "t")}, "1 to 128"),
    ],
)
def test_bad_inputs_are_one_sentence(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(InputError) as e:
        settings(**kw)
    assert needle in str(e.value)
    assert "x" * 20 not in str(e.value)  # never the password


def test_console_rejected_password_is_a_warning_not_an_error() -> None:
    s = settings(password=Secret("short", "t"))
    (note,) = s.input_results
    assert note.id == "input.password_policy" and note.status is Status.WARN
    assert "short" not in repr(note)


def test_valid_inputs_normalised() -> None:
    s = settings(domain="Corp.Example.COM.", dns_ips=["10.0.0.10,10.0.0.11"])
    assert s.domain == "corp.example.com" and s.dns_ips == ("10.0.0.10", "10.0.0.11")


def test_without_a_user_no_password_is_asked_for() -> None:
    # Given no service account, and a password source that must not be touched
    def no_prompt() -> Secret:
        raise AssertionError("the password was asked for")

    # When the inputs are checked
    s = settings(username=None, password=no_prompt)
    # Then the run has no account and no password, and nothing about a password to report
    assert s.username is None and s.password is None and s.input_results == ()


@pytest.mark.parametrize("profile", ["workspaces", "adc-minimum"])
def test_port_profiles_are_accepted_by_name(profile: str) -> None:
    assert settings(profile=profile).profile == profile
