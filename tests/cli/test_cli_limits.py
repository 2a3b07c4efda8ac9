"""Resource limits a sweep must respect, seen as a user sees them (a whole process)."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import REPO


def test_a_low_open_files_limit_caps_concurrency_and_says_so() -> None:
    # Given a shell whose open-files limit (soft and hard) is 100
    adprep = REPO / ".venv" / "bin" / "adprep"
    script = f"ulimit -n 100 && exec {adprep} ports 127.0.0.1 --tcp 1,2,3 --concurrency 256 --format json"
    # When a sweep asks for 256 probes at once
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    # Then it runs (no EMFILE errors) within the limit and the report says it was capped
    results = {r["id"]: r for r in json.loads(done.stdout)["results"]}
    assert results["ports.concurrency"]["status"] == "warn"
    assert results["ports.concurrency"]["facts"] == {"concurrency": 36, "wanted": 256}
    assert all(
        r["facts"].get("verdict") == "closed" for i, r in results.items() if i.startswith("ports.tcp.")
    )
