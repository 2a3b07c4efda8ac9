from __future__ import annotations

from pathlib import Path

import pytest

from adprep.config import load_config, pick
from adprep.errors import ConfigError, SecretError
from adprep.secrets import read_secret


def test_secret_from_file_strips_one_newline_and_never_shows(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_text("s3cret value\n")
    secret = read_secret(what="the password", env_var="ADPREP_TEST_NOPE", file=f)
    assert secret is not None
    assert secret.reveal() == "s3cret value"
    assert "s3cret" not in repr(secret) and "s3cret" not in str(secret) and "s3cret" not in f"{secret}"


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADPREP_TEST_PW", "abc")
    secret = read_secret(what="the password", env_var="ADPREP_TEST_PW")
    assert secret is not None and secret.source == "env:ADPREP_TEST_PW"


def test_missing_secret_says_where_to_put_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADPREP_TEST_PW", raising=False)
    with pytest.raises(SecretError, match="ADPREP_TEST_PW"):
        read_secret(what="the password", env_var="ADPREP_TEST_PW")


def test_config_refuses_secrets(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[directory]\npassword = "x"\n')
    with pytest.raises(ConfigError, match=r"directory\.password"):
        load_config(f)


def test_config_bad_toml_and_flag_precedence(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[ports\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(f)
    assert pick(None, {"timeout": 3}, "timeout", 2) == 3
    assert pick(1.5, {"timeout": 3}, "timeout", 2) == 1.5
