"""The directory checks against the lab: VLV switched off, an account without pre-authentication,
and functional levels on dc3, a DC of our own that is provisioned at Windows 2000 level and then
rewritten to 2016, 2025 and a future number (scripts/lab set-level: stop, ldbmodify, start).

dc1 changes are undone in ``finally``; dc3 is brought down at the end and left at level 0.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from adprep import requirements as req
from adprep.model import CheckResult, Status
from adprep.transport.ldap import LdapSession
from tests.conftest import REPO, LabDc, _dc, missing_peer
from tests.integration.test_account_lab import (
    LabAccount,
    account_operators,
    admin_session,
    run,
    service_account,
)

pytestmark = pytest.mark.lab

DONT_REQ_PREAUTH = 0x400000
NORMAL_ACCOUNT = 0x200


@pytest.fixture(scope="module")
def admin(dc1: LabDc) -> Iterator[LdapSession]:
    with admin_session(dc1) as session:
        yield session


@pytest.fixture(scope="module")
def operator(dc1: LabDc, admin: LdapSession) -> Iterator[LabAccount]:
    """One service account for this module, allowed to create computers."""
    with service_account(admin, dc1, groups=(account_operators(dc1),)) as account:
        yield account


def test_disable_vlv_support(dc1: LabDc, admin: LdapSession, operator: LabAccount) -> None:
    ds = f"CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,{dc1.base_dn}"
    entry = admin.get(ds, ("msDS-Other-Settings",))
    assert entry is not None
    before = entry.all("msDS-Other-Settings")
    kept = [v for v in before if not v.lower().startswith("disablevlvsupport")]
    try:
        # Given DisableVLVSupport=1 on the Directory Service object
        admin.modify(ds, {"msDS-Other-Settings": [("replace", [*kept, "DisableVLVSupport=1"])]})
        results = run(dc1, operator)
    finally:
        admin.modify(ds, {"msDS-Other-Settings": [("replace", before)]})
    # Then the setting fails with the service-account text AD Connector shows
    setting = results["directory.vlv.setting"]
    assert setting.status is Status.FAIL
    assert setting.adc_error == req.ADC_SERVICE_ACCOUNT
    assert "DisableVLVSupport=1" in setting.title
    # Samba does not honour the setting (Windows does): the real VLV search still works there
    assert results["directory.vlv.search"].status is Status.PASS
    restored = admin.get(ds, ("msDS-Other-Settings",))
    assert restored is not None and sorted(restored.all("msDS-Other-Settings")) == sorted(before)


def test_user_without_preauth_is_listed(dc1: LabDc, admin: LdapSession, operator: LabAccount) -> None:
    # Given a user with DONT_REQ_PREAUTH
    with service_account(admin, dc1, uac=NORMAL_ACCOUNT | DONT_REQ_PREAUTH) as roastable:
        results = run(dc1, operator)
    pre = results["directory.preauth"]
    assert pre.status is Status.WARN
    assert roastable.name in pre.facts["accounts"]  # type: ignore[operator]
    assert roastable.name in pre.title
    assert pre.remedy and "preauthentication" in pre.remedy
    assert pre.adc_error is None


def test_small_lab_needs_no_cn_index(dc1: LabDc, operator: LabAccount) -> None:
    cn = run(dc1, operator)["directory.cn_index"]
    assert cn.status is Status.PASS
    assert cn.facts["count_capped"] is False


# --- functional levels on dc3 -------------------------------------------------------------------------


def lab(*args: str) -> None:
    proc = subprocess.run([str(REPO / "scripts" / "lab"), *args], capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        missing_peer(f"scripts/lab {' '.join(args)} failed: {proc.stderr[-500:]}")


@pytest.fixture(scope="module")
def dc3() -> Iterator[LabDc]:
    """dc3, provisioned at Windows 2000 level (Samba 4.17 can), used only for level tests."""
    lab("up", "dc3", "--level", "2000")
    dc = _dc("dc3")
    try:
        yield dc
    finally:
        # Down first, then put level 0 back in sam.ldb without a restart, so that the next
        # "up dc3 --level 2000" starts where this one did.
        lab("down", "dc3")
        lab("set-level", "dc3", "0")


def levels(dc: LabDc) -> dict[str, CheckResult]:
    with admin_session(dc) as admin2, service_account(admin2, dc) as account:
        results = run(dc, account)
    assert results["account.bind"].status is Status.PASS
    return results


def test_functional_levels(dc3: LabDc) -> None:
    # Given a domain and forest at Windows 2000 level: both fail (unless a previous run left dc3 elsewhere)
    results = levels(dc3)
    if results["directory.functional_level.forest"].facts["level"] != 0:
        lab("set-level", "dc3", "0")
        results = levels(dc3)
    for kind in ("forest", "domain"):
        r = results[f"directory.functional_level.{kind}"]
        assert r.status is Status.FAIL, r
        assert r.facts["level"] == 0
        assert "Windows 2000 (level 0)" in r.title
        assert r.adc_error is None and r.remedy

    # When the levels are rewritten to 2016 and 2025: both pass, named
    for level, name in ((7, "Windows Server 2016"), (10, "Windows Server 2025")):
        lab("set-level", "dc3", str(level))
        results = levels(dc3)
        for kind in ("forest", "domain"):
            r = results[f"directory.functional_level.{kind}"]
            assert r.status is Status.PASS, r
            assert r.facts["level"] == level and r.facts["name"] == name
            assert f"{name} (level {level})" in r.title

    # And an unknown future number passes, reported as a number
    lab("set-level", "dc3", "11")
    results = levels(dc3)
    for kind in ("forest", "domain"):
        r = results[f"directory.functional_level.{kind}"]
        assert r.status is Status.PASS, r
        assert r.facts["level"] == 11 and r.facts["name"] is None
        assert "level 11 (newer than adprep knows" in r.title
