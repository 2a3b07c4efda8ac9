"""Benchmark: ``adprep users import`` against ``ldapadd`` (an equivalent LDIF) and a loop of
``samba-tool user create``, on the same lab DC (dc1, LDAPS) in one run.

Each tool creates N users with random names, each with a password and enabled, in an OU of its
own. Prints wall times and ratios against the goals (adprep >= 0.8 x ldapadd's throughput,
>= 10 x the samba-tool loop), the time of a re-run with nothing to do (goal < 2 s), and the peak
RSS (``/usr/bin/time -f %M``) of a ``--dry-run --format json`` import of N and 10 x N new users
(goal: flat, 10 x N within 15 % of N). samba-tool starts a Python process
per user (about a second each on this machine), so by default it runs --samba-tool-count users
and its rate is scaled to N; pass --samba-tool-count N for the full loop. Run after ``scripts/lab up dc1``:

    .venv/bin/python -m bench.users_import [--count 1000] [--samba-tool-count 50]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from adprep.ad.names import generate_password
from adprep.secret import Secret
from adprep.transport.ldap import LdapSession, LdapTarget, connect

REPO = Path(__file__).resolve().parent.parent
TREE_DELETE = "1.2.840.113556.1.4.805"  # MS-ADTS 3.1.1.3.4.1.15 LDAP_SERVER_TREE_DELETE_OID


def lab() -> dict[str, str]:
    facts = json.loads((REPO / ".lab" / "lab.json").read_text())
    d: dict[str, str] = facts["dcs"]["dc1"]
    return d


def random_users(n: int) -> list[tuple[str, str, str, str]]:
    return [(f"b{secrets.token_hex(6)}", f"Given{i}", f"Sn{i}", generate_password(16)) for i in range(n)]


def write_csv(path: Path, users: list[tuple[str, str, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sAMAccountName", "givenName", "sn", "password"])
        w.writerows(users)


def write_ldif(path: Path, users: list[tuple[str, str, str, str]], ou_dn: str, domain: str) -> None:
    with path.open("w", encoding="utf-8") as f:
        for sam, given, sn, pw in users:
            pwd = base64.b64encode(f'"{pw}"'.encode("utf-16-le")).decode()
            f.write(
                f"dn: CN={sam},{ou_dn}\nchangetype: add\nobjectClass: top\nobjectClass: person\n"
                f"objectClass: organizationalPerson\nobjectClass: user\nsAMAccountName: {sam}\n"
                f"userPrincipalName: {sam}@{domain}\nuserAccountControl: 512\ngivenName: {given}\nsn: {sn}\n"
                f"displayName: {given} {sn}\nunicodePwd:: {pwd}\n\n"
            )


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return took


def count_users(s: LdapSession, ou_dn: str) -> int:
    return sum(1 for _ in s.iter_search(ou_dn, "(objectClass=user)", scope="one"))


def peak_rss_kb(cmd: list[str], env: dict[str, str]) -> int:
    """Peak resident set size of ``cmd`` in KB, as GNU time's %M reports it."""
    r = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], env=env, capture_output=True, text=True, check=False
    )
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return int(r.stderr.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--samba-tool-count", type=int, default=50)
    args = ap.parse_args()
    n, st_n = args.count, min(args.samba_tool_count, args.count)
    dc = lab()
    admin_pw = Path(dc["admin_password_file"]).read_text().strip()
    base, domain, address = dc["base_dn"], dc["domain"], dc["address"]
    target = LdapTarget(address, server_name=dc["fqdn"], ca_file=dc["tls_ca"])
    tag = secrets.token_hex(3)
    ous = {tool: f"OU=adp-bench-{tag}-{tool},{base}" for tool in ("adprep", "ldapadd", "samba")}
    with (
        tempfile.TemporaryDirectory() as tmpdir,
        connect(target, user=f"{dc['admin_user']}@{domain}", password=Secret(admin_pw, "lab")) as admin,
    ):
        tmp = Path(tmpdir)
        try:
            for ou in ous.values():
                admin.add(ou, ["top", "organizationalUnit"], {})
            env = dict(os.environ, ADPREP_PASSWORD=admin_pw, PASSWD=admin_pw, LDAPTLS_REQCERT="never")
            # adprep
            users_csv = tmp / "users.csv"
            write_csv(users_csv, random_users(n))
            cmd = [str(REPO / ".venv" / "bin" / "adprep"), "-q", "users", "import", str(users_csv),
                   "--default-ou", ous["adprep"], "--dc", address, "--domain", domain, "--user", dc["admin_user"],
                   "--dc-name", dc["fqdn"], "--ca-file", dc["tls_ca"]]  # fmt: skip
            t_adprep = timed(cmd, env)
            t_rerun = timed(cmd, env)
            # adprep's memory: dry runs of N and 10 x N new users (the same method as for any command)
            rss = {}
            for rows in (n, n * 10):
                path = tmp / f"mem-{rows}.csv"
                write_csv(path, random_users(rows))
                rss[rows] = peak_rss_kb([*cmd[:4], str(path), *cmd[5:], "--dry-run", "--format", "json"], env)
            # ldapadd
            ldif = tmp / "users.ldif"
            write_ldif(ldif, random_users(n), ous["ldapadd"], domain)
            pwfile = tmp / "admin.pw"
            pwfile.write_text(admin_pw)
            t_ldapadd = timed(["ldapadd", "-x", "-H", f"ldaps://{address}", "-D", f"{dc['admin_user']}@{domain}",
                               "-y", str(pwfile), "-f", str(ldif)], env)  # fmt: skip
            # samba-tool (the admin password through the PASSWD environment variable, not argv)
            rel_ou = ous["samba"][: -len(base) - 1]
            t0 = time.perf_counter()
            for sam, given, sn, pw in random_users(st_n):
                subprocess.run(
                    ["samba-tool", "user", "create", sam, pw, "-H", f"ldap://{address}", "-U", dc["admin_user"],
                     f"--userou={rel_ou}", f"--given-name={given}", f"--surname={sn}"],
                    env=env, capture_output=True, check=True,
                )  # fmt: skip
            t_samba = (time.perf_counter() - t0) * n / st_n
            counts = {tool: count_users(admin, ou) for tool, ou in ous.items()}
        finally:
            for ou in ous.values():
                with contextlib.suppress(Exception):
                    admin.raw_connection.delete(ou, controls=[(TREE_DELETE, True, None)])
    print(f"users created: {counts} (samba-tool ran {st_n} of {n}, scaled)")
    print(f"adprep users import : {t_adprep:7.2f} s  ({n / t_adprep:6.1f} users/s)")
    print(f"ldapadd (LDIF)      : {t_ldapadd:7.2f} s  ({n / t_ldapadd:6.1f} users/s)")
    print(
        f"samba-tool loop     : {t_samba:7.2f} s  ({n / t_samba:6.1f} users/s){' (scaled)' if st_n < n else ''}"
    )
    print(f"adprep / ldapadd throughput : {t_ldapadd / t_adprep:5.2f}  (goal >= 0.8)")
    print(f"adprep / samba-tool         : {t_samba / t_adprep:5.1f}  (goal >= 10)")
    print(f"re-run, nothing to do       : {t_rerun:5.2f} s  (goal < 2 s)")
    small, large = rss[n], rss[n * 10]
    print(
        f"dry-run peak RSS            : {small / 1e3:.1f} MB for {n} rows, {large / 1e3:.1f} MB for {n * 10} rows"
        f"  ({large / small:.2f} x, goal <= 1.15)"
    )
    goals = {
        "adprep >= 0.8 x ldapadd": t_ldapadd / t_adprep >= 0.8,
        "adprep >= 10 x samba-tool": t_samba / t_adprep >= 10,
        "re-run < 2 s": t_rerun < 2,
        "flat memory (10 x rows <= 1.15 x RSS)": large / small <= 1.15,
    }
    print("goals: " + "; ".join(f"{name}: {'met' if met else 'MISSED'}" for name, met in goals.items()))
    # A benchmark prints; it fails only when the work itself went wrong.
    return 0 if counts["adprep"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
