"""The configuration file (TOML): the same inputs as the flags, which override it.

Sections: ``[ports]``, ``[directory]`` (domain, dns_ips, service account, target OU), ``[radius]``.
Secrets are never read from it: only the path of a file that holds one (``password_file``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adprep.errors import ConfigError

#: Keys that would hold a secret: refused with a sentence that says where secrets go instead.
_SECRET_KEYS = {"password", "secret", "shared_secret", "radius_secret"}


def load_config(path: Path | None) -> dict[str, Any]:
    """Read the TOML file at ``path`` (an empty config when None)."""
    if path is None:
        return {}
    import tomllib  # only when a file is given: a run without one does not pay for the parser

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(
            f"Cannot read the config file {path}: {e.strerror or e}", hint="Check the path."
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"The config file {path} is not valid TOML: {e}", hint="Fix the line it names."
        ) from None
    _refuse_secrets(data, path)
    return data


def _refuse_secrets(data: Mapping[str, Any], path: Path, prefix: str = "") -> None:
    for key, value in data.items():
        if key in _SECRET_KEYS:
            raise ConfigError(
                f"The config file {path} holds a secret in '{prefix}{key}'",
                hint="Remove it; give a path in 'password_file'/'secret_file', or set the environment variable.",
            )
        if isinstance(value, Mapping):
            _refuse_secrets(value, path, f"{prefix}{key}.")


def section(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One ``[section]`` of the config, empty when absent."""
    value = config.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"'{name}' in the config file must be a table ([{name}])", hint="See the README example."
        )
    return dict(value)


def pick(flag: Any, config: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """A flag's value when given, else the config's, else ``default``."""
    if flag is not None and flag != ():
        return flag
    return config.get(key, default)
