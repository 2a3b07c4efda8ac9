"""The open-files limit (RLIMIT_NOFILE) and how many probes it lets run at once."""

from __future__ import annotations

#: File descriptors kept free for everything that is not a probe (LDAP, SMB, stdio, the event loop).
FD_RESERVE = 64


def usable_concurrency(wanted: int) -> int:
    """``wanted``, or fewer when the open-files limit (RLIMIT_NOFILE) would run out of sockets.

    The soft limit is raised to the hard one first (what a user may do with ``ulimit -n``).
    """
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to raise or respect
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))
