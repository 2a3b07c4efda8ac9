"""RADIUS settings rules and probe verdicts (pure: facts in, results out)."""

from __future__ import annotations

import pytest

from adprep.checks import radius as c
from adprep.errors import InputError
from adprep.facts.radius import RadiusExchange, RadiusOutcome, RadiusProbe
from adprep.jobs.radius import radius_settings
from adprep.model import Status
from adprep.secret import Secret

SECRET = Secret("lab-secret-123", "env:TEST")


def mfa(**kw: object) -> c.MfaSettings:
    base: dict[str, object] = {
        "servers": ("10.0.0.5",),
        "port": 1812,
        "protocol": "PAP",
        "timeout": 5.0,
        "retries": 4,
        "secret": SECRET,
    }
    base.update(kw)
    return c.MfaSettings(**base)  # type: ignore[arg-type]


# --- settings rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "server", ["10.0.0.5", "fd00::5", "radius.example.com", "radius1", "a" * 63 + ".com"]
)
def test_valid_servers_pass(server: str) -> None:
    assert c.check_servers([server]).status is Status.PASS


@pytest.mark.parametrize(
    ("server", "words"),
    [
        ("", "0 characters"),
        ("a." * 128 + "x", "257 characters"),
        ("10.0.0.300", "not a valid one"),
        ("bad_host.example.com", "neither an IP address nor a DNS name"),
        ("-radius.example.com", "neither"),
        ("radius server", "neither"),
    ],
)
def test_invalid_servers_fail_with_one_sentence(server: str, words: str) -> None:
    result = c.check_servers([server])
    assert result.id == "radius.settings.servers"
    assert result.status is Status.FAIL
    assert words in result.title


def test_no_servers_fail_and_duplicates_warn() -> None:
    assert c.check_servers([]).status is Status.FAIL
    assert c.check_servers(["10.0.0.5", "10.0.0.5"]).status is Status.WARN


@pytest.mark.parametrize(
    ("port", "status"),
    [(1024, Status.FAIL), (1025, Status.PASS), (1812, Status.PASS), (65535, Status.PASS), (80, Status.FAIL)],
)
def test_port_range_1025_65535(port: int, status: Status) -> None:
    result = c.check_port(port)
    assert result.id == "radius.settings.port" and result.status is status
    if status is Status.FAIL:
        assert "1025-65535" in result.title


@pytest.mark.parametrize(
    ("timeout", "status"),
    [
        (0.5, Status.FAIL),
        (1, Status.PASS),
        (20, Status.PASS),
        (21, Status.WARN),
        (50, Status.WARN),
        (51, Status.FAIL),
        (2.5, Status.FAIL),
    ],
)
def test_timeout_1_50_and_failover_warning(timeout: float, status: Status) -> None:
    result = c.check_timeout(timeout)
    assert result.id == "radius.settings.timeout" and result.status is status
    if status is Status.WARN:
        assert "will not fail over" in result.title


@pytest.mark.parametrize(
    ("retries", "status"), [(-1, Status.FAIL), (0, Status.PASS), (10, Status.PASS), (11, Status.FAIL)]
)
def test_retries_0_10(retries: int, status: Status) -> None:
    assert c.check_retries(retries).status is status


@pytest.mark.parametrize("name", ["PAP", "CHAP", "MS-CHAPv1", "MS-CHAPv2"])
def test_supported_protocols_pass(name: str) -> None:
    assert c.check_protocol(name).status is Status.PASS


def test_protocol_spellings_normalise_and_unknown_fails() -> None:
    assert c.normalise_protocol("mschapv2") == "MS-CHAPv2"
    assert c.normalise_protocol("ms-chapv1") == "MS-CHAPv1"
    result = c.check_protocol(c.normalise_protocol("EAP-TLS"))
    assert result.status is Status.FAIL and "PAP, CHAP, MS-CHAPv1, MS-CHAPv2" in result.title


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("short12", Status.FAIL),  # 7
        ("exactly8", Status.PASS),
        ("x" * 512, Status.PASS),
        ("x" * 513, Status.FAIL),
        ("Ünïcödé-Secret 42!", Status.PASS),  # Unicode letters, ASCII punctuation, space
        ("tab\there-secret", Status.FAIL),
        ("euro€-secret", Status.FAIL),  # € is a symbol, not a letter
    ],
)
def test_secret_length_and_class(value: str, status: Status) -> None:
    result = c.check_secret(Secret(value, "env:TEST"))
    assert result.id == "radius.settings.secret" and result.status is status
    # Never the secret itself, in any field.
    assert value not in repr(result)


def test_secret_class_failure_names_positions_only() -> None:
    result = c.check_secret(Secret("tab\there-secret", "env:TEST"))
    assert "position 4" in result.title


def test_missing_secret_is_skipped() -> None:
    assert c.check_secret(None).status is Status.SKIP


