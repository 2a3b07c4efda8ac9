"""The ``adprep`` program's entry point: a head start for a plain TCP sweep, the command line, a fast exit.

Nothing but the standard library is imported before :func:`adprep.cli.head_start.head_start` has
begun the connects of an ``adprep ports … --tcp …`` run; such a run then goes on without click
(:mod:`adprep.cli.plain`), every other one through the command line (:mod:`adprep.cli.main`). Once the
command has finished and its output is flushed, the process ends without tearing the interpreter
down (freeing every object and module costs a sweep of a hundred addresses ~10 ms): mypy's
``fast_exit`` does the same.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    started = None
    try:
        from adprep.cli.head_start import head_start

        started = head_start(sys.argv[1:], os.environ)
        if started is not None:
            from adprep.cli.plain import run as run_plain
        else:
            from adprep.cli.main import main as run
    except KeyboardInterrupt:  # Ctrl-C before the command (which handles it after) has loaded
        if started is not None:
            started[1].close()
        sys.stderr.write("adprep: interrupted.\n")
        return 130  # ExitStatus.INTERRUPTED, without loading what defines it
    if started is None:
        status = run()
    else:
        plan, early = started
        try:
            status = run_plain(plan, early)
        finally:
            early.close()
    _fast_exit(status)
    return status


def _fast_exit(status: int) -> None:
    """End the process with ``status`` now, when nothing is left to do: the output flushed, no other
    thread running. Otherwise (a flush failed: a closed pipe, a full disk) return, and the normal exit
    reports it."""
    threading = sys.modules.get("threading")  # not imported: no thread but this one
    if threading is not None and threading.active_count() > 1:
        return
    if "logging" in sys.modules:  # --debug's handler; logging's atexit hook would flush it
        sys.modules["logging"].shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
