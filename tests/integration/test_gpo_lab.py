"""GPOs against the lab's Samba AD DC: what adprep writes, Samba's own tools read and accept.

Each test uses random GPO and OU names; teardown deletes the GPOs (LDAP objects and SYSVOL folders),
the OUs, and restores any gPLink value a test touched. Samba's tools run against the DC's own
sam.ldb and smb.conf; the admin password reaches samba-tool through the PASSWD environment
variable, never argv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adprep import requirements as req
from adprep.collect.gpo import SYSVOL_SHARE, collect_link_container, collect_sysvol, find_gpo
from adprep.gpo.adm import parse_adm
from adprep.gpo.gpt_ini import parse_gpt_ini
from adprep.gpo.pcoip import Clipboard, PcoipRequest, policy_entries
from adprep.gpo.registry_pol import PolEntry
from adprep.jobs.directory_session import directory_settings
from adprep.jobs.gpo import (
    GpoConnection,
    apply_gpo_plan,
    gpo_connection,
    plan_gpo_change,
    plan_link_change,
    scan_gpos,
)
from adprep.model import Status
from adprep.prep.plan import Plan
from tests.conftest import FIXTURES, LabDc, missing_peer

PCOIP = PcoipRequest(clipboard=Clipboard.CLIENT_TO_WORKSPACE, remote_printing=0, reconnect_timeout_minutes=30)


def _samba(dc: LabDc, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("samba-tool") is None:
        missing_peer("samba-tool is not installed")
    env = {**os.environ, "PASSWD": dc.admin_password}
    return subprocess.run(
        ["samba-tool", *args, "-s", dc.smb_conf],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def conn(dc1: LabDc) -> Iterator[GpoConnection]:
    settings = directory_settings(
        dc=dc1.address, domain=dc1.domain, user=dc1.admin_user, password_file=Path(dc1.raw["admin_password_file"]),
        dc_name=dc1.fqdn, ca_file=dc1.tls_ca,
    )  # fmt: skip
    with gpo_connection(settings) as c:
        yield c


class Cleanup:
    def __init__(self, conn: GpoConnection) -> None:
        self.conn = conn
        self.names: list[str] = []
        self.ous: list[str] = []
        self.gplinks: dict[str, str | None] = {}

    def gpo_name(self) -> str:
        name = f"adprep-test-{uuid.uuid4().hex[:8]}"
        self.names.append(name)
        return name

    def ou(self, gplink: str | None = None) -> str:
        dn = f"OU=adprep-test-{uuid.uuid4().hex[:8]},{self.conn.settings.base_dn}"
        self.conn.ldap.add(dn, ["organizationalUnit"], {"gPLink": gplink} if gplink else {})
        self.ous.append(dn)
        return dn

    def remember_gplink(self, dn: str) -> None:
        if dn not in self.gplinks:
            container = collect_link_container(self.conn.ldap, dn)
            self.gplinks[dn] = container.gplink if container else None

    def run(self) -> None:
        ldap, smb, s = self.conn.ldap, self.conn.smb, self.conn.settings
        for dn, value in self.gplinks.items():
            ldap.modify(dn, {"gPLink": [("replace", [value] if value else [])]})
        for dn in self.ous:
            ldap.delete(dn)
        for name in self.names:
            gpo = find_gpo(ldap, s.base_dn, name)
            if gpo is None:
                continue
            smb.remove_tree(SYSVOL_SHARE, f"{s.domain}/Policies/{gpo.guid}")
            for child in ldap.search(gpo.dn, scope="one"):
                ldap.delete(child.dn)
            ldap.delete(gpo.dn)


@pytest.fixture
def cleanup(conn: GpoConnection) -> Iterator[Cleanup]:
    c = Cleanup(conn)
    try:
        yield c
    finally:
        c.run()


def _apply(conn: GpoConnection, plan: Plan) -> None:
    result = apply_gpo_plan(conn, plan)
    assert not result.failed, [(o.change.summary, o.error) for o in result.failed]


def _pcoip_entries() -> tuple[PolEntry, ...]:
    template = parse_adm((FIXTURES / "gpo" / "pcoip.adm").read_bytes(), source="pcoip.adm")
    return policy_entries(template, PCOIP)


SAMBA_READ_POL = r"""
import json, sys
from samba.gp_parse.gp_pol import GPPolParser
p = GPPolParser()
p.parse(bytes.fromhex(sys.stdin.read()))
print(json.dumps([[e.keyname, e.valuename, e.type, e.data if isinstance(e.data, (int, str)) else None]
                  for e in p.pol_file.entries]))
