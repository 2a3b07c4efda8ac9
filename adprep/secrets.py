"""Reading secrets (passwords, shared secrets): from an environment variable, a file, or a prompt.

Never from argv. The value read is an :class:`adprep.secret.Secret`, which hides it from logs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from adprep.errors import InputError, SecretError
from adprep.secret import Secret


def read_secret(
    *,
    what: str,
    env_var: str,
    file: Path | None = None,
    prompt: Callable[[str], str] | None = None,
    required: bool = True,
) -> Secret | None:
    """Find a secret: ``file`` if given, else ``env_var``, else ``prompt`` when stdin is a terminal.

    ``what`` names the secret for messages ("the service account password").
    """
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as e:
            raise SecretError(
                f"Cannot read {what} from {file}: {e.strerror or e}",
                hint="Check the path and its permissions.",
            ) from None
        # One trailing newline is an editor's, not the secret's.
        value = text[:-1] if text.endswith("\n") else text
        if value.endswith("\r"):
            value = value[:-1]
        if not value:
            raise SecretError(f"The file {file} for {what} is empty", hint="Write the secret into it.")
        return Secret(value, f"file:{file}")
    from_env = os.environ.get(env_var)
    if from_env:
        return Secret(from_env, f"env:{env_var}")
    if prompt is not None and sys.stdin.isatty():
        entered = prompt(f"{what[0].upper()}{what[1:]}")
        if entered:
            return Secret(entered, "prompt")
    if not required:
        return None
    raise SecretError(
        f"{what[0].upper()}{what[1:]} is needed and was not given",
        hint=f"Set {env_var}, or pass a file with the matching --*-file option (never on the command line).",
    )


#: The environment variables adprep reads secrets from: never passed on to a process adprep starts.
SECRET_ENV_VARS = (
    "ADPREP_PASSWORD",
    "ADPREP_ACCOUNT_PASSWORD",
    "ADPREP_RADIUS_SECRET",
    "ADPREP_RADIUS_USER_PASSWORD",
    "ADPREP_WINRM_PASSWORD",
    "ADPREP_SERVICE_PASSWORD",
)


def child_environment() -> dict[str, str]:
    """This process's environment without the secrets adprep reads, for the processes it starts (ssh)."""
    return {k: v for k, v in os.environ.items() if k not in SECRET_ENV_VARS}


#: Secrets shorter than this are not scrubbed from text: replacing every "ab" would garble a traceback.
_SCRUB_MIN_LENGTH = 4


def scrub(text: str) -> str:
    """``text`` with every secret adprep holds replaced by ``<secret>``: those read, prompted or generated in
    this process, and the values of :data:`SECRET_ENV_VARS` (set even if unused), as they are and as a
    Python repr shows them. For what is printed after a crash (``--debug``), where a library's exception
    message may echo a password."""
    from adprep.secret import seen_values

    values = set(seen_values()) | {os.environ[k] for k in SECRET_ENV_VARS if os.environ.get(k)}
    forms = values | {repr(v)[1:-1] for v in values}
    for form in sorted(forms, key=len, reverse=True):
        if len(form) >= _SCRUB_MIN_LENGTH:
            text = text.replace(form, "<secret>")
    return text


def open_private(path: Path, *, append: bool) -> TextIO:
    """Open ``path`` for writing with mode 0600 (created so, and tightened if it existed)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.fchmod(fd, 0o600)
    except OSError as e:
        raise InputError(
            f"Cannot write {path}: {e.strerror or e}", hint="Check the path and its permissions."
        ) from None
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
