"""Secrets under faults: with the service-account password, the RADIUS secret and a WinRM password set
(to marker values), no child process adprep starts carries one in its argv or environment, and nothing
adprep prints after a crash under ``--debug`` (a traceback, a logged bug) contains one, even when a
library's exception echoes the secret in its message.

Every run here is a whole ``adprep`` process, as a user runs it; the crashes are forced by patching a
library function inside that process (``python -c``), since a real bug cannot be summoned on demand.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from adprep.secrets import SECRET_ENV_VARS

REPO = Path(__file__).resolve().parents[2]
ADPREP = REPO / ".venv" / "bin" / "adprep"
PYTHON = REPO / ".venv" / "bin" / "python"
MARKERS = {
    "ADPREP_PASSWORD": "svc-Pw-marker-7c1e4b",
    "ADPREP_RADIUS_SECRET": "radius-secret-marker-93ad",
    "ADPREP_WINRM_PASSWORD": "winrm-Pw-marker-51f0",
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV_VARS}
    env.update(MARKERS, **extra)
    return env


def _leaks(text: str) -> list[str]:
    return [name for name, marker in MARKERS.items() if marker in text]


@pytest.fixture
def recording_ssh(tmp_path: Path) -> Path:
    """An ``ssh`` that records its argv and environment, then runs the remote command here (the relay)."""
    record = tmp_path / "record"
    record.mkdir()
    path = tmp_path / "bin" / "ssh"
    path.parent.mkdir()
    path.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{record}/argv.$$"\n'
        f'env > "{record}/env.$$"\n'
        "for last; do :; done\n"
        'exec sh -c "$last"\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return record


@pytest.mark.parametrize(
    "args",
    [
        ["ports", "127.0.0.1", "--tcp", "9", "--udp", "53", "--timeout", "0.5"],
        ["radius", "check", "--server", "127.0.0.1", "--timeout", "1", "--retries", "0"],
        [
            "preflight",
            "--domain",
            "secrets.invalid",
            "--dns-ip",
            "127.0.0.1",
            "--user",
            "svc",
            "--timeout",
            "0.5",
        ],
    ],
    ids=["ports", "radius", "preflight"],
)
def test_no_child_process_gets_a_secret_in_argv_or_environment(recording_ssh: Path, args: list[str]) -> None:
    # Given every secret adprep reads set in its environment, and ssh on the PATH recording what it gets
    env = _env(PATH=f"{recording_ssh.parent / 'bin'}{os.pathsep}{os.environ['PATH']}")

    # When a command runs through an SSH relay (the one kind of child process adprep starts)
    proc = subprocess.run(
        [str(ADPREP), "--debug", *args, "--via", "far=ssh://relay-user@far-end", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    # Then ssh ran, and neither its argv nor its environment (nor the relay's: it inherits both) holds
    # a secret; nor does anything adprep printed
    recorded = sorted(recording_ssh.iterdir())
    assert any(p.name.startswith("argv.") for p in recorded), proc.stderr
    for path in recorded:
        assert not _leaks(path.read_text()), f"{path.name} holds {_leaks(path.read_text())}"
    assert not _leaks(proc.stdout + proc.stderr)
    # (the secrets did reach adprep itself: the relay's report is complete)
    assert proc.returncode in (0, 1, 3), proc.stderr


#: Runs adprep's CLI after patching ``TARGET`` (module:attribute) with a function that raises an
#: exception whose message holds ``SECRET`` (a library echoing a password: the worst case).
CRASH = """
import importlib, os, sys
from adprep.cli.main import main
module, _, name = os.environ["TARGET"].partition(":")
owner = importlib.import_module(module)
*path, last = name.split(".")
for part in path:
    owner = getattr(owner, part)
secret = os.environ[os.environ["SECRET"]]
def crash(*args, **kwargs):
    raise RuntimeError(f"a library echoed {secret!r} and {secret.encode()!r}")
setattr(owner, last, crash)
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("target", "secret", "args"),
    [
        # the service account's bind, read from ADPREP_PASSWORD (a write command: the bug ends the run)
        ("ldap3.strategy.sync:SyncStrategy.open", "ADPREP_PASSWORD",
         ["users", "check", "--dc", "127.0.0.1", "--domain", "secrets.invalid", "--user", "svc"]),
        # the RADIUS exchange, holding the shared secret (an area of a report: the bug is logged)
        ("adprep.transport.radius:exchange", "ADPREP_RADIUS_SECRET",
         ["radius", "check", "--server", "127.0.0.1", "--timeout", "1", "--retries", "0"]),
        # pywinrm's protocol, given the WinRM password
        ("winrm.protocol:Protocol", "ADPREP_WINRM_PASSWORD",
         ["ports", "127.0.0.1", "--tcp", "9", "--timeout", "1", "--via", "w=winrm://Administrator@127.0.0.1"]),
    ],
    ids=["ldap-bind", "radius", "winrm"],
)  # fmt: skip
def test_debug_output_after_a_crash_holds_no_secret(target: str, secret: str, args: list[str]) -> None:
    # Given a library that raises an exception quoting the secret, inside a real adprep process
    env = _env(TARGET=target, SECRET=secret)

    # When the command crashes on it under --debug
    proc = subprocess.run(
        [str(PYTHON), "-c", CRASH, "--debug", *args, "--format", "json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    # Then the traceback is printed (the crash happened, the exception message is shown) with the
    # secret replaced, in stderr and in the report
    assert "a library echoed" in proc.stderr, proc.stderr
    assert "Traceback" in proc.stderr
    assert "<secret>" in proc.stderr
    assert not _leaks(proc.stdout + proc.stderr), proc.stderr
    assert proc.returncode in (3, 4), proc.stderr


def test_tracebacks_print_no_locals() -> None:
    # A traceback shows code and exception messages, never the values of local variables (where a
    # revealed password lives during a bind): Python's default, which adprep keeps (no rich tracebacks).
    code = (
        "import sys\nfrom adprep.cli.main import main\nimport adprep.cli.main as m\n"
        "def boom(*a, **k):\n    password = 'local-marker-0aa1'\n    raise ValueError('boom')\n"
        "m.cli.main = boom\nsys.exit(main(['--debug', 'ports']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 4 and "ValueError: boom" in proc.stderr
    assert "local-marker-0aa1" not in proc.stderr
