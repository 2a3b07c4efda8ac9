"""``adprep radius check`` end to end: options, config, secrets, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adprep.cli.main import main
from tests.conftest import LabRadius

SECRET_ENV = "ADPREP_RADIUS_SECRET"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["radius", "check", *args])
    out, err = capsys.readouterr()
    return status, out, err


def results(out: str) -> dict[str, Any]:
    return {r["id"]: r for r in json.loads(out)["results"]}


@pytest.mark.lab
def test_lab_server_with_fakeusername_passes(
    radius_lab: LabRadius, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the lab's secret in the environment
    monkeypatch.setenv(SECRET_ENV, radius_lab.secret)
    # When AWS's check is reproduced against the lab server
    status, out, _ = run(
        capsys, "--server", radius_lab.address, "--timeout", "2", "--retries", "0", "--format", "json"
    )
    # Then it passes (a signed reject), says where the probe came from, and never shows the secret
    assert status == 0
    by_id = results(out)
    assert by_id[f"radius.probe.{radius_lab.address}"]["status"] == "pass"
    assert by_id["radius.client_registration"]["facts"]["source_addresses"] == {
        radius_lab.address: "127.0.0.1"
    }
    assert radius_lab.secret not in out
    assert json.loads(out)["vantage"]["source_addresses"] == {radius_lab.address: "127.0.0.1"}


@pytest.mark.lab
def test_real_login_from_files_in_mschapv2(
    radius_lab: LabRadius, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    secret_file = tmp_path / "secret"
    secret_file.write_text(radius_lab.secret + "\n")
    pw_file = tmp_path / "pw"
    pw_file.write_text(radius_lab.user_password)
    status, out, _ = run(
        capsys,
        *("--server", radius_lab.address, "--protocol", "mschapv2", "--timeout", "2", "--retries", "0"),
        *("--secret-file", str(secret_file), "--user", radius_lab.user, "--user-password-file", str(pw_file)),
        *("--format", "json"),
    )
    assert status == 0
    title = results(out)[f"radius.probe.{radius_lab.address}"]["title"]
    assert title.endswith("accepted 'labuser' in MS-CHAPv2; the server proved it knows the password")
    assert radius_lab.user_password not in out and radius_lab.secret not in out


@pytest.mark.lab
def test_unregistered_source_fails_with_exit_1(
    radius_lab: LabRadius, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, radius_lab.secret)
    status, out, _ = run(
        capsys,
        *("--server", radius_lab.address, "--timeout", "1", "--retries", "0", "--source", "127.0.9.1"),
        *("--format", "json"),
    )
    assert status == 1
    probe = results(out)[f"radius.probe.{radius_lab.address}"]
    assert probe["facts"]["outcome"] == "no_response" and probe["facts"]["source_address"] == "127.0.9.1"


def test_no_probe_validates_settings_from_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a [radius] section that breaks the ds API's limits, and no secret anywhere
    monkeypatch.delenv(SECRET_ENV, raising=False)
    conf = tmp_path / "preflight.toml"
    conf.write_text(
        '[radius]\nservers = ["10.0.0.5", "radius.example.com"]\nport = 1024\nprotocol = "EAP"\n'
        "timeout = 30\nretries = 11\n"
    )
    # When only the settings are validated
    status, out, _ = run(capsys, "--config", str(conf), "--no-probe", "--format", "json")
    # Then each rule is its own result, nothing is sent, and the failures give exit status 1
    assert status == 1
    by_id = results(out)
    assert by_id["radius.settings.port"]["status"] == "fail"
    assert by_id["radius.settings.protocol"]["status"] == "fail"
    assert by_id["radius.settings.timeout"]["status"] == "warn"
    assert by_id["radius.settings.retries"]["status"] == "fail"
    assert by_id["radius.settings.secret"]["status"] == "skip"
    assert by_id["radius.worst_case_wait"]["facts"] == {
        "per_server_s": 360.0,
        "all_servers_s": 720.0,
        "servers": 2,
    }
    assert by_id["radius.probe.10.0.0.5"]["status"] == "skip"


def test_flags_override_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "a-fine-secret")
    conf = tmp_path / "c.toml"
    conf.write_text('[radius]\nservers = "10.0.0.5"\nport = 1024\n')
    status, out, _ = run(capsys, "--config", str(conf), "--port", "1812", "--no-probe", "--format", "json")
    assert status == 0
    assert results(out)["radius.settings.secret"]["status"] == "pass"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--no-probe"], "No RADIUS server given"),
        (["--server", "10.0.0.5", "--port", "0", "--no-probe"], "is not a UDP port number"),
        (["--server", "10.0.0.5", "--timeout", "0", "--no-probe"], "not a usable number of seconds"),
        (["--server", "10.0.0.5", "--retries", "-1", "--no-probe"], "not a usable count"),
        (["--server", "10.0.0.5", "--source", "nope", "--no-probe"], "is not an IP address"),
        (["--server", "10.0.0.5"], "The RADIUS shared secret is needed and was not given"),
        (["--server", "10.0.0.5", "--secret", "x"], "No such option"),
        (["--server", "10.0.0.5", "--timeout", "abc"], "is not a valid float"),
    ],
)
def test_bad_input_is_exit_2_with_one_sentence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], words: str
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    status, out, err = run(capsys, *args)
    assert status == 2
    assert out == ""
    assert words in err and len(err.strip().splitlines()) == 1


def test_user_without_password_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "a-fine-secret")
    monkeypatch.delenv("ADPREP_RADIUS_USER_PASSWORD", raising=False)
    status, _, err = run(capsys, "--server", "10.0.0.5", "--user", "alice")
    assert status == 2 and "password of alice" in err


def test_secret_in_config_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text('[radius]\nservers = ["10.0.0.5"]\nsecret = "hunter2-hunter2"\n')
    status, out, err = run(capsys, "--config", str(conf), "--no-probe")
    assert status == 2 and "holds a secret" in err
    assert "hunter2" not in out + err


def test_radius_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "Validate AD Connector's RADIUS MFA settings" in capsys.readouterr().out
