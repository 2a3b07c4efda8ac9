"""-o FILE: written whole through a temporary file, except into a device or pipe, which stays one."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from adprep.cli.main import main


def test_a_report_into_a_fifo_goes_through_it_and_the_fifo_stays(tmp_path: Path) -> None:
    # Given a named pipe with a reader (as /dev/stdout or a process substitution would be)
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    # When a report is written to it
    rc = main(
        ["-q", "ports", "--tcp", "9", "--timeout", "0.5", "--format", "json", "-o", str(fifo), "127.0.0.1"]
    )
    reader.join(timeout=10)
    # Then the reader got the whole report, and the pipe was not replaced by a plain file
    assert rc == 1
    assert json.loads(got[0])["results"][0]["facts"]["verdict"] == "closed"
    assert fifo.is_fifo()
    assert not (tmp_path / ".report.fifo.tmp").exists()


def test_a_report_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("old")
    assert (
        main(
            ["-q", "ports", "--tcp", "9", "--timeout", "0.5", "--format", "json", "-o", str(out), "127.0.0.1"]
        )
        == 1
    )
    assert json.loads(out.read_text())["exit_status"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_full_disk_under_standard_output_is_one_sentence_not_a_bug() -> None:  # help, listings: the same
    # Given standard output on a device that is always full, when the program writes a report there
    import subprocess
    import sys

    program = Path(sys.executable).parent / "adprep"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [str(program), "ports", "--tcp", "9", "--timeout", "0.5", "--format", "json", "127.0.0.1"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=30, check=False,
        )  # fmt: skip
    # Then exit 3 (could not run), with one sentence naming what failed (no "internal error", no traceback)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "adprep: could not run: a write failed: No space left on device. Check the disk (space, quota) where "
        "the output goes."
    ]
