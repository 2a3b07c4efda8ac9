"""Shared fixtures. The lab (a real Samba AD DC and FreeRADIUS, started by scripts/lab) is found
through .lab/lab.json. Missing lab: skip on a laptop, fail under CI=true (python-ldap's rule)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
LAB_DIR = Path(os.environ.get("ADPREP_LAB_DIR", REPO / ".lab"))
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property tests judge what code does, not how fast a loaded 2-core machine runs it: no per-example
# deadline. Under CI the examples are derived from each test (derandomize), so a run is repeatable;
# on a developer's machine they stay random, which is where new counterexamples come from.
settings.register_profile("adprep", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("adprep-ci", parent=settings.get_profile("adprep"), derandomize=True)
settings.load_profile("adprep-ci" if ON_CI else "adprep")


def missing_peer(reason: str) -> None:
    """A peer the test needs is not there: fail on CI, skip elsewhere."""
    if ON_CI:
        pytest.fail(f"CI=true and {reason}: scripts/test must start the lab")
    pytest.skip(reason)


@dataclass(frozen=True)
class LabDc:
    name: str
    address: str
    fqdn: str
    realm: str
    domain: str
    base_dn: str
    admin_user: str
    admin_password: str
    tls_ca: str
    krb5_conf: str
    sam_ldb: str
    smb_conf: str
    strong_auth: bool
    raw: dict[str, Any]


@dataclass(frozen=True)
class LabRadius:
    address: str
    port: int
    secret: str
    user: str
    user_password: str
    challenge_user: str


def _facts() -> dict[str, Any]:
    path = LAB_DIR / "lab.json"
    if not path.exists():
        missing_peer(f"no lab facts at {path} (run scripts/lab up)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _dc(name: str) -> LabDc:
    facts = _facts()
    d = facts["dcs"].get(name)
    if d is None:
        missing_peer(f"lab DC {name} is not running (run scripts/lab up {name})")
    return LabDc(
        name=d["name"],
        address=d["address"],
        fqdn=d["fqdn"],
        realm=d["realm"],
        domain=d["domain"],
        base_dn=d["base_dn"],
        admin_user=d["admin_user"],
        admin_password=Path(d["admin_password_file"]).read_text().strip(),
        tls_ca=d["tls_ca"],
        krb5_conf=d["krb5_conf"],
        sam_ldb=d["sam_ldb"],
        smb_conf=d["smb_conf"],
        strong_auth=d["strong_auth"],
        raw=d,
    )


@pytest.fixture(scope="session")
def dc1() -> LabDc:
    return _dc("dc1")


@pytest.fixture(scope="session")
def dc2() -> LabDc:
    return _dc("dc2")


@pytest.fixture(scope="session")
def radius_lab() -> LabRadius:
    r = _facts().get("radius")
    if not r:
        missing_peer("the lab FreeRADIUS is not running (run scripts/lab up radius)")
    return LabRadius(
        address=r["address"],
        port=r["port"],
        secret=Path(r["secret_file"]).read_text().strip(),
        user=r["user"],
        user_password=Path(r["user_password_file"]).read_text().strip(),
        challenge_user=r["challenge_user"],
    )


@dataclass(frozen=True)
class LabSubnet:
    """An "AD Connector subnet" of the routed lab: a network namespace with its own sshd."""

    key: str
    ns: str
    address: str
    gateway: str
    cidr: str
    ssh: str  # alias in LabNet.ssh_config
    radius_client: bool
    filtered: tuple[str, ...]  # "tcp/389": silently dropped toward the DC (a security group)
    filter_hook: str | None  # "egress" (silent, like AWS) or "output" (older kernels: UDP sends fail EPERM)


@dataclass(frozen=True)
class LabNet:
    """The routed lab (scripts/lab up net): dc4 and a FreeRADIUS on 198.18.0.0/15 addresses, reached from
    two subnets through SSH relays. ``aliases`` maps nopython/badauth/unknownkey/changedkey/closed to
    ssh aliases that fail in those ways."""

    dc: str
    dc_name: str
    dc_fqdn: str
    radius_address: str
    radius_port: int
    radius_clients: tuple[str, ...]
    ssh_config: str
    ssh_identity: str
    ssh_known_hosts: str
    subnets: dict[str, LabSubnet]
    aliases: dict[str, str]

    def ssh(self, alias: str) -> list[str]:
        """argv prefix: ``[*lab_net.ssh("subnet-a"), "python3", "-"]``."""
        return ["ssh", "-F", self.ssh_config, alias]


@pytest.fixture(scope="session")
def lab_net() -> LabNet:
    n = _facts().get("net")
    if not n:
        missing_peer("the routed lab is not running (run scripts/lab up net)")
    if shutil.which("ssh") is None:
        missing_peer("the OpenSSH client is needed for the routed lab (apt-get install openssh-client)")
    return LabNet(
        dc=n["dc"],
        dc_name=n["dc_name"],
        dc_fqdn=n["dc_fqdn"],
        radius_address=n["radius"]["address"],
        radius_port=n["radius"]["port"],
        radius_clients=tuple(n["radius"]["clients"]),
        ssh_config=n["ssh_config"],
        ssh_identity=n["ssh_identity"],
        ssh_known_hosts=n["ssh_known_hosts"],
        subnets={
            key: LabSubnet(
                key=key,
                ns=s["ns"],
                address=s["address"],
                gateway=s["gateway"],
                cidr=s["cidr"],
                ssh=s["ssh"],
                radius_client=s["radius_client"],
                filtered=tuple(s["filtered"]),
                filter_hook=s["filter_hook"],
            )
            for key, s in n["subnets"].items()
        },
        aliases=dict(n["aliases"]),
    )


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace of our own, with lo up and nftables dropping 127.0.1.0/24.

    Inside it, 127.0.1.x is "filtered" (SYNs dropped) and 127.0.0.x with nothing listening is
    "closed". Removed afterwards.
    """
    if shutil.which("ip") is None or shutil.which("nft") is None:
        missing_peer("ip and nft are needed for namespace tests (apt-get install iproute2 nftables)")
    name = f"adprep-t{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        ns = ["ip", "netns", "exec", name]
        subprocess.run([*ns, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run([*ns, "nft", "add", "table", "inet", "f"], check=True)
        subprocess.run(
            [*ns, "nft", "add", "chain", "inet", "f", "in", "{ type filter hook input priority 0; }"],
            check=True,
        )
        subprocess.run(
            [*ns, "nft", "add", "rule", "inet", "f", "in", "ip", "daddr", "127.0.1.0/24", "drop"], check=True
        )
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


# --- The catalogue of checks, proven in both directions ---------------------------------------------
# Every CheckResult adprep's code makes during the session is recorded (results the tests build
# themselves, reports read back and redacted copies are not emissions). At the end:
# (a) every recorded id matches a catalogue entry (adprep/catalogue.py), and every error says why;
# (b) when the whole suite ran (every test file collected, nothing deselected, and on CI or with no
#     skip), every catalogue entry was emitted by some test.
_NOT_EMITTERS = ("adprep.report_json", "adprep.render.redact")
_emitted: dict[str, str] = {}
"""check id -> the first test that made it."""
_no_reason: dict[str, str] = {}
"""error results without a reason -> the test that made them."""
_current_test = ["(collection)"]
_deselected = [0]


def _record_check_results() -> None:
    import sys

    from adprep.model import CheckResult, Status

    original = CheckResult.__init__

    def recording_init(self: CheckResult, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__") == "dataclasses":
            frame = frame.f_back  # dataclasses.replace: the caller is the emitter
        module = frame.f_globals.get("__name__", "") if frame is not None else ""
        if not module.startswith("adprep.") or module.startswith(_NOT_EMITTERS):
            return
        _emitted.setdefault(self.id, _current_test[0])
        if self.status is Status.ERROR and self.reason is None:
            _no_reason.setdefault(self.id, _current_test[0])

    CheckResult.__init__ = recording_init  # type: ignore[method-assign]


_record_check_results()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> None:
    _current_test[0] = item.nodeid


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected[0] += len(items)


def _whole_suite(session: pytest.Session) -> bool:
    """Every test file under tests/ had a test collected, and none was deselected (-k, -m, --deselect)."""
    on_disk = {p.resolve() for p in (REPO / "tests").rglob("test_*.py")}
    collected = {Path(str(item.path)).resolve() for item in session.items}
    return bool(session.items) and on_disk <= collected and _deselected[0] == 0


def catalogue_problems(session: pytest.Session) -> list[str]:
    """What the catalogue test finds wrong (empty: all good)."""
    from adprep.catalogue import CATALOGUE, lookup

    problems = [
        f"{cid}: emitted (first by {test}) but in no catalogue entry: declare it in adprep/catalogue.py"
        for cid, test in sorted(_emitted.items())
        if lookup(cid) is None
    ]
    problems += [
        f"{cid}: an error result without a reason (first by {test}): give it one (adprep.model.ErrorReason)"
        for cid, test in sorted(_no_reason.items())
    ]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = bool(reporter.stats.get("skipped")) if reporter is not None else False
    if _whole_suite(session) and session.testsfailed == 0 and (ON_CI or not skipped):
        covered = {spec.id for cid in _emitted if (spec := lookup(cid)) is not None}
        problems += [
            f"{spec.id}: in the catalogue but emitted by no test: add a test that makes it"
            for spec in CATALOGUE
            if spec.id not in covered
        ]
    return problems


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    problems = catalogue_problems(session)
    session.config.stash[_CATALOGUE_PROBLEMS] = problems
    if problems and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    problems = config.stash.get(_CATALOGUE_PROBLEMS, [])
    if problems:
        terminalreporter.section("catalogue of checks (tests/conftest.py)", red=True)
        for line in problems:
            terminalreporter.line(line)


_CATALOGUE_PROBLEMS = pytest.StashKey[list[str]]()
