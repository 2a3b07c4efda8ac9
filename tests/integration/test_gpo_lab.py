"""GPOs against the lab's Samba AD DC: what adprep writes, Samba's own tools read and accept.

Each test uses random GPO and OU names; teardown deletes the GPOs (LDAP objects and SYSVOL folders),
the OUs, and restores any gPLink value a test touched. Samba's tools run against the DC's own
sam.ldb and smb.conf; the admin password reaches samba-tool through the PASSWD environment
variable, never argv.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adprep import requirements as req
from adprep.ad.dn import escape_filter_value
from adprep.collect.account import COMPUTERS_CONTAINER_GUID as COMPUTERS_GUID
from adprep.collect.gpo import collect_link_container, collect_sysvol, find_gpo
from adprep.gpo.adm import parse_adm
from adprep.gpo.gpt_ini import parse_gpt_ini
from adprep.gpo.paths import SYSVOL_SHARE
from adprep.gpo.pcoip import Clipboard, PcoipRequest, parse_policy_choice, policy_entries
from adprep.gpo.registry_pol import PolEntry
from adprep.jobs.directory_session import directory_settings
from adprep.jobs.gpo import (
    GpoConnection,
    apply_gpo_plan,
    gpo_connection,
    plan_gpo_change,
    plan_link_change,
    scan_gpos,
    show_gpo,
)
from adprep.jobs.preflight import preflight_settings, run_preflight
from adprep.model import Status
from adprep.prep.gpo import AdmFile, plan_link
from adprep.prep.plan import Plan
from adprep.secret import Secret
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


@contextlib.contextmanager
def _connection(dc: LabDc) -> Iterator[GpoConnection]:
    settings = directory_settings(
        dc=dc.address, domain=dc.domain, user=dc.admin_user, password_file=Path(dc.raw["admin_password_file"]),
        dc_name=dc.fqdn, ca_file=dc.tls_ca,
    )  # fmt: skip
    with gpo_connection(settings) as c:
        yield c


@pytest.fixture
def conn(dc1: LabDc) -> Iterator[GpoConnection]:
    with _connection(dc1) as c:
        yield c


@pytest.fixture
def conn2(dc2: LabDc) -> Iterator[GpoConnection]:
    """dc2: its own directory, for tests that link GPOs to the domain or a site (dc1's default preflight
    must stay clean for the other tests)."""
    with _connection(dc2) as c:
        yield c


class Cleanup:
    def __init__(self, conn: GpoConnection) -> None:
        self.conn = conn
        self.names: list[str] = []
        self.ous: list[str] = []
        self.gplinks: dict[str, str | None] = {}
        self.computers: tuple[str, str] | None = None
        """(old, new) wellKnownObjects values of the computers container, while a test redirects it."""

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

    def redirect_computers(self, ou_dn: str) -> None:
        """What redircmp does: point the domain's computers container at ``ou_dn``."""
        base = self.conn.settings.base_dn
        head = self.conn.ldap.get(base, ("wellKnownObjects",))
        assert head is not None
        old = next(str(v) for v in head.all("wellKnownObjects") if COMPUTERS_GUID in str(v).upper())
        new = f"B:32:{COMPUTERS_GUID}:{ou_dn}"
        self.conn.ldap.modify(base, {"wellKnownObjects": [("delete", [old]), ("add", [new])]})
        self.computers = (old, new)

    def link(self, gpo_name: str, container_dn: str) -> None:
        """Link the GPO at any container, a site included (``run`` removes every link to our GPOs)."""
        gpo = find_gpo(self.conn.ldap, self.conn.settings.base_dn, gpo_name)
        container = collect_link_container(self.conn.ldap, container_dn)
        assert gpo is not None and container is not None
        _apply(self.conn, plan_link(container, gpo.dn, label=gpo_name, link=True))

    def _unlink_everywhere(self, gpo_dn: str, guid: str) -> None:
        root = self.conn.ldap.get("", ("configurationNamingContext",))
        bases = [self.conn.settings.base_dn, str(root.first("configurationNamingContext")) if root else ""]
        for base in filter(None, bases):
            for entry in self.conn.ldap.search(
                base, f"(gPLink=*{escape_filter_value(guid)}*)", attributes=("cn",)
            ):
                container = collect_link_container(self.conn.ldap, entry.dn)
                if container is not None:
                    _apply(self.conn, plan_link(container, gpo_dn, label=guid, link=False))

    def run(self) -> None:
        ldap, smb, s = self.conn.ldap, self.conn.smb, self.conn.settings
        if self.computers is not None:
            old, new = self.computers
            ldap.modify(s.base_dn, {"wellKnownObjects": [("delete", [new]), ("add", [old])]})
        for name in self.names:
            gpo = find_gpo(ldap, s.base_dn, name)
            if gpo is not None:
                self._unlink_everywhere(gpo.dn, gpo.guid)
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
def cleanup2(conn2: GpoConnection) -> Iterator[Cleanup]:
    c = Cleanup(conn2)
    try:
        yield c
    finally:
        c.run()


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
    clean = scan_gpos(conn.ldap, conn.smb, conn.settings.base_dn, child_dn)
    banner_gpo = cleanup.gpo_name()
    banner = (
        PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeCaption", "Authorized use only"),
        PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeText", "Click OK to continue."),
    )
    _apply(conn, plan_gpo_change(conn, banner_gpo, machine_settings=banner, link=parent))

    # When the OU is scanned
    results = scan_gpos(conn.ldap, conn.smb, conn.settings.base_dn, child_dn)

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


