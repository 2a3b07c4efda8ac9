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
from bench.users_import import TREE_DELETE, lab, peak_rss_kb

REPO = Path(__file__).resolve().parent.parent
#: NORMAL_ACCOUNT | PASSWD_NOTREQD | DONT_EXPIRE_PASSWORD (MS-ADTS 2.2.16): enabled without a password.
UAC = 0x200 | 0x20 | 0x10000


def write_ldif(path: Path, ou_dn: str, n: int) -> list[str]:
    names = []
    with path.open("w", encoding="utf-8") as f:
        f.write(f"dn: {ou_dn}\nchangetype: add\nobjectClass: organizationalUnit\n\n")
        for i in range(n):
            sam = f"c{secrets.token_hex(6)}"
            names.append(sam)
            mail = "" if i % 10 == 0 else f"mail: {sam}@lab.example\n"
            uac = UAC & ~0x10000 if i % 100 == 1 else UAC  # pwdLastSet 0 without "never expires": must change
            f.write(f"dn: CN={sam},{ou_dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {sam}\n"
                    f"userAccountControl: {uac}\n{mail}\n")  # fmt: skip
    return names


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
    n = ap.parse_args().count
    dc = lab()
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


if __name__ == "__main__":
    sys.exit(main())
