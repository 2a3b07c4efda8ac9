"""adprep as a user installs it, for benchmarks that time whole processes.

The development environment (.venv) holds adprep as an editable install: setuptools' import hook
for it loads at every interpreter start (pathlib, re, importlib.util…, about 10 ms), and a working
tree's byte code can be stale. A user's ``pip install adprep`` has neither. :func:`installed_adprep`
builds the working tree's wheel, installs it byte-compiled into a virtual environment of its own
under .lab/bench-install (adprep's dependencies come from .venv through a path entry, so nothing is
downloaded but the build backend), and returns that ``adprep`` program.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / ".lab" / "bench-install"


def installed_adprep() -> str:
    """The path of an installed copy of the working tree's adprep (rebuilt on every call)."""
    shutil.rmtree(ROOT, ignore_errors=True)
    wheels, venv = ROOT / "wheel", ROOT / "venv"
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)], **quiet
    )
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], **quiet)
    (wheel,) = wheels.glob("adprep-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], **quiet)  # fmt: skip
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    # The dependencies: .venv's site-packages as a plain path (its .pth files, the editable hook
    # among them, are not read from there).
    (site / "adprep-bench-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return str(venv / "bin" / "adprep")