# -- the default scope: the computers container, the domain and the sites --------------------------

BANNER = (PolEntry.sz(req.LOGON_BANNER_KEY, "LegalNoticeCaption", "Authorized use only"),)


def _site_dn(conn: GpoConnection) -> str:
    root = conn.ldap.get("", ("configurationNamingContext",))
    assert root is not None
    sites = conn.ldap.search(f"CN=Sites,{root.first('configurationNamingContext')}", "(objectClass=site)",
                             scope="one", attributes=("cn",))  # fmt: skip
    return sorted(e.dn for e in sites)[0]


def _rds_limit(value: str, ms: int) -> tuple[PolEntry, ...]:
    return (PolEntry.dword(req.RDS_POLICY_KEY, value, ms),)


def test_a_banner_in_a_domain_linked_gpo_fails_a_default_preflight(
    dc2: LabDc, conn2: GpoConnection, cleanup2: Cleanup
) -> None:
    # Given a logon-banner GPO linked to the domain (dc2's own directory)
    base = conn2.settings.base_dn
    name = cleanup2.gpo_name()
    _apply(conn2, plan_gpo_change(conn2, name, machine_settings=BANNER, link="domain"))

    # When preflight runs without a target OU, as AD Connector's default puts computers in CN=Computers
    settings = preflight_settings(
        domain=dc2.domain, dns_ips=[dc2.address], username=dc2.admin_user,
        password=Secret(dc2.admin_password, "lab"), ca_file=dc2.tls_ca, timeout=1.0,
    )  # fmt: skip
    report = run_preflight(settings)

    # Then the scan looked at the computers container and fails on the banner, naming the domain link
    found = find_gpo(conn2.ldap, base, name)
    assert found is not None
    result = next(r for r in report.results if r.id == f"gpo.scan.{found.guid}.logon_banner")
    assert result.status is Status.FAIL and result.target == f"CN=Computers,{base}"
    assert f"linked at {base}" in result.title and name in result.title
    assert result.remedy and "OU of their own that blocks inheritance" in result.remedy


def test_a_site_linked_disconnect_limit_warns_until_a_domain_gpo_sets_never(
    conn2: GpoConnection, cleanup2: Cleanup
) -> None:
    # Given a GPO ending disconnected sessions after 1 minute, linked to the DC's site
    base, site = conn2.settings.base_dn, _site_dn(conn2)
    site_name = site.split(",", 1)[0].split("=", 1)[1]
    limit = cleanup2.gpo_name()
    _apply(
        conn2, plan_gpo_change(conn2, limit, machine_settings=_rds_limit(req.RDS_MAX_DISCONNECTION, 60_000))
    )
    cleanup2.link(limit, site)
    limit_gpo = find_gpo(conn2.ldap, base, limit)
    assert limit_gpo is not None

    # When the computers container is scanned
    warned = scan_gpos(conn2.ldap, conn2.smb, base)

    # Then it warns, for computers in that site
    result = next(r for r in warned if r.id == f"gpo.scan.{limit_gpo.guid}.disconnect_logoff")
    assert result.status is Status.WARN and f"linked at site {site_name}" in result.title
    assert result.facts["sites"] == [site_name] and result.facts["linked_at"] == [site]

    # When a GPO linked to the domain sets the limit to Never (0), which wins over the site's
    never = cleanup2.gpo_name()
    _apply(conn2, plan_gpo_change(conn2, never, machine_settings=_rds_limit(req.RDS_MAX_DISCONNECTION, 0),
                                  link="domain"))  # fmt: skip
    cleared = scan_gpos(conn2.ldap, conn2.smb, base)

    # Then no GPO is reported for it any more
    assert not [r.id for r in cleared if r.id.endswith(".disconnect_logoff")]


