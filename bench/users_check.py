"""Benchmark: ``adprep users check`` against ``ldapsearch`` (the same paged filter and attributes) on
the lab DC (dc1, LDAPS), on N users of an OU of our own, in one run.

The users are written with one ``ldapadd`` (no passwords: PASSWD_NOTREQD and DONT_EXPIRE_PASSWORD,
so they are enabled and need no password keys, which keeps a 50,000-user setup to minutes); 10 %
have no mail and 1 % must change their password, so the report has names to carry. Prints the
setup time, the wall time of ``adprep users check --ou`` (JSON) and of ``ldapsearch -E pr=1000`` of
the same entries, adprep's users/s, the ``--csv`` run over every name, and the peak RSS of the
check on N / 10 and on N users (goal: flat, the larger within 1.5 x plus the names it reports).
Everything is deleted afterwards (tree delete). Run after ``scripts/lab up dc1``:

    .venv/bin/python -m bench.users_check [--count 10000]

``--offline --dc NAME`` loads a DC of your own instead, fast: with the DC stopped, ``ldbadd``
writes the users straight into its sam.ldb (Samba's modules still assign SIDs and account types),
then the DC starts again. The OUs (``adp-bench-N``) stay for the next run, which only measures.
On top of the above it times the preflight's directory checks (user count, pre-authentication
scan, VLV, CN index, the account) and ``users check`` over the whole domain, each as a process
with its peak RSS. Never on the shared DCs (dc1, dc2, dc4). For 50,000 users:

    scripts/lab up dc7 --addr 127.0.0.10
    .venv/bin/python -m bench.users_check --offline --dc dc7 --count 50000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from adprep.collect.users import SCAN_FILTER, USER_ATTRIBUTES
from adprep.secret import Secret
from adprep.transport.ldap import LdapTarget, connect
from bench.users_import import TREE_DELETE, peak_rss_kb

REPO = Path(__file__).resolve().parent.parent
#: NORMAL_ACCOUNT | PASSWD_NOTREQD | DONT_EXPIRE_PASSWORD (MS-ADTS 2.2.16): enabled without a password.
UAC = 0x200 | 0x20 | 0x10000
DONT_REQ_PREAUTH = 0x400000
#: The DCs other people's tests use: never loaded offline (the DC stops meanwhile).
SHARED_DCS = ("dc1", "dc2", "dc4")
#: Users per ldbadd run when loading offline.
LOAD_BATCH = 2_000


def write_ldif(
    path: Path, ou_dn: str, n: int, *, names: list[str] | None = None, offset: int = 0, with_ou: bool = True
) -> list[str]:
    """N users (random names, or ``names``) under a new OU; 1 in 1,000 without Kerberos pre-authentication.

    ``offset``: the position of the first user in the whole set (a batch of it), ``with_ou``: add the OU.
    """
    chosen = names if names is not None else [f"c{secrets.token_hex(6)}" for _ in range(n)]
    with path.open("w", encoding="utf-8") as f:
        if with_ou:
            f.write(f"dn: {ou_dn}\nchangetype: add\nobjectClass: organizationalUnit\n\n")
        for i, sam in enumerate(chosen, start=offset):
            mail = "" if i % 10 == 0 else f"mail: {sam}@lab.example\n"
            uac = UAC & ~0x10000 if i % 100 == 1 else UAC  # pwdLastSet 0 without "never expires": must change
            uac |= DONT_REQ_PREAUTH if i % 1000 == 7 else 0
            f.write(f"dn: CN={sam},{ou_dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {sam}\n"
                    f"userAccountControl: {uac}\n{mail}\n")  # fmt: skip
    return chosen


def lab_dc(name: str) -> dict[str, str]:
    facts = json.loads((REPO / ".lab" / "lab.json").read_text())
    if name not in facts["dcs"]:
        sys.exit(f"no DC {name!r} in .lab/lab.json: start it first (scripts/lab up {name} --addr 127.0.0.N)")
    d: dict[str, str] = facts["dcs"][name]
    return d


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t0
    if r.returncode not in ok:
        sys.exit(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return took, r.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--dc", default="dc1", help="the lab DC (a name in .lab/lab.json)")
    ap.add_argument("--offline", action="store_true", help="load the users into the stopped DC's sam.ldb")
    ap.add_argument("--load-budget", type=float, help="with --offline: stop loading after this many seconds")
    args = ap.parse_args()
    if args.offline:
        return offline(args.dc, args.count, args.load_budget)
    n = args.count
    dc = lab_dc(args.dc)
    admin_pw = Path(dc["admin_password_file"]).read_text().strip()
    base, domain, address = dc["base_dn"], dc["domain"], dc["address"]
    tag = secrets.token_hex(3)
    ous = {size: f"OU=adp-bench-{tag}-{size},{base}" for size in (n // 10, n)}
    env = dict(os.environ, ADPREP_PASSWORD=admin_pw, LDAPTLS_REQCERT="never")
    conn = ["--dc", address, "--domain", domain, "--user", dc["admin_user"], "--dc-name", dc["fqdn"],
            "--ca-file", dc["tls_ca"]]  # fmt: skip
    adprep = [str(REPO / ".venv" / "bin" / "adprep"), "-q", "users", "check"]
    target = LdapTarget(address, server_name=dc["fqdn"], ca_file=dc["tls_ca"])
    with (
        tempfile.TemporaryDirectory() as tmpdir,
        connect(target, user=f"{dc['admin_user']}@{domain}", password=Secret(admin_pw, "lab")) as admin,
    ):
        tmp = Path(tmpdir)
        pwfile = tmp / "admin.pw"
        pwfile.write_text(admin_pw)
        pwfile.chmod(0o600)
        bind = ["-x", "-H", f"ldaps://{address}", "-D", f"{dc['admin_user']}@{domain}", "-y", str(pwfile)]
        try:
            t_setup = 0.0
            names: list[str] = []
            for size, ou in ous.items():
                ldif = tmp / f"{size}.ldif"
                names = write_ldif(ldif, ou, size)
                t_setup += timed(["ldapadd", *bind, "-f", str(ldif)], env)[0]
            big = ous[n]
            t_adprep, out = timed([*adprep, "--ou", big, "--format", "json", *conn], env, ok=(0, 1))
            results = {r["id"]: r for r in json.loads(out)["results"]}
            t_search, ldif_out = timed(["ldapsearch", *bind, "-b", big, "-E", "pr=1000/noprompt", SCAN_FILTER,
                                        *USER_ATTRIBUTES], env)  # fmt: skip
            names_csv = tmp / "names.csv"
            names_csv.write_text("sAMAccountName\n" + "\n".join(names) + "\n")
            t_csv, _ = timed([*adprep, "--csv", str(names_csv), "--format", "json", *conn], env, ok=(0, 1))
            rss = {
                size: peak_rss_kb([*adprep, "--ou", ou, "--format", "json", *conn], env)
                for size, ou in ous.items()
            }
        finally:
            for ou in ous.values():
                with contextlib.suppress(Exception):
                    admin.raw_connection.delete(ou, controls=[(TREE_DELETE, True, None)])
    checked = results["users.scope"]["facts"]["checked"]
    found = ldif_out.count("\ndn: ") + ldif_out.startswith("dn: ")
    print(
        f"users: {checked} checked by adprep, {found} returned by ldapsearch; setup (ldapadd) {t_setup:.1f} s"
    )
    print(f"problems reported: mail {results['users.mail']['facts']['count']}, "
          f"must change {results['users.must_change_password']['facts']['count']}")  # fmt: skip
    print(f"adprep users check --ou : {t_adprep:7.2f} s  ({checked / t_adprep:7.0f} users/s)")
    print(f"ldapsearch (same pages) : {t_search:7.2f} s  ({found / t_search:7.0f} users/s)")
    print(f"adprep / ldapsearch time: {t_adprep / t_search:5.2f} x")
    print(
        f"adprep users check --csv: {t_csv:7.2f} s for {len(names)} names ({len(names) / t_csv:7.0f} names/s)"
    )
    small, large = rss[n // 10], rss[n]
    print(f"peak RSS: {small / 1e3:.1f} MB for {n // 10} users, {large / 1e3:.1f} MB for {n} users "
          f"({large / small:.2f} x, goal <= 1.5)")  # fmt: skip
    return 0 if checked == n else 1


def peak(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one process (wait4's rusage: this child alone)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode not in ok:
            sys.exit(f"{cmd[0]} failed ({proc.returncode}): {err.read().strip()[-800:]}")
        return took, usage.ru_maxrss / 1024, out.read()


def ou_count(sam_ldb: str, ou: str) -> int | None:
    """Users directly under ``ou`` in a stopped DC's database; None when the OU does not exist."""
    r = subprocess.run(["ldbsearch", "-H", sam_ldb, "-b", ou, "-s", "one", "(objectClass=user)", "dn"],
                       capture_output=True, text=True, check=False)  # fmt: skip
    if r.returncode != 0:
        return None
    return r.stdout.count("\ndn: ") + r.stdout.startswith("dn: ")


