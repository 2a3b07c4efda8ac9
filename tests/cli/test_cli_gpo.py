"""``adprep gpo``: usage errors before any traffic, dry runs and the scan report against the lab DC."""

from __future__ import annotations

import json
import uuid

import pytest

from adprep.cli.main import main
from tests.conftest import FIXTURES, LabDc

ADM = str(FIXTURES / "gpo" / "pcoip.adm")


def lab_args(dc: LabDc) -> list[str]:
    # The password comes from the environment (ADPREP_PASSWORD), never argv.
    return ["--dc", dc.address, "--domain", dc.domain, "--user", dc.admin_user, "--dc-name", dc.fqdn,
            "--ca-file", dc.tls_ca]  # fmt: skip


def test_gpo_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "gpo" in capsys.readouterr().out


def test_pcoip_set_without_a_setting_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gpo", "pcoip", "set", "WS", "--adm", ADM]) == 2
    err = capsys.readouterr().err
    assert "No PCoIP setting given" in err and err.count("\n") == 1


def test_a_timeout_outside_the_adm_range_is_refused_before_connecting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No --dc at all: the value is checked against the template first.
    assert main(["gpo", "pcoip", "set", "WS", "--adm", ADM, "--reconnect-timeout", "5000"]) == 2
    assert "accepts 1 to 1440, not 5000" in capsys.readouterr().err


def test_an_unknown_clipboard_direction_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gpo", "pcoip", "set", "WS", "--adm", ADM, "--clipboard", "sideways"]) == 2
    assert "sideways" in capsys.readouterr().err


def test_create_dry_run_shows_the_plan_and_writes_nothing(
    dc1: LabDc, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", dc1.admin_password)
    name = f"adprep-test-{uuid.uuid4().hex[:8]}"
    assert (
        main(["gpo", "create", name, "--link", "domain", "--dry-run", "--format", "json", *lab_args(dc1)])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True and {c["status"] for c in out["changes"]} == {"planned"}
    kinds = [c["id"].split(":", 1)[0] for c in out["changes"]]
    assert kinds[0] == "gpo.create" and kinds[-1] == "gpo.link"
    assert dc1.admin_password not in json.dumps(out)
    # Nothing was written: show does not find it.
    assert main(["gpo", "show", name, *lab_args(dc1)]) == 2
    assert "There is no GPO named" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ("Configure remote printer=0", "pcoip.adm has no policy titled 'Configure remote printer'"),
        ("Configure remote printing", "is not TITLE=VALUE"),
        (
            "Configure Session Automatic Reconnection Policy > Session resume timeout=9999",
            "accepts 1 to 1440",
        ),
    ],
)
def test_a_bad_policy_is_refused_before_connecting(
    capsys: pytest.CaptureFixture[str], policy: str, fragment: str
) -> None:
    # No --dc at all: the policy is checked against the template first.
    assert main(["gpo", "pcoip", "set", "WS", "--adm", ADM, "--policy", policy]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_pcoip_set_by_title_installs_the_template_and_show_reads_it_back(
    dc1: LabDc, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_gpo_lab import Cleanup, _connection

    monkeypatch.setenv("ADPREP_PASSWORD", dc1.admin_password)
    with _connection(dc1) as conn:
        cleanup = Cleanup(conn)
        try:
            # Given a GPO made with gpo create
            name = cleanup.gpo_name()
            assert main(["gpo", "create", name, *lab_args(dc1)]) == 0
            capsys.readouterr()
            # When a policy is set by its title, first as a dry run
            args = [
                "gpo",
                "pcoip",
                "set",
                name,
                "--adm",
                ADM,
                "--policy",
                "Configure remote printing=Basic printing only",
            ]
            assert main([*args, "--dry-run", "--format", "json", *lab_args(dc1)]) == 0
            planned = [c["id"] for c in json.loads(capsys.readouterr().out)["changes"]]
            assert main([*args, *lab_args(dc1)]) == 0
            capsys.readouterr()
            # Then the plan installed the template, and show (no --adm) reads the setting through it
            assert any(i.startswith("sysvol.write:") and i.endswith("/Adm/pcoip.adm") for i in planned)
            assert main(["gpo", "show", name, "--format", "json", *lab_args(dc1)]) == 0
            shown = json.loads(capsys.readouterr().out)
            assert shown["templates"] == ["Adm/pcoip.adm"]
            assert shown["settings"] == [
                {"policy": "Configure remote printing (Overridable Administration Defaults)",
                 "value": "Basic printing only (1)"}
            ]  # fmt: skip
            # and a second run changes nothing
            assert main([*args, "--dry-run", "--format", "json", *lab_args(dc1)]) == 0
            assert json.loads(capsys.readouterr().out)["changes"] == []
        finally:
            cleanup.run()


def test_scan_reports_as_json(
    dc1: LabDc, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", dc1.admin_password)
    status = main(["gpo", "scan", "--format", "json", *lab_args(dc1)])
    out = json.loads(capsys.readouterr().out)
    assert out["command"] == "gpo scan"
    assert all(r["id"].startswith("gpo.scan") for r in out["results"])
    assert status in (0, 1)  # the shared lab may hold another engineer's banner GPO