def test_the_default_scan_follows_the_computers_container_where_redircmp_points(
    conn2: GpoConnection, cleanup2: Cleanup
) -> None:
    # Given an OU linking a banner GPO, made the domain's computers container (as redircmp does)
    base = conn2.settings.base_dn
    ou = cleanup2.ou()
    name = cleanup2.gpo_name()
    _apply(conn2, plan_gpo_change(conn2, name, machine_settings=BANNER, link=ou))
    cleanup2.redirect_computers(ou)

    # When the scan runs without a target
    results = scan_gpos(conn2.ldap, conn2.smb, base)

    # Then it scanned that OU and found the banner linked there
    found = find_gpo(conn2.ldap, base, name)
    assert found is not None
    result = next(r for r in results if r.id == f"gpo.scan.{found.guid}.logon_banner")
    assert result.target == ou and f"linked at {ou}" in result.title


# -- the PCoIP template, installed as "Add/Remove Templates" does ----------------------------------


def test_pcoip_set_installs_the_template_and_sets_a_policy_by_title(
    dc1: LabDc, conn: GpoConnection, cleanup: Cleanup
) -> None:
    # Given a new GPO, the customer's pcoip.adm, and a policy named by its title in the editor
    name = cleanup.gpo_name()
    _apply(conn, plan_gpo_change(conn, name))
    adm = (FIXTURES / "gpo" / "pcoip.adm").read_bytes()
    choice = parse_policy_choice(
        "Configure Session Automatic Reconnection Policy > Session resume timeout=45"
    )
    entries = policy_entries(parse_adm(adm, source="pcoip.adm"), PcoipRequest(policies=(choice,)))

    # When the settings are written with the template
    install = (AdmFile("pcoip.adm", adm),)
    _apply(conn, plan_gpo_change(conn, name, machine_settings=entries, may_create=False, templates=install))

    # Then the template is in the GPO's Adm folder byte for byte, with ACLs Samba accepts
    gpo = find_gpo(conn.ldap, conn.settings.base_dn, name)
    assert gpo is not None and gpo.version == 1
    sysvol = collect_sysvol(conn.smb, conn.settings.domain, gpo.guid)
    assert sysvol.adm_files == {"Adm/pcoip.adm": adm}
    check = _samba(dc1, "ntacl", "sysvolcheck")
    assert check.returncode == 0 and not check.stdout.strip() and "Error" not in check.stderr, check.stderr
    # and the GPO reads back through its own template, under the policy's title
    view = show_gpo(conn, name, None)
    assert view.templates == ("Adm/pcoip.adm",)
    assert view.settings == (
        (
            "Configure Session Automatic Reconnection Policy (Overridable Administration Defaults)",
            "Enable automatic reconnection: on; Session resume timeout: 45",
        ),
    )

    # When the same command runs again, then with a newer template and no settings
    again = plan_gpo_change(conn, name, machine_settings=entries, may_create=False, templates=install)
    newer = adm + b"; newer agent\r\n"
    _apply(conn, plan_gpo_change(conn, name, may_create=False, templates=(AdmFile("pcoip.adm", newer),)))

    # Then the first plans nothing, and the second replaces the file without bumping the version
    assert again.empty, [c.summary for c in again.changes]
    after = find_gpo(conn.ldap, conn.settings.base_dn, name)
    assert after is not None and after.version == 1
    assert collect_sysvol(conn.smb, conn.settings.domain, gpo.guid, with_acls=False).adm_files == {
        "Adm/pcoip.adm": newer
    }


def test_a_preflight_whose_account_cannot_bind_skips_the_scan(dc2: LabDc) -> None:
    # Given a wrong password (the lab's lockout threshold is 0, so no account is locked)
    settings = preflight_settings(
        domain=dc2.domain, dns_ips=[dc2.address], username=dc2.admin_user,
        password=Secret(f"not-{dc2.admin_password}", "lab"), ca_file=dc2.tls_ca, timeout=1.0,
    )  # fmt: skip

    # When preflight runs
    report = run_preflight(settings)

    # Then the bind fails once and the GPO scan is skipped, not tried with the same password again
    by_id = {r.id: r for r in report.results}
    assert by_id["account.bind"].status is Status.FAIL
    assert by_id["gpo.scan"].status is Status.SKIP and "could not bind" in by_id["gpo.scan"].title
    assert not [r.id for r in report.results if r.id.startswith("gpo.scan.")]