#: The directory checks of a preflight (adprep.jobs.directory_checks) as a process of their own, so
#: their time and peak RSS are theirs. The password comes from ADPREP_PASSWORD, never from argv.
DIRECTORY_CHECKS = """
import os, sys, time
from adprep.jobs.directory_checks import run_directory_checks
from adprep.secret import Secret
address, name, domain, user, ca = sys.argv[1:6]
t0 = time.perf_counter()
results = run_directory_checks(dc_address=address, dc_name=name, domain=domain, username=user,
    password=Secret(os.environ["ADPREP_PASSWORD"], "env:ADPREP_PASSWORD"), mode="ldaps", ca_file=ca,
    verify=True, target_ou=None, join_probe=False, timeout=30.0)
took = time.perf_counter() - t0
for r in results:
    print(r.id, r.status.value, r.title, sep="\t")
print(f"took\t{took:.2f}")
"""


def offline(name: str, n: int, budget: float | None = None) -> int:
    """Load ``n`` and ``n // 10`` users into DC ``name`` offline (once), then measure the checks on them."""
    if name in SHARED_DCS:
        sys.exit(f"--offline stops the DC: not on {name}, which others' tests use (start one: scripts/lab up "
                 "dc7 --addr 127.0.0.10)")  # fmt: skip
    dc = lab_dc(name)
    admin_pw = Path(dc["admin_password_file"]).read_text().strip()
    base, domain, address = dc["base_dn"], dc["domain"], dc["address"]
    sizes = (n // 10, n)
    ous = {size: f"OU=adp-bench-{size},{base}" for size in sizes}
    names = {size: [f"b{size}-{i:06d}" for i in range(size)] for size in sizes}
    lab_script = str(REPO / "scripts" / "lab")
    subprocess.run([lab_script, "down", name], check=True, capture_output=True)
    t_load, loaded = 0.0, 0
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            for size, ou in ous.items():
                # Batches commit whole and in order, so a load cut short resumes after the last one.
                have = ou_count(dc["sam_ldb"], ou) or 0
                if have % LOAD_BATCH and have != size:
                    sys.exit(
                        f"{ou} holds {have} users, not whole batches: start over with scripts/lab reset {name}"
                    )
                # One ldbadd (one transaction) per batch: a single transaction of 50,000 entries slowed
                # down as it grew (a quarter loaded after 15 minutes).
                for start in range(have, size, LOAD_BATCH):
                    if budget is not None and t_load >= budget:
                        break
                    ldif = Path(tmpdir) / f"{size}-{start}.ldif"
                    batch = names[size][start : start + LOAD_BATCH]
                    write_ldif(ldif, ou, len(batch), names=batch, offset=start, with_ou=start == 0)
                    took = timed(["ldbadd", "-H", dc["sam_ldb"], str(ldif)], dict(os.environ))[0]
                    t_load += took
                    loaded += len(batch)
                    print(f"  loaded {ou.split(',')[0]} {start + len(batch)}/{size}: {len(batch) / took:.0f} users/s",
                          flush=True)  # fmt: skip
    finally:
        subprocess.run([lab_script, "up", name, "--addr", address], check=True, capture_output=True)
    if loaded:
        print(f"loaded {loaded} users offline (ldbadd into sam.ldb, {LOAD_BATCH} per run) in {t_load:.1f} s")
    env = dict(os.environ, ADPREP_PASSWORD=admin_pw, LDAPTLS_REQCERT="never")
    conn = ["--dc", address, "--domain", domain, "--user", dc["admin_user"], "--dc-name", dc["fqdn"],
            "--ca-file", dc["tls_ca"]]  # fmt: skip
    adprep = [str(REPO / ".venv" / "bin" / "adprep"), "-q", "users", "check"]
    python = str(REPO / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        pwfile = tmp / "admin.pw"
        pwfile.write_text(admin_pw)
        pwfile.chmod(0o600)
        bind = ["-x", "-H", f"ldaps://{address}", "-D", f"{dc['admin_user']}@{domain}", "-y", str(pwfile)]
        t_dir, rss_dir, out = peak([python, "-c", DIRECTORY_CHECKS, address, dc["fqdn"], domain, dc["admin_user"],
                                    dc["tls_ca"]], env, ok=(0,))  # fmt: skip
        rows = dict(line.split("\t", 1) for line in out.splitlines())
        print(f"directory checks (preflight's directory part): {t_dir:.2f} s whole process "
              f"({rows.get('took', '?')} s of checks), peak RSS {rss_dir:.0f} MB")  # fmt: skip
        for cid in ("directory.vlv.setting", "directory.cn_index", "directory.preauth"):
            print(f"  {cid}: {rows.get(cid, '(none)').replace(chr(9), ': ', 1)}")
        t_search, ldif_out = timed(["ldapsearch", *bind, "-b", base, "-E", "pr=1000/noprompt", SCAN_FILTER,
                                    *USER_ATTRIBUTES], env)  # fmt: skip
        found = ldif_out.count("\ndn: ") + ldif_out.startswith("dn: ")
        t_all, rss_all, out = peak([*adprep, "--format", "json", *conn], env)
        checked = json.loads(out)["results"]
        scope = next(r for r in checked if r["id"] == "users.scope")["facts"]["checked"]
        print(f"adprep users check (whole domain): {t_all:.2f} s for {scope} users ({scope / t_all:.0f} users/s), "
              f"peak RSS {rss_all:.0f} MB; ldapsearch (same filter, pages of 1,000): {t_search:.2f} s for "
              f"{found} entries; adprep / ldapsearch time {t_all / t_search:.2f} x")  # fmt: skip
        rss: dict[int, float] = {}
        counts: dict[int, int] = {}
        for size, ou in ous.items():
            t_ou, rss[size], out = peak([*adprep, "--ou", ou, "--format", "json", *conn], env)
            got = counts[size] = next(r for r in json.loads(out)["results"] if r["id"] == "users.scope")[
                "facts"
            ]["checked"]
            print(
                f"adprep users check --ou {ou.split(',')[0]}: {t_ou:.2f} s for {got} users, peak RSS {rss[size]:.0f} MB"
            )
        names_csv = tmp / "names.csv"
        names_csv.write_text("sAMAccountName\n" + "\n".join(names[n][: counts[n]]) + "\n")
        t_csv, rss_csv, _ = peak([*adprep, "--csv", str(names_csv), "--format", "json", *conn], env)
        print(f"adprep users check --csv ({counts[n]} names): {t_csv:.2f} s, peak RSS {rss_csv:.0f} MB")
    small, large = rss[sizes[0]], rss[sizes[1]]
    print(f"peak RSS --ou: {small:.0f} MB for {counts[sizes[0]]} users, {large:.0f} MB for {counts[sizes[1]]} users "
          f"({large / small:.2f} x, goal <= 1.5)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