def test_worst_case_wait_per_server_and_in_turn() -> None:
    result = c.check_worst_case_wait(mfa(servers=("10.0.0.5", "10.0.0.6"), timeout=5.0, retries=4))
    assert result.id == "radius.worst_case_wait"
    assert result.facts["per_server_s"] == 25.0 and result.facts["all_servers_s"] == 50.0
    assert "25 s per silent server" in result.title and "50 s for 2 server(s)" in result.title


def test_check_settings_ids_are_stable() -> None:
    ids = [r.id for r in c.check_settings(mfa())]
    assert ids == [
        "radius.settings.servers",
        "radius.settings.port",
        "radius.settings.protocol",
        "radius.settings.timeout",
        "radius.settings.retries",
        "radius.settings.secret",
        "radius.worst_case_wait",
    ]


# --- input errors (cannot even probe) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"servers": []},
        {"port": 0},
        {"port": 70000},
        {"timeout": 0.0},
        {"timeout": float("nan")},
        {"retries": -1},
        {"secret": None},
        {"user": "alice"},  # without a password
    ],
)
def test_unusable_input_is_an_input_error(kw: dict[str, object]) -> None:
    args: dict[str, object] = {
        "servers": ["10.0.0.5"],
        "port": 1812,
        "protocol": "PAP",
        "timeout": 1.0,
        "retries": 0,
        "secret": SECRET,
    }
    args.update(kw)
    with pytest.raises(InputError) as info:
        radius_settings(**args)  # type: ignore[arg-type]
    assert SECRET.reveal() not in str(info.value)


# --- probe verdicts -----------------------------------------------------------------------------------


def probe(outcome: RadiusOutcome, *, real: bool = False, ma: str | None = None, **kw: object) -> RadiusProbe:
    x = RadiusExchange(
        "10.0.0.5",
        1812,
        outcome,
        12.0,
        1,
        address="10.0.0.5",
        source="10.0.0.9",
        message_authenticator=ma,  # type: ignore[arg-type]
    )
    return RadiusProbe(x, "PAP", "alice" if real else "fakeusername", real, **kw)  # type: ignore[arg-type]


def test_signed_reject_for_fakeusername_passes() -> None:
    result = c.check_probe(probe("reject", ma="absent"))
    assert result.id == "radius.probe.10.0.0.5"
    assert result.status is Status.PASS
    assert "shared secret matches" in result.title
    assert result.facts["source_address"] == "10.0.0.9"


def test_reject_of_a_real_login_fails() -> None:
    assert c.check_probe(probe("reject", real=True)).status is Status.FAIL


def test_accept_of_real_user_passes_and_of_fakeusername_warns() -> None:
    assert c.check_probe(probe("accept", real=True)).status is Status.PASS
    assert c.check_probe(probe("accept")).status is Status.WARN
    proven = c.check_probe(probe("accept", real=True, mschap2_server_proof=True))
    assert "proved it knows the password" in proven.title
    assert c.check_probe(probe("accept", real=True, mschap2_server_proof=False)).status is Status.WARN


def test_challenge_fails_with_the_unsupported_sentence() -> None:
    result = c.check_probe(probe("challenge", reply_messages=("Enter code",)))
    assert result.status is Status.FAIL
    assert "AD Connector does not support Access-Challenge" in result.title


def test_bad_authenticator_says_the_secret_does_not_match() -> None:
    result = c.check_probe(probe("bad_authenticator"))
    assert result.status is Status.FAIL
    assert "the shared secret does not match" in result.title


def test_no_response_names_all_three_causes_and_the_source() -> None:
    result = c.check_probe(probe("no_response"))
    assert result.status is Status.FAIL
    remedy = result.remedy or ""
    assert "unreachable" in remedy
    assert "not registered as a RADIUS client" in remedy and "10.0.0.9" in remedy
    assert "shared secret does not match" in remedy and "Message-Authenticator" in remedy


def test_closed_unresolved_and_error() -> None:
    closed = c.check_probe(probe("closed"))
    assert closed.status is Status.FAIL and "ICMP port unreachable" in closed.title
    assert c.check_probe(probe("unresolved")).status is Status.ERROR
    assert c.check_probe(probe("error")).status is Status.ERROR


@pytest.mark.parametrize(
    ("outcome", "ma", "status"),
    [
        ("reject", "valid", Status.PASS),
        ("reject", "absent", Status.WARN),
        ("accept", "invalid", Status.FAIL),
        ("no_response", None, Status.SKIP),
        ("bad_authenticator", "invalid", Status.SKIP),
    ],
)
def test_message_authenticator_readiness(outcome: RadiusOutcome, ma: str | None, status: Status) -> None:
    result = c.check_message_authenticator(probe(outcome, ma=ma))
    assert result.id == "radius.message_authenticator.10.0.0.5" and result.status is status


def test_client_registration_says_where_the_probe_came_from() -> None:
    ok = c.check_client_registration([probe("reject")], bind=None)
    assert ok.status is Status.PASS
    assert "10.0.0.9" in ok.title and "two AD Connector addresses" in ok.title
    silent = c.check_client_registration([probe("no_response")], bind="10.0.0.9")
    assert silent.status is Status.WARN and "not proven for 10.0.0.5" in silent.title
