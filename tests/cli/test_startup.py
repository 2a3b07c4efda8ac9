"""Start-up cost: a command imports only what its run needs (issue 15: whole-process speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: Modules a TCP-only ``adprep ports`` run must not import: the event loop (and the ssl, logging and
#: concurrent.futures it pulls in), protocol codecs and the table renderer. Each costs start-up time.
NOT_FOR_A_TCP_SWEEP = ("asyncio", "ssl", "logging", "concurrent.futures", "impacket", "ldap3", "dns", "rich")


def test_a_tcp_only_ports_run_imports_no_event_loop_and_no_codec(tmp_path: Path) -> None:
    # Given a TCP-only sweep from this host (port 9: nothing listens, refused at once)
    out = tmp_path / "ports.json"
    code = (
        "import sys; from adprep.cli.main import main; "
        f"rc = main(['-q', 'ports', '--tcp', '9', '--timeout', '1', '--format', 'json', '-o', {str(out)!r}, "
        "'127.0.0.1']); "
        f"print(rc, ','.join(m for m in {NOT_FOR_A_TCP_SWEEP!r} if m in sys.modules))"
    )
    # When it runs in a fresh interpreter
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Then it finished (closed port: exit 1) without importing any of them
    assert proc.stdout.split() == ["1"], proc.stdout + proc.stderr


def test_the_head_start_imports_nothing_before_its_connects() -> None:
    # Given a fresh interpreter, when the program's head start is imported (adprep.cli.launch does
    # it first), then the only modules it loaded are its own and the C socket module: the connects
    # of a plain TCP sweep leave before enum, selectors, typing, re or click load
    code = (
        "import sys; before = set(sys.modules); import adprep.cli.head_start; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(proc.stdout.split())
    ours = {m for m in loaded if m == "adprep" or m.startswith("adprep.")}
    assert loaded - ours <= {"_socket", "errno", "_thread"}, loaded
    assert ours == {
        "adprep",
        "adprep.cli",
        "adprep.cli.head_start",
        "adprep.transport",
        "adprep.transport.early_tcp",
    }
