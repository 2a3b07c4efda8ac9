"""Faults in the middle of writes, the short version of bench/torture.py, on a DC of our own (dc6,
127.0.0.7, brought up here and, unless it was up already, down at the end; dc1/dc2 are never touched).

``kill -9`` lands at a seeded random point (printed, with ``-s``) of users import, delegate, account
create, gpo create + gpo pcoip set and fix; the next run must finish the job: nothing twice, every
generated password in its file and working, GPO versions coherent, and a further run plans nothing.
The DC stopped in the middle of an import gives one sentence and exit 3, and the run after it is back
finishes. Two imports of overlapping files at once both end clean."""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench import torture as t
from tests.conftest import missing_peer

pytestmark = pytest.mark.lab

ROWS = 50
#: Rows of the concurrent imports (each; half of them in both files) and of the import the DC stops in.
SMALL = 20
SEED = int(os.environ.get("ADPREP_TORTURE_SEED", "0")) or secrets.randbelow(2**31)


@pytest.fixture(scope="module")
def dc6() -> Iterator[t.Dc]:
    """dc6, held for this module (another session's run of it waits: both stop and start dc6), and
    left as found: brought down at the end only if this module brought it up."""
    with t.dc_lock("dc6"):
        try:
            t.dc_facts("dc6")
            was_up = True
        except (t.LabFailed, OSError, ValueError, KeyError):
            was_up = False
        try:
            dc = t.dc_up()
            t.wait_ldap(dc)
        except (t.LabFailed, OSError) as e:
            missing_peer(str(e))
        try:
            yield dc
        finally:
            if not was_up:
                t.dc_down()


@pytest.fixture(scope="module")
def rng() -> random.Random:
    print(f"torture seed {SEED} (replay: ADPREP_TORTURE_SEED={SEED})")
    return random.Random(SEED)


@pytest.fixture
def admin(dc6: t.Dc) -> Iterator[t.LdapSession]:
    with t.admin_session(dc6) as s:
        yield s


def _recovered(o: t.Outcome) -> None:
    print(
        f"{o.job}: {o.how}, killed in {o.phase} {o.progress} -> {'recovered' if o.recovered else o.problems}"
    )
    assert o.recovered, f"seed {SEED}: {o.how} in {o.phase}: {o.problems}"


def test_users_import_killed_after_n_users(
    dc6: t.Dc, admin: t.LdapSession, rng: random.Random, tmp_path: Path
) -> None:
    at = rng.randint(1, ROWS - 1)
    o = t.kill_once(t.UsersJob(dc6, admin, tmp_path, ROWS), kill_at=at)
    assert o.phase == "users import"
    _recovered(o)


def test_each_command_killed_at_a_random_point(dc6: t.Dc, rng: random.Random, tmp_path: Path) -> None:
    """delegate, account create, fix, gpo create + pcoip set: each killed after a delay drawn from
    [0, T], T a full run of the same job on other names; and gpo create killed as soon as its
    groupPolicyContainer exists (the half-made GPO). The jobs use distinct names, so they run side
    by side (each with its own LDAP session) to keep the suite short."""
    draws = {job: rng.random() for job in ("delegate", "account", "fix", "gpo")}

    def delay_kill(job: str) -> t.Outcome:
        with t.admin_session(dc6) as admin:
            total = t.measure(t.make_job(job, dc6, admin, tmp_path, ROWS))
            return t.kill_once(
                t.make_job(job, dc6, admin, tmp_path, ROWS), delay=draws[job] * total, total=total
            )

    def half_made_gpo() -> t.Outcome:
        with t.admin_session(dc6) as admin:
            # (the version bumps are checked after the other GPO fault)
            return t.kill_once(t.GpoJob(dc6, admin, tmp_path, check_bumps=False), kill_at=1)

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(delay_kill, job) for job in draws] + [pool.submit(half_made_gpo)]
        outcomes = [f.result() for f in futures]
    assert outcomes[-1].phase == "gpo create"
    for o in outcomes:
        _recovered(o)


def test_two_imports_of_overlapping_files_at_once(dc6: t.Dc, admin: t.LdapSession, tmp_path: Path) -> None:
    _recovered(t.concurrent_once(dc6, admin, tmp_path, SMALL))


def test_dc_stopped_in_the_middle_of_an_import(dc6: t.Dc, rng: random.Random, tmp_path: Path) -> None:
    at = rng.randint(2, SMALL // 2)
    o = t.dc_stop_once(dc6, lambda a: t.UsersJob(dc6, a, tmp_path, SMALL), at)
    assert o.phase == "users import"
    assert f"connection to {dc6.address}:636 was lost" in o.progress or not o.recovered
    _recovered(o)
