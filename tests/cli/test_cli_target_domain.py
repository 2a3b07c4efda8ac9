"""``preflight --target-domain``: bad inputs are exit 2 with one sentence, before any password or traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from adprep.cli.exit import ExitStatus
from adprep.cli.main import main

BASE = ["preflight", "--domain", "corp.example.com", "--dns-ip", "10.0.0.1", "--user", "svc"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--target-domain", "Corp.Example.com"], "is the domain AD Connector connects to"),
        (["--target-domain", "res"], "single-label"),
        (
            ["--target-domain", "res.example.com", "--ou", "OU=WS,DC=corp,DC=example,DC=com"],
            "not in the target domain",
        ),
    ],
)
def test_target_domain_inputs_are_checked_before_the_password(
    extra: list[str], needle: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no password anywhere, when the target domain cannot be right, then that is what is reported
    monkeypatch.delenv("ADPREP_PASSWORD", raising=False)
    assert main([*BASE, *extra]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_the_config_file_key_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "p.toml"
    conf.write_text(
        '[directory]\ndomain = "corp.example.com"\ndns_ips = ["10.0.0.1"]\ntarget_domain = "corp.example.com"\n'
    )
    assert main(["preflight", "--config", str(conf)]) == ExitStatus.USAGE
    assert "is the domain AD Connector connects to" in capsys.readouterr().err
