"""Torture: ``kill -9`` adprep's write commands at random points, stop the DC in the middle of an
apply, and run two imports of overlapping files at once, on a DC of its own (dc6, 127.0.0.7); after
each fault the next run must finish the job.

Jobs (each on fresh names, its OU deleted afterwards):

- ``users``: ``users import`` of N rows (1,000 here, 50 in the suite) into an OU and a group, most
  passwords generated into ``--passwords-out``;
- ``delegate``: ``delegate --preset ad-connector-ou`` on an OU, with a member;
- ``account``: ``account create --generate-password --password-out``, into a group;
- ``gpo``: ``gpo create --link`` then ``gpo pcoip set --adm fixtures/gpo/pcoip.adm`` (a kill can land
  in either);
- ``fix`` (``--fix``): ``fix`` after a preflight that finds a service account outside its
  delegation group and a missing subnet.

Kill points: a delay drawn from [0, T], T the job's measured full-run time (measured again whenever
a job ends before its kill; seeded: ``--seed`` replays the draws), and, for ``users``, kills driven by progress (after N users exist in the
directory). After each kill the job runs again and must exit 0; then, checked on the DC: one user
per row and one GPO per display name, no duplicate ACE, every created user's password in the
passwords file and working (an LDAP bind as the user), GPO versions coherent (``versionNumber`` =
GPT.INI's Version, user half 0, computer half 1 or 2: bumped only for Registry.pol writes), no
half-written SYSVOL file, and the plan of a further run empty (``--dry-run --format json``).

Then the DC is stopped (``scripts/lab down dc6``) in the middle of an import: adprep must print one
sentence and exit 3, and the run after ``scripts/lab up dc6`` finishes. Then two imports of
overlapping files run at the same time (own passwords files, then one shared file): both exit 0, no
user twice, each user's password in exactly one file.

    .venv/bin/python -m bench.torture [--kills 30] [--rows 1000] [--seed N] [--jobs users,gpo] [--keep-dc]

Prints every kill point and outcome, the counts per job and phase, "all recovered: yes/no" and the
timings; exits 1 when a fault was not recovered.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import io
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adprep.ad.delegation import preset
from adprep.ad.dn import escape_filter_value
from adprep.ad.security_descriptor import parse_security_descriptor
from adprep.collect.gpo import SYSVOL_SHARE, collect_gpos_named, sysvol_folder
from adprep.errors import AdprepError, LdapError
from adprep.gpo.gpt_ini import parse_gpt_ini, split_version
from adprep.gpo.registry_pol import parse_registry_pol
from adprep.prep.ldap_apply import entry_sid, read_security_descriptor
from adprep.requirements import REGISTRY_CSE_GUID
from adprep.secret import Secret
from adprep.transport.ldap import Entry, LdapSession, LdapTarget, connect
from adprep.transport.smb import TEMP_SUFFIX, SmbSession, SmbTarget, connect_smb

REPO = Path(__file__).resolve().parent.parent
ADPREP = str(REPO / ".venv" / "bin" / "adprep")
PCOIP_ADM = REPO / "fixtures" / "gpo" / "pcoip.adm"
#: The DC of its own (``--dc-name``/``--dc-addr`` pick another, e.g. to run beside the suite, whose
#: short version uses dc6 and stops it once).
DC_NAME = "dc6"
DC_ADDR = "127.0.0.7"
TREE_DELETE = "1.2.840.113556.1.4.805"  # MS-ADTS 3.1.1.3.4.1.15 LDAP_SERVER_TREE_DELETE_OID
USER_CLASSES = ["top", "person", "organizationalPerson", "user"]


# --- the DC ---------------------------------------------------------------------------------------


class LabFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Dc:
    name: str
    address: str
    fqdn: str
    domain: str
    base_dn: str
    admin_user: str
    admin_password: str = field(repr=False)
    tls_ca: str


def lab(*args: str) -> None:
    proc = subprocess.run([str(REPO / "scripts" / "lab"), *args], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise LabFailed(f"scripts/lab {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")


def use_dc(name: str, addr: str) -> None:
    """Run against another lab DC than dc6."""
    global DC_NAME, DC_ADDR
    DC_NAME, DC_ADDR = name, addr


@contextlib.contextmanager
def dc_lock(name: str | None = None) -> Iterator[None]:
    """Hold the DC for one torture run at a time: the suite's short version and this bench stop and
    start it, so a second run on the same machine (another session's suite) waits for the first."""
    path = REPO / ".lab" / f"torture-{name or DC_NAME}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def dc_facts(name: str | None = None) -> Dc:
    name = name or DC_NAME
    facts = json.loads((REPO / ".lab" / "lab.json").read_text())
    d = facts["dcs"].get(name)
    if d is None:
        raise LabFailed(f"lab DC {name} is not running")
    return Dc(
        name=name, address=d["address"], fqdn=d["fqdn"], domain=d["domain"], base_dn=d["base_dn"],
        admin_user=d["admin_user"], admin_password=Path(d["admin_password_file"]).read_text().strip(),
        tls_ca=d["tls_ca"],
    )  # fmt: skip


def dc_up() -> Dc:
    """Start dc6 (provisioned on first use, ~5 s; ~7 s to start) and return its facts."""
    lab("up", DC_NAME, "--addr", DC_ADDR)
    return dc_facts()


def dc_down() -> None:
    lab("down", DC_NAME)


def wait_ldap(dc: Dc, timeout: float = 60.0) -> None:
    """Until the DC accepts an admin bind (right after ``lab up`` it may still be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with admin_session(dc):
                return
        except AdprepError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def target(dc: Dc) -> LdapTarget:
    return LdapTarget(dc.address, server_name=dc.fqdn, ca_file=dc.tls_ca, timeout=10.0)


def admin_session(dc: Dc) -> LdapSession:
    return connect(target(dc), user=f"{dc.admin_user}@{dc.domain}", password=Secret(dc.admin_password, "lab"))


def admin_smb(dc: Dc) -> SmbSession:
    return connect_smb(
        SmbTarget(dc.address, server_name=dc.fqdn), user=dc.admin_user, domain=dc.domain,
        password=Secret(dc.admin_password, "lab"),
    )  # fmt: skip


def conn_args(dc: Dc) -> list[str]:
    return ["--dc", dc.address, "--domain", dc.domain, "--user", dc.admin_user, "--dc-name", dc.fqdn,
            "--ca-file", dc.tls_ca]  # fmt: skip


def adprep_env(dc: Dc) -> dict[str, str]:
    """The admin password through the environment, never argv."""
    return dict(os.environ, ADPREP_PASSWORD=dc.admin_password)


def password_works(dc: Dc, sam: str, password: str) -> bool:
    try:
        with connect(target(dc), user=f"{sam}@{dc.domain}", password=Secret(password, "test")):
            return True
    except LdapError:
        return False


def passwords_that_work(dc: Dc, pairs: Sequence[tuple[str, str]]) -> set[str]:
    """The names whose password binds, over one TLS connection (a rebind each: ~1,000 per few seconds)."""
    import ldap3
    from ldap3.core.exceptions import LDAPException

    good: set[str] = set()
    if not pairs:
        return good
    with admin_session(dc) as s:
        conn = s.raw_connection
        for sam, pw in pairs:
            try:
                if conn.rebind(user=f"{sam}@{dc.domain}", password=pw, authentication=ldap3.SIMPLE):
                    good.add(sam.casefold())
            except LDAPException:
                pass
    return good


def delete_tree(dc: Dc, dn: str) -> None:
    """Delete ``dn`` and everything below it, on a connection of its own that waits long enough (a tree
    of 1,000 users takes Samba longer than the admin session's timeout, which would break it)."""
    slow = LdapTarget(dc.address, server_name=dc.fqdn, ca_file=dc.tls_ca, timeout=600.0)
    from ldap3.core.exceptions import LDAPNoSuchObjectResult

    password = Secret(dc.admin_password, "lab")
    with (
        connect(slow, user=f"{dc.admin_user}@{dc.domain}", password=password) as s,
        contextlib.suppress(LDAPNoSuchObjectResult),  # already gone
    ):
        s.raw_connection.delete(dn, controls=[(TREE_DELETE, True, None)])


def count_under(admin: LdapSession, dn: str, object_class: str = "user") -> int:
    return sum(1 for _ in admin.iter_search(dn, f"(objectClass={object_class})", scope="sub", page_size=1000))


def read_passwords(path: Path) -> dict[str, str]:
    """A passwords file as a person (or the next run) reads it: the last row of a user wins, an empty
    password withdraws, a last line without its line end is cut off."""
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    out: dict[str, str] = {}
    for row in csv.reader(io.StringIO(text, newline="")):
        if len(row) != 2 or row[0] == "sAMAccountName":
            continue
        if row[1]:
            out[row[0].casefold()] = row[1]
        else:
            out.pop(row[0].casefold(), None)
    return out


# --- running adprep -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    argv: tuple[str, ...]
    rc: int | None
    """None: killed."""
    stdout: str
    stderr: str
    seconds: float


def run(argv: Sequence[str], env: dict[str, str], *, timeout: float = 600) -> Ran:
    t0 = time.monotonic()
    p = subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return Ran(tuple(argv), p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


@dataclass(frozen=True)
class Kill:
    """Where a kill landed."""

    phase: str
    """The step that was running (or ``finished``: the delay outlasted the job)."""
    at: float
    """Seconds from the job's start."""


def run_killed(
    steps: Sequence[tuple[str, list[str]]],
    env: dict[str, str],
    *,
    delay: float | None = None,
    watch: Callable[[], int] | None = None,
    kill_at: int = 0,
    on_trigger: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> tuple[Kill, list[Ran]]:
    """Run the steps in order and ``kill -9`` the running one after ``delay`` seconds, or as soon as
    ``watch()`` reaches ``kill_at`` (``on_trigger`` replaces the kill: e.g. stop the DC instead).
    Steps that end before the trigger are returned with their exit status."""
    t0 = time.monotonic()
    done: list[Ran] = []
    with tempfile.TemporaryDirectory() as tmp:
        for phase, argv in steps:
            out, err = Path(tmp) / "out", Path(tmp) / "err"
            with out.open("wb") as fo, err.open("wb") as fe:
                p = subprocess.Popen(argv, env=env, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
                started = time.monotonic()
                triggered = False
                while p.poll() is None:
                    now = time.monotonic()
                    hit = (delay is not None and now - t0 >= delay) or (
                        watch is not None and watch() >= kill_at
                    )
                    if hit and not triggered:
                        triggered = True
                        at = now - t0
                        if on_trigger is None:
                            p.kill()  # SIGKILL, to our own child only
                            p.wait()
                            return Kill(phase, at), done
                        on_trigger(p)
                        p.wait(timeout=120)
                        rc = p.returncode
                        done.append(Ran(tuple(argv), rc, out.read_text(errors="replace") if out.exists() else "",
                                        err.read_text(errors="replace"), time.monotonic() - started))  # fmt: skip
                        return Kill(phase, at), done
                    time.sleep(0.002 if watch is None else 0.02)  # a watcher costs the DC a search
            done.append(Ran(tuple(argv), p.returncode, out.read_text(errors="replace"),
                            err.read_text(errors="replace"), time.monotonic() - started))  # fmt: skip
            if p.returncode != 0:
                break
    return Kill("finished", time.monotonic() - t0), done


def plan_changes(ran: Ran) -> int:
    """How many changes a ``--dry-run --format json`` run planned (-1: not a plan)."""
    try:
        data = json.loads(ran.stdout)
        return len(data.get("plan", data)["changes"])  # adprep fix wraps its plan
    except (ValueError, KeyError, TypeError, AttributeError):
        return -1


# --- jobs -----------------------------------------------------------------------------------------


class Job:
    """One write job on fresh names: set up, the steps to run, the checks after it finished."""

    name = "job"

    def __init__(self, dc: Dc, admin: LdapSession, tmp: Path) -> None:
        self.dc = dc
        self.admin = admin
        self.tmp = tmp
        self.tag = secrets.token_hex(3)
        self.ou = f"adp-tt-{self.tag}"
        self.ou_dn = f"OU={self.ou},{dc.base_dn}"
        self.env = adprep_env(dc)

    def setup(self) -> None:
        self.admin.add(self.ou_dn, ["top", "organizationalUnit"], {})

    def steps(self) -> list[tuple[str, list[str]]]:
        raise NotImplementedError

    def dry_runs(self) -> list[list[str]]:
        return [[*argv, "--dry-run", "--format", "json"] for _, argv in self.steps()]

    def verify(self) -> list[str]:
        """What is wrong after the job finished (empty: all good)."""
        raise NotImplementedError

    def after_checks(self) -> list[str]:
        """Checks that write, after the job was found complete (default: none)."""
        return []

    def progress(self) -> int:
        return 0

    def describe_progress(self) -> str:
        """What exists on the DC now, for the report (after a fault)."""
        return ""

    def cleanup(self) -> None:
        delete_tree(self.dc, self.ou_dn)

    def adprep(self, *args: str) -> list[str]:
        return [ADPREP, "-q", *args, *conn_args(self.dc)]


class UsersJob(Job):
    name = "users"

    def __init__(self, dc: Dc, admin: LdapSession, tmp: Path, rows: int, *, first: int = 0) -> None:
        super().__init__(dc, admin, tmp)
        self.rows = rows
        self.group = f"adp-tt-{self.tag}-g"
        self.group_dn = f"CN={self.group},{self.ou_dn}"
        self.csv = tmp / f"users-{self.tag}.csv"
        self.passwords = tmp / f"passwords-{self.tag}.csv"
        self.given: dict[str, str] = {}
        """Passwords the CSV gives (every 7th row); the others are generated."""
        self.write_csv(self.csv, range(first, first + rows))

    def sam(self, i: int) -> str:
        return f"t{self.tag}{i:05d}"

    def write_csv(self, path: Path, numbers: Iterator[int] | range) -> None:
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["sAMAccountName", "givenName", "sn", "mail", "ou", "groups", "password"])
            for i in numbers:
                sam = self.sam(i)
                pw = ""
                if i % 7 == 0:  # the same password in every file that names the user
                    pw = self.given.setdefault(sam.casefold(), f"Given-{secrets.token_hex(6)}-7a")
                w.writerow([sam, f"Given{i}", f"Sn{i}", f"{sam}@{self.dc.domain}", self.ou, self.group, pw])

    def setup(self) -> None:
        super().setup()
        self.admin.add(self.group_dn, ["top", "group"], {"sAMAccountName": self.group})

    def import_argv(self, csv_path: Path, passwords: Path) -> list[str]:
        return self.adprep("users", "import", str(csv_path), "--passwords-out", str(passwords))

    def steps(self) -> list[tuple[str, list[str]]]:
        return [("users import", self.import_argv(self.csv, self.passwords))]

    def progress(self) -> int:
        return count_under(self.admin, self.ou_dn)

    def describe_progress(self) -> str:
        return f"{self.progress()}/{self.rows} users"

    def verify_users(self, expected: Sequence[str], password_files: Sequence[Path]) -> list[str]:
        problems: list[str] = []
        found: dict[str, list[str]] = {}
        member_of: dict[str, set[str]] = {}
        prefix = f"t{self.tag}"
        for e in self.admin.iter_search(self.dc.base_dn, f"(&(objectClass=user)(sAMAccountName={prefix}*))",
                                        attributes=("sAMAccountName", "memberOf"), page_size=1000):  # fmt: skip
            sam = str(e.first("sAMAccountName")).casefold()
            found.setdefault(sam, []).append(e.dn)
            member_of[sam] = {str(g).casefold() for g in e.all("memberOf")}
        want = {s.casefold() for s in expected}
        missing = sorted(want - found.keys())
        extra = sorted(found.keys() - want)
        dup = sorted(s for s, dns in found.items() if len(dns) > 1)
        if missing:
            problems.append(f"{len(missing)} user(s) missing, e.g. {missing[:3]}")
        if extra:
            problems.append(f"{len(extra)} unexpected user(s), e.g. {extra[:3]}")
        if dup:
            problems.append(f"{len(dup)} user(s) twice, e.g. {dup[:3]}")
        wrong_place = [
            s for s, dns in found.items() if dns[0].casefold() != f"cn={s},{self.ou_dn}".casefold()
        ]
        if wrong_place:
            problems.append(f"{len(wrong_place)} user(s) outside {self.ou_dn}")
        no_group = [s for s in found if self.group_dn.casefold() not in member_of.get(s, set())]
        if no_group:
            problems.append(f"{len(no_group)} user(s) not in {self.group}")
        files = [read_passwords(p) for p in password_files]
        pairs: list[tuple[str, str]] = []
        for sam in sorted(found.keys() & want):
            if sam in self.given:
                pairs.append((sam, self.given[sam]))
                continue
            held = [f[sam] for f in files if sam in f]
            if len(held) != 1:
                problems.append(f"user {sam}: {len(held)} password(s) in the passwords file(s), not 1")
                continue
            pairs.append((sam, held[0]))
        good = passwords_that_work(self.dc, pairs)
        bad = [s for s, _ in pairs if s not in good]
        if bad:
            problems.append(f"{len(bad)} password(s) do not work, e.g. {bad[:3]}")
        return problems

    def verify(self) -> list[str]:
        return self.verify_users([self.sam(i) for i in range(self.rows)], [self.passwords])


class DelegateJob(Job):
    name = "delegate"

    def __init__(self, dc: Dc, admin: LdapSession, tmp: Path) -> None:
        super().__init__(dc, admin, tmp)
        self.group = f"adp-tt-{self.tag}-d"
        self.member = f"adp-tt-{self.tag}-m"
        self.member_dn = f"CN={self.member},{self.ou_dn}"

    def setup(self) -> None:
        super().setup()
        self.admin.add(
            self.member_dn, USER_CLASSES, {"sAMAccountName": self.member, "userAccountControl": "514"}
        )

    def steps(self) -> list[tuple[str, list[str]]]:
        return [("delegate", self.adprep("delegate", "--preset", "ad-connector-ou", "--ou", self.ou, "--group",
                                          self.group, "--group-container", self.ou, "--member", self.member))]  # fmt: skip

    def verify(self) -> list[str]:
        return verify_delegation(self.admin, self.dc, self.ou_dn, self.group, self.member_dn)


def verify_delegation(admin: LdapSession, dc: Dc, ou_dn: str, group_name: str, member_dn: str) -> list[str]:
    """One group of that name, the member in it, the preset's ACEs on the OU exactly once each."""
    problems: list[str] = []
    groups = admin.search(dc.base_dn, f"(sAMAccountName={group_name})", attributes=("objectSid", "member"))
    if len(groups) != 1:
        return [f"{len(groups)} group(s) named {group_name}, not 1"]
    group = groups[0]
    if member_dn.casefold() not in {str(m).casefold() for m in group.all("member")}:
        problems.append(f"{member_dn} is not a member of {group_name}")
    sid = entry_sid(group)
    sd = parse_security_descriptor(read_security_descriptor(admin, ou_dn))
    mine = [a for a in sd.dacl if a.sid == sid and not a.inherited]
    wanted = set(preset("ad-connector-ou").aces(sid))
    if set(mine) != wanted:
        problems.append(f"the OU's ACEs for the group are {len(set(mine))}, the preset's {len(wanted)}")
    if len(mine) != len(set(mine)):
        problems.append(f"duplicate ACEs on {ou_dn}: {len(mine)} ACEs, {len(set(mine))} distinct")
    return problems


class AccountJob(Job):
    name = "account"

    def __init__(self, dc: Dc, admin: LdapSession, tmp: Path) -> None:
        super().__init__(dc, admin, tmp)
        self.account = f"adp-tt-{self.tag}-s"
        self.group = f"adp-tt-{self.tag}-a"
        self.group_dn = f"CN={self.group},{self.ou_dn}"
        self.password_out = tmp / f"account-{self.tag}.pw"

    def setup(self) -> None:
        super().setup()
        self.admin.add(self.group_dn, ["top", "group"], {"sAMAccountName": self.group})

    def steps(self) -> list[tuple[str, list[str]]]:
        return [("account create", self.adprep("account", "create", self.account, "--container", self.ou,
                                                "--group", self.group, "--generate-password", "--password-out",
                                                str(self.password_out)))]  # fmt: skip

    def verify(self) -> list[str]:
        problems: list[str] = []
        found = self.admin.search(self.dc.base_dn, f"(sAMAccountName={self.account})",
                                  attributes=("userAccountControl", "memberOf"))  # fmt: skip
        if len(found) != 1:
            return [f"{len(found)} account(s) named {self.account}, not 1"]
        if int(found[0].first("userAccountControl", 0)) & 0x2:
            problems.append(f"{self.account} is disabled")
        if self.group_dn.casefold() not in {str(g).casefold() for g in found[0].all("memberOf")}:
            problems.append(f"{self.account} is not in {self.group}")
        lines = self.password_out.read_text().splitlines() if self.password_out.exists() else []
        if len(lines) != 1 or not lines[0]:
            problems.append(f"the password file holds {len(lines)} line(s), not 1")
        elif not password_works(self.dc, self.account, lines[0]):
            problems.append(f"the password in {self.password_out.name} does not work")
        return problems


class GpoJob(Job):
    name = "gpo"

    def __init__(self, dc: Dc, admin: LdapSession, tmp: Path, *, check_bumps: bool = True) -> None:
        super().__init__(dc, admin, tmp)
        self.gpo = f"adp-tt-{self.tag} PCoIP"
        self.check_bumps = check_bumps
        """Run :meth:`after_checks` (two more pcoip set runs) after recovering."""

    def steps(self) -> list[tuple[str, list[str]]]:
        return [
            ("gpo create", self.adprep("gpo", "create", self.gpo, "--link", self.ou)),
            ("gpo pcoip set", self.adprep("gpo", "pcoip", "set", self.gpo, "--adm", str(PCOIP_ADM), "--clipboard",
                                          "client-to-workspace", "--remote-printing", "0", "--reconnect-timeout",
                                          "20")),
        ]  # fmt: skip

    def verify(self) -> list[str]:
        problems: list[str] = []
        gpos = collect_gpos_named(self.admin, self.dc.base_dn, self.gpo)
        if len(gpos) != 1:
            return [f"{len(gpos)} GPO(s) named {self.gpo!r}, not 1"]
        gpo = gpos[0]
        folder = sysvol_folder(self.dc.domain, gpo.guid)
        with admin_smb(self.dc) as smb:
            gpt = smb.read_file(SYSVOL_SHARE, f"{folder}/GPT.INI")
            pol = smb.read_file(SYSVOL_SHARE, f"{folder}/Machine/Registry.pol")
            adm = smb.read_file(SYSVOL_SHARE, f"{folder}/Adm/pcoip.adm")
            leftovers = [
                f"{sub}/{e.name}" for sub in ("", "Machine", "Adm")
                for e in smb.list_dir(SYSVOL_SHARE, f"{folder}/{sub}" if sub else folder)
                if e.name.endswith(TEMP_SUFFIX)
            ]  # fmt: skip
        if gpt is None:
            return ["GPT.INI is missing"]
        version = parse_gpt_ini(gpt).version
        if gpo.version != version:
            problems.append(f"versionNumber {gpo.version} != GPT.INI Version {version}")
        user, machine = split_version(version)
        if user != 0 or not 1 <= machine <= 2:
            problems.append(
                f"version {version}: user half {user} (want 0), computer half {machine} (want 1 or 2)"
            )
        if pol is None or len(parse_registry_pol(pol)) < 3:
            problems.append("Registry.pol does not hold the PCoIP settings")
        if adm != PCOIP_ADM.read_bytes():
            problems.append("Adm/pcoip.adm is not the template, byte for byte")
        if leftovers:
            problems.append(f"half-written copies left in SYSVOL: {leftovers}")
        if REGISTRY_CSE_GUID.upper() not in (gpo.machine_extensions or "").upper():
            problems.append("gPCMachineExtensionNames lacks the registry extension")
        ou = self.admin.get(self.ou_dn, ("gPLink",))
        links = str(ou.first("gPLink", "") if ou else "").upper().count(gpo.guid.upper())
        if links != 1:
            problems.append(f"the OU links the GPO {links} time(s), not once")
        return problems

    def versions(self) -> tuple[int | None, int | None]:
        """(versionNumber, GPT.INI's Version) of the GPO."""
        gpo = collect_gpos_named(self.admin, self.dc.base_dn, self.gpo)[0]
        with admin_smb(self.dc) as smb:
            gpt = smb.read_file(SYSVOL_SHARE, f"{sysvol_folder(self.dc.domain, gpo.guid)}/GPT.INI")
        return gpo.version, parse_gpt_ini(gpt).version if gpt is not None else None

    def after_checks(self) -> list[str]:
        """The computer half is bumped by exactly one when Registry.pol changes, and not when it does not."""
        problems: list[str] = []
        if not self.check_bumps:
            return problems
        before, _ = self.versions()
        other = self.adprep(
            "gpo", "pcoip", "set", self.gpo, "--adm", str(PCOIP_ADM), "--reconnect-timeout", "25"
        )
        for attempt in (1, 2):
            r = run(other, self.env)
            ldap_v, gpt_v = self.versions()
            want = (before or 0) + 1
            if r.rc != 0 or ldap_v != want or gpt_v != want:
                problems.append(f"pcoip set run {attempt} with a new value: exit {r.rc}, versionNumber {ldap_v}, "
                                f"GPT.INI {gpt_v}, want {want} (computer half +1 once)")  # fmt: skip
                break
        return problems

    def progress(self) -> int:
        """1 once the groupPolicyContainer exists (the half-made GPO a kill then leaves)."""
        return len(collect_gpos_named(self.admin, self.dc.base_dn, self.gpo))

    def describe_progress(self) -> str:
        return f"{self.progress()} GPO(s)"

    def cleanup(self) -> None:
        for gpo in collect_gpos_named(self.admin, self.dc.base_dn, self.gpo):
            with contextlib.suppress(Exception), admin_smb(self.dc) as smb:
                smb.remove_tree(SYSVOL_SHARE, sysvol_folder(self.dc.domain, gpo.guid))
            delete_tree(self.dc, gpo.dn)
        super().cleanup()


class FixJob(Job):
    """``adprep fix`` after a preflight that finds the service account unable to create computers in
    the OU (no delegation) and an AD Connector subnet in no AD site."""

    name = "fix"

    def __init__(self, dc: Dc, admin: LdapSession, tmp: Path) -> None:
        super().__init__(dc, admin, tmp)
        self.service = f"adp-tt-{self.tag}-s"
        self.service_dn = f"CN={self.service},{self.ou_dn}"
        self.service_password = f"Svc-{secrets.token_hex(8)}-9z"
        self.password_file = tmp / f"service-{self.tag}.pw"
        self.group = f"adp-tt-{self.tag}-f"
        b = bytes.fromhex(self.tag)
        self.subnet = f"198.19.{b[0]}.{b[1] & 0xF0}/28"  # an AD subnet object only: no traffic goes there
        root = admin.get("", ("configurationNamingContext",))
        config = str(root.first("configurationNamingContext")) if root else f"CN=Configuration,{dc.base_dn}"
        self.subnets_dn = f"CN=Subnets,CN=Sites,{config}"

    def setup(self) -> None:
        super().setup()
        self.admin.add(self.service_dn, USER_CLASSES, {
            "sAMAccountName": self.service, "userAccountControl": "512",
            "unicodePwd": f'"{self.service_password}"'.encode("utf-16-le"),
        })  # fmt: skip
        self.password_file.write_text(self.service_password + "\n")
        self.password_file.chmod(0o600)

    def steps(self) -> list[tuple[str, list[str]]]:
        return [("fix", self.adprep("fix", "--domain", self.dc.domain, "--dns-ip", self.dc.address,
                                     "--service-account", self.service, "--service-password-file",
                                     str(self.password_file), "--ou", self.ou, "--preset", "ad-connector-ou",
                                     "--group", self.group, "--group-container", self.ou, "--subnet", self.subnet))]  # fmt: skip

    def subnet_objects(self) -> list[Entry]:
        cn = escape_filter_value(self.subnet)
        return self.admin.search(self.subnets_dn, f"(cn={cn})", scope="one", attributes=("siteObject",))

    def verify(self) -> list[str]:
        problems = verify_delegation(self.admin, self.dc, self.ou_dn, self.group, self.service_dn)
        subnets = self.subnet_objects()
        if len(subnets) != 1 or not subnets[0].first("siteObject"):
            problems.append(f"{len(subnets)} subnet object(s) {self.subnet} in a site, not 1")
        return problems

    def cleanup(self) -> None:
        for entry in self.subnet_objects():
            with contextlib.suppress(Exception):
                self.admin.delete(entry.dn)
        super().cleanup()


JOBS: dict[str, type[Job]] = {
    "users": UsersJob, "delegate": DelegateJob, "account": AccountJob, "gpo": GpoJob, "fix": FixJob,
}  # fmt: skip


def make_job(name: str, dc: Dc, admin: LdapSession, tmp: Path, rows: int) -> Job:
    if name == "users":
        return UsersJob(dc, admin, tmp, rows)
    return JOBS[name](dc, admin, tmp)


# --- faults ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    job: str
    how: str
    """``delay 1.23/4.56 s``, ``after 300 users``, ``DC stopped``, ``concurrent``."""
    phase: str
    progress: str
    """What existed on the DC right after the fault (``412/1000 users``)."""
    recovered: bool
    problems: list[str]
    rerun_seconds: float
    ran_for: float | None = None
    """When the job ended before the kill: how long it took."""


def finish_and_check(job: Job) -> tuple[list[str], float]:
    """Run the job again to the end, check it, and check a further run plans nothing."""
    problems: list[str] = []
    t0 = time.monotonic()
    for phase, argv in job.steps():
        r = run(argv, job.env)
        if r.rc != 0:
            problems.append(f"re-run of {phase} exited {r.rc}: {r.stderr.strip()[-300:]}")
            return problems, time.monotonic() - t0
    took = time.monotonic() - t0
    problems += job.verify()
    for argv in job.dry_runs():
        r = run(argv, job.env)
        n = plan_changes(r)
        if n != 0:
            problems.append(
                f"a further run plans {n} change(s) ({' '.join(argv[2:4])}): {r.stderr.strip()[-200:]}"
            )
    if not problems:
        problems += job.after_checks()
    return problems, took


def measure(job: Job) -> float:
    """T: the job's full run on fresh names."""
    job.setup()
    try:
        t0 = time.monotonic()
        for phase, argv in job.steps():
            r = run(argv, job.env)
            if r.rc != 0:
                raise RuntimeError(f"{job.name}: {phase} exited {r.rc}: {r.stderr.strip()[-500:]}")
        took = time.monotonic() - t0
        problems = job.verify()
        if problems:
            raise RuntimeError(f"{job.name} without a fault: {problems}")
        return took
    finally:
        job.cleanup()


def kill_once(
    job: Job, *, delay: float | None = None, kill_at: int | None = None, total: float = 0.0
) -> Outcome:
    job.setup()
    try:
        if kill_at is not None:
            kill, done = run_killed(job.steps(), job.env, watch=job.progress, kill_at=kill_at)
            how = f"after {kill_at} {job.name}"
        else:
            kill, done = run_killed(job.steps(), job.env, delay=delay)
            how = f"delay {delay:.2f}/{total:.2f} s"
        early = [r for r in done if r.rc not in (0, None)]
        progress = job.describe_progress()
        problems, took = finish_and_check(job)
        if early:
            problems.insert(
                0, f"a step exited {early[0].rc} before the kill: {early[0].stderr.strip()[-300:]}"
            )
        ran_for = kill.at if kill.phase == "finished" else None
        return Outcome(job.name, how, kill.phase, progress, not problems, problems, took, ran_for)
    finally:
        job.cleanup()


def dc_stop_once(dc: Dc, make: Callable[[LdapSession], Job], stop_at: int) -> Outcome:
    """Stop the DC once the job's progress reaches ``stop_at``: the command must print one sentence
    and exit 3; after ``scripts/lab up`` the re-run must finish the job."""
    with admin_session(dc) as admin:
        job = make(admin)
        job.setup()

        def stop_dc(p: subprocess.Popen[bytes]) -> None:
            # adprep is paused while the DC stops, so the stop lands in the middle of its apply.
            p.send_signal(signal.SIGSTOP)
            try:
                dc_down()
            finally:
                p.send_signal(signal.SIGCONT)

        kill, done = run_killed(job.steps(), job.env, watch=job.progress, kill_at=stop_at, on_trigger=stop_dc)
    problems: list[str] = []
    ran = done[-1] if done else None
    if ran is None or kill.phase == "finished":
        problems.append("the job finished before the DC stopped")
    else:
        lines = [ln for ln in ran.stderr.splitlines() if ln.strip()]
        if ran.rc != 3:
            problems.append(f"exit {ran.rc}, not 3")
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr, not one sentence: {lines[:3]}")
    sentence = ran.stderr.strip() if ran else ""
    dc_up()
    wait_ldap(dc)
    with admin_session(dc) as admin:
        job.admin = admin
        progress = job.describe_progress()
        more, took = finish_and_check(job)
        problems += more
        job.cleanup()
    return Outcome(job.name, f"DC stopped at {job.name} {stop_at}", kill.phase,
                   f"{progress}; said: {sentence[:200]}", not problems, problems, took)  # fmt: skip


def concurrent_once(dc: Dc, admin: LdapSession, tmp: Path, rows: int, *, shared: bool = False) -> Outcome:
    """Two imports of overlapping files (rows 0..n-1 and n/2..3n/2-1) at once, each with its own
    passwords file (they race for the users both name), or ``shared`` (they take turns)."""
    job = UsersJob(dc, admin, tmp, rows)
    half = rows // 2
    other_csv = tmp / f"users-{job.tag}-b.csv"
    other_pw = job.passwords if shared else tmp / f"passwords-{job.tag}-b.csv"
    job.write_csv(other_csv, range(half, half + rows))
    job.setup()
    try:
        argvs = [job.import_argv(job.csv, job.passwords), job.import_argv(other_csv, other_pw)]
        t0 = time.monotonic()
        procs = [subprocess.Popen(a, env=job.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for a in argvs]  # fmt: skip
        results = [p.communicate(timeout=600) for p in procs]
        took = time.monotonic() - t0
        problems: list[str] = []
        for p, (_out, err) in zip(procs, results, strict=True):
            if p.returncode != 0:
                problems.append(f"an import exited {p.returncode}: {err.strip()[-300:]}")
        for argv in argvs:
            n = plan_changes(run([*argv, "--dry-run", "--format", "json"], job.env))
            if n != 0:
                problems.append(f"a further run of an import plans {n} change(s)")
        files = [job.passwords] if shared else [job.passwords, other_pw]
        problems += job.verify_users([job.sam(i) for i in range(half + rows)], files)
        how = "concurrent, one passwords file" if shared else "concurrent"
        return Outcome("users", how, "two imports", f"{half + rows} users, {rows - half} in both files",
                       not problems, problems, took)  # fmt: skip
    finally:
        job.cleanup()


# --- the bench ------------------------------------------------------------------------------------


def print_outcome(i: int, o: Outcome) -> None:
    mark = "recovered" if o.recovered else "NOT RECOVERED"
    print(
        f"  #{i:<3} {o.job:9} {o.how:28} killed in: {o.phase:15} {o.progress:22} {mark} (re-run {o.rerun_seconds:.2f} s)"
    )
    for p in o.problems:
        print(f"         - {p}")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=30, help="random-delay kills in all (spread over the jobs)")
    ap.add_argument("--progress-kills", type=int, default=4, help="kills of users import after N users")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--jobs", default="users,delegate,account,gpo,fix")
    ap.add_argument("--no-dc-stop", action="store_true")
    ap.add_argument("--no-concurrent", action="store_true")
    ap.add_argument("--keep-dc", action="store_true", help="leave the DC running at the end")
    ap.add_argument("--dc-name", default=DC_NAME, help=f"the lab DC of its own (default {DC_NAME})")
    ap.add_argument("--dc-addr", default=DC_ADDR, help=f"its loopback address (default {DC_ADDR})")
    args = ap.parse_args(argv)
    use_dc(args.dc_name, args.dc_addr)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)
    names = [n.strip() for n in args.jobs.split(",") if n.strip()]
    print(
        f"torture: seed {seed} (replay with --seed {seed}), jobs {', '.join(names)}, {args.rows} rows, "
        f"DC {DC_NAME} ({DC_ADDR})"
    )
    t_start = time.monotonic()
    with dc_lock():
        return run_faults(args, rng, seed, names, t_start)


def run_faults(
    args: argparse.Namespace, rng: random.Random, seed: int, names: list[str], t_start: float
) -> int:
    dc = dc_up()
    wait_ldap(dc)
    outcomes: list[Outcome] = []
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            full: dict[str, float] = {}
            for n in names:
                with admin_session(dc) as admin:
                    full[n] = measure(make_job(n, dc, admin, tmp, args.rows))
            print("full runs (T): " + ", ".join(f"{n} {t:.2f} s" for n, t in full.items()))
            # Each fault on a session of its own: Samba drops an LDAP connection idle for 15 minutes.
            faults: list[tuple[str, Callable[[LdapSession], Outcome]]] = []
            for k in range(args.kills):
                n = names[k % len(names)]
                # The delay is drawn when the fault runs, from the latest T (see below).
                faults.append((n, lambda a, n=n: kill_once(make_job(n, dc, a, tmp, args.rows),
                                                             delay=rng.uniform(0, full[n]), total=full[n])))  # fmt: skip
            if "gpo" in names:  # right after the groupPolicyContainer exists: the half-made GPO
                faults.append(("gpo", lambda a: kill_once(GpoJob(dc, a, tmp), kill_at=1)))
            if "users" in names:
                for _ in range(args.progress_kills):
                    at = rng.randint(1, max(1, args.rows - 1))
                    faults.append(
                        ("users", lambda a, at=at: kill_once(UsersJob(dc, a, tmp, args.rows), kill_at=at))
                    )
                if not args.no_concurrent:
                    for shared in (False, True):
                        faults.append(
                            ("users", lambda a, s=shared: concurrent_once(dc, a, tmp, args.rows, shared=s))
                        )
            if not args.no_dc_stop:
                if "users" in names:
                    at = rng.randint(max(1, args.rows // 10), max(1, args.rows // 2))
                    faults.append(("users", lambda _a, at=at: dc_stop_once(
                        dc, lambda a: UsersJob(dc, a, tmp, args.rows), at)))  # fmt: skip
                if "gpo" in names:
                    faults.append(("gpo", lambda _a: dc_stop_once(dc, lambda a: GpoJob(dc, a, tmp), 1)))
            for i, (n, fault) in enumerate(faults, 1):
                try:
                    with admin_session(dc) as admin:
                        o = fault(admin)
                except Exception as e:  # the bench's own failure: recorded, the rest goes on
                    o = Outcome(n, "?", "bench error", "", False, [f"{type(e).__name__}: {e}"], 0.0)
                    with contextlib.suppress(Exception):
                        dc_up()
                        wait_ldap(dc)
                outcomes.append(o)
                print_outcome(i, o)
                if o.ran_for is not None and o.how.startswith("delay"):
                    # The job ended before its kill: T (measured under another load) was too long.
                    full[n] = o.ran_for
    finally:
        if not args.keep_dc:
            with contextlib.suppress(LabFailed):
                dc_down()
    print("\nsummary")
    by: dict[tuple[str, str], list[Outcome]] = {}
    for o in outcomes:
        by.setdefault((o.job, o.phase), []).append(o)
    for (job, phase), group in sorted(by.items()):
        ok = sum(o.recovered for o in group)
        print(f"  {job:9} {phase:16} {len(group):3} fault(s), {ok} recovered")
    kills = [o for o in outcomes if o.how.startswith(("delay", "after"))]
    landed = [o for o in kills if o.phase != "finished"]
    all_ok = all(o.recovered for o in outcomes)
    print(f"kills: {len(kills)} ({len(landed)} landed mid-run, {len(kills) - len(landed)} after the job ended); "
          f"other faults: {len(outcomes) - len(kills)}")  # fmt: skip
    reruns = sorted(o.rerun_seconds for o in outcomes)
    if reruns:
        print(f"re-runs: median {reruns[len(reruns) // 2]:.2f} s, max {reruns[-1]:.2f} s; "
              f"whole bench {time.monotonic() - t_start:.0f} s")  # fmt: skip
    print(f"all recovered: {'yes' if all_ok else 'no'} (seed {seed})")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