"""


def test_created_gpo_is_complete_for_samba_and_a_rerun_changes_nothing(
    dc1: LabDc, conn: GpoConnection, cleanup: Cleanup
) -> None:
    # Given a new GPO name and PCoIP settings from the ADM fixture
    name = cleanup.gpo_name()
    entries = _pcoip_entries()

    # When adprep creates the GPO and writes the settings
    _apply(conn, plan_gpo_change(conn, name))
    _apply(conn, plan_gpo_change(conn, name, machine_settings=entries, may_create=False))

    # Then Samba lists and shows it, with version 1 (computer half) in LDAP and GPT.INI
    gpo = find_gpo(conn.ldap, conn.settings.base_dn, name)
    assert gpo is not None and gpo.version == 1
    assert gpo.machine_extensions == f"[{req.REGISTRY_CSE_GUID}{req.REGISTRY_TOOL_GUID}]"
    listall = _samba(dc1, "gpo", "listall", "-H", f"ldb://{dc1.sam_ldb}")
    assert listall.returncode == 0 and name in listall.stdout and gpo.guid in listall.stdout
    show = _samba(dc1, "gpo", "show", gpo.guid, "-H", f"ldb://{dc1.sam_ldb}", "-U", dc1.admin_user)
    assert show.returncode == 0 and name in show.stdout, show.stderr
    # and the SYSVOL ACLs match the GPO's security descriptor
    check = _samba(dc1, "ntacl", "sysvolcheck")
    assert check.returncode == 0 and not check.stdout.strip() and "Error" not in check.stderr, check.stderr
    sysvol = collect_sysvol(conn.smb, conn.settings.domain, gpo.guid)
    assert parse_gpt_ini(sysvol.gpt_ini or b"").version == 1
    # and Samba's parser reads the Registry.pol entries adprep wrote
    read = subprocess.run(
        ["/usr/bin/python3", "-c", SAMBA_READ_POL], input=(sysvol.registry_pol or b"").hex(),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert json.loads(read.stdout) == [[e.key, e.value, int(e.type), e.decoded] for e in entries]

    # When both commands run again
    again = [
        plan_gpo_change(conn, name),
        plan_gpo_change(conn, name, machine_settings=entries, may_create=False),
    ]

    # Then nothing is planned and every byte and version is as it was
    assert all(p.empty for p in again), [c.summary for p in again for c in p.changes]
    after = collect_sysvol(conn.smb, conn.settings.domain, gpo.guid)
    assert (after.gpt_ini, after.registry_pol) == (sysvol.gpt_ini, sysvol.registry_pol)
    gpo_after = find_gpo(conn.ldap, conn.settings.base_dn, name)
    assert gpo_after is not None and gpo_after.version == 1


def test_a_half_made_gpo_is_completed_not_duplicated(conn: GpoConnection, cleanup: Cleanup) -> None:
    # Given a run cut off right after the LDAP object was created
    name = cleanup.gpo_name()
    plan = plan_gpo_change(conn, name)
    _apply(conn, Plan(plan.command, plan.changes[:1]))

    # When the command runs again
    rerun = plan_gpo_change(conn, name)
    _apply(conn, rerun)

    # Then it completes the same GPO (same GUID), and one GPO carries the name
    assert not any(c.id.startswith("gpo.create:") for c in rerun.changes)
    assert rerun.changes, "the rest of the GPO should have been planned"
    gpo = find_gpo(conn.ldap, conn.settings.base_dn, name)
    assert gpo is not None and gpo.dn == plan.changes[0].target
    assert gpo.children == {"machine", "user"}
    assert collect_sysvol(conn.smb, conn.settings.domain, gpo.guid).gpt_ini is not None
    assert plan_gpo_change(conn, name).empty


def test_link_and_unlink_keep_the_other_links(conn: GpoConnection, cleanup: Cleanup) -> None:
    # Given an OU that already links two GPOs (one enforced) and a new GPO
    base = conn.settings.base_dn
    others = (
        f"[LDAP://cn={{31B2F340-016D-11D2-945F-00C04FB984F9}},cn=policies,cn=system,{base};0]"
        f"[LDAP://cn={{6AC1786C-016F-11D2-945F-00C04FB984F9}},cn=policies,cn=system,{base};2]"
    )
    ou = cleanup.ou(others)
    name = cleanup.gpo_name()

    # When the GPO is created with --link OU, then linked again, then unlinked
    _apply(conn, plan_gpo_change(conn, name, link=ou))
    linked = collect_link_container(conn.ldap, ou)
    relink = plan_link_change(conn, name, ou, link=True)
    _apply(conn, plan_link_change(conn, name, ou, link=False))
    unlinked = collect_link_container(conn.ldap, ou)

    # Then the new link came first (lowest precedence) and the others are byte-for-byte intact
    gpo = find_gpo(conn.ldap, base, name)
    assert gpo is not None and linked is not None and unlinked is not None
    assert linked.gplink == f"[LDAP://{gpo.dn};0]" + others
    assert relink.empty
    assert unlinked.gplink == others


def test_scan_finds_a_logon_banner_on_the_way_to_the_ou(conn: GpoConnection, cleanup: Cleanup) -> None:
    # Given a clean OU, and a GPO with an interactive logon banner linked on an OU above it
    parent = cleanup.ou()
    child_dn = f"OU=WorkSpaces,{parent}"
    conn.ldap.add(child_dn, ["organizationalUnit"], {})
    cleanup.ous.insert(0, child_dn)  # children go first
    pcoip_gpo = cleanup.gpo_name()
    _apply(conn, plan_gpo_change(conn, pcoip_gpo, machine_settings=_pcoip_entries(), link=child_dn))
    clean = scan_gpos(conn.ldap, conn.smb, child_dn)
    banner_gpo = cleanup.gpo_name()
    banner = (
        PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeCaption", "Authorized use only"),
        PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeText", "Click OK to continue."),
    )
    _apply(conn, plan_gpo_change(conn, banner_gpo, machine_settings=banner, link=parent))

    # When the OU is scanned
    results = scan_gpos(conn.ldap, conn.smb, child_dn)

    # Then the clean scan passed, and now the banner GPO is reported with its link and a fix
    assert [r.id for r in clean] == ["gpo.scan.clean"] and clean[0].status is Status.PASS
    found = find_gpo(conn.ldap, conn.settings.base_dn, banner_gpo)
    assert found is not None
    failing = [r for r in results if r.status is Status.FAIL]
    assert [r.id for r in failing] == [f"gpo.scan.{found.guid}.logon_banner"]
    assert parent in failing[0].title and banner_gpo in failing[0].title
    assert failing[0].remedy and "unlink" in failing[0].remedy


def test_preflight_with_a_target_ou_reports_the_banner(
    dc1: LabDc, conn: GpoConnection, cleanup: Cleanup
) -> None:
    # Given a WorkSpaces OU under an OU that links a logon-banner GPO
    from adprep.jobs.preflight import preflight_settings, run_preflight
    from adprep.secrets import Secret

    parent = cleanup.ou()
    banner_gpo = cleanup.gpo_name()
    banner = (PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeCaption", "Authorized use only"),)
    _apply(conn, plan_gpo_change(conn, banner_gpo, machine_settings=banner, link=parent))
    # When preflight runs with that OU as the target
    settings = preflight_settings(
        domain=dc1.domain, dns_ips=[dc1.address], username=dc1.admin_user,
        password=Secret(dc1.admin_password, "lab"), ca_file=dc1.tls_ca, target_ou=parent, timeout=1.0,
    )  # fmt: skip
    report = run_preflight(settings)
    # Then the scan is part of the report and names the banner GPO
    found = find_gpo(conn.ldap, conn.settings.base_dn, banner_gpo)
    assert found is not None
    result = next(r for r in report.results if r.id == f"gpo.scan.{found.guid}.logon_banner")
    assert result.status is Status.FAIL and banner_gpo in result.title
