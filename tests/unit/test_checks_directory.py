"""Directory verdicts from hand-built facts (pure), and the pure helpers beside the collector."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adprep import requirements as req
from adprep.checks.directory import (
    check_cn_index,
    check_directory,
    check_functional_level,
    check_preauth,
    check_time_skew,
    check_vlv_search,
    check_vlv_setting,
    vlv_disabled_by,
)
from adprep.collect.directory import parse_admin_limit, parse_generalized_time, root_dse_facts
from adprep.errors import LdapError
from adprep.facts.account import VlvProbe
from adprep.facts.directory import DirectoryFacts, Observed, PreauthUsers, RootDse, UserCount
from adprep.model import Status
from adprep.transport.ldap import Entry
from adprep.wire.ldap_vlv import VlvResponse, decode_vlv_response, encode_sort_request, encode_vlv_request

DC = "10.0.0.10"
NOW = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


def dse(*, forest: int | None = 7, domain: int | None = 7, skew_s: float = 0.0) -> RootDse:
    return RootDse(
        forest_level=forest,
        domain_level=domain,
        dc_level=7,
        current_time=NOW + timedelta(seconds=skew_s),
        local_time=NOW,
        round_trip_s=0.02,
        default_nc="DC=corp,DC=example",
        config_nc="CN=Configuration,DC=corp,DC=example",
        schema_nc="CN=Schema,CN=Configuration,DC=corp,DC=example",
        dns_host_name="dc1.corp.example",
    )


def facts(**changes: object) -> DirectoryFacts:
    base = DirectoryFacts(
        address=DC,
        root_dse=Observed(dse()),
        other_settings=Observed(("DisableVLVSupport=0", "DynamicObjectMinTTL=900")),
        max_temp_table_size=Observed(10_000),
        user_count=Observed(UserCount(250, capped=False)),
        cn_search_flags=Observed(1),
        preauth=Observed(PreauthUsers((), 0)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- functional levels -----------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "name"), [(2, "Windows Server 2003"), (7, "Windows Server 2016"),
                                             (10, "Windows Server 2025")])  # fmt: skip
def test_known_levels_from_2003_pass_and_are_named(level: int, name: str) -> None:
    # Given a forest at a known level of 2003 or later
    result = check_functional_level("forest", facts(root_dse=Observed(dse(forest=level))))
    # Then it passes, named and numbered
    assert result.id == "directory.functional_level.forest"
    assert result.status is Status.PASS
    assert result.facts["level"] == level and result.facts["name"] == name
    assert name in result.title and f"level {level}" in result.title


def test_windows_2000_domain_fails_with_remedy() -> None:
    result = check_functional_level("domain", facts(root_dse=Observed(dse(domain=0))))
    assert result.id == "directory.functional_level.domain"
    assert result.status is Status.FAIL
    assert "Windows 2000 (level 0)" in result.title and "Windows Server 2003" in result.title
    assert result.remedy and "raising a level cannot be undone" in result.remedy
    # AD Connector has no documented text for this: none is invented.
    assert result.adc_error is None


def test_2003_interim_forest_is_below_2003() -> None:
    result = check_functional_level("forest", facts(root_dse=Observed(dse(forest=1))))
    assert result.status is Status.FAIL
    assert "interim" in result.title


@pytest.mark.parametrize("level", [11, 42])
def test_unknown_future_level_is_reported_as_a_number_and_passes(level: int) -> None:
    result = check_functional_level("domain", facts(root_dse=Observed(dse(domain=level))))
    assert result.status is Status.PASS
    assert f"level {level}" in result.title and "newer than adprep knows" in result.title
    assert "unknown" not in result.title.lower()
    assert result.facts["name"] is None


def test_unread_rootdse_is_an_error_not_a_verdict() -> None:
    result = check_functional_level(
        "forest", facts(root_dse=Observed.failed("The rootDSE could not be read"))
    )
    assert result.status is Status.ERROR
    assert result.facts["reason"] == "The rootDSE could not be read"


def test_missing_level_attribute_is_an_error() -> None:
    result = check_functional_level("forest", facts(root_dse=Observed(dse(forest=None))))
    assert result.status is Status.ERROR
    assert "forestFunctionality" in str(result.facts["reason"])


# --- time skew -----------------------------------------------------------------------------------


def test_clock_in_step_passes_under_a_per_dc_id() -> None:
    result = check_time_skew(DC, facts(root_dse=Observed(dse(skew_s=-0.8))))
    assert result.id == f"directory.time_skew.{DC}"
    assert result.status is Status.PASS
    assert "in step" in result.title


def test_two_minutes_ahead_warns() -> None:
    result = check_time_skew(DC, facts(root_dse=Observed(dse(skew_s=120))))
    assert result.status is Status.WARN
    assert "120 s ahead of" in result.title
    assert result.facts["skew_s"] == 120.0
    assert result.adc_error is None and result.remedy


def test_six_minutes_behind_fails_with_service_account_text() -> None:
    result = check_time_skew(DC, facts(root_dse=Observed(dse(skew_s=-360))))
    assert result.status is Status.FAIL
    assert "360 s behind" in result.title
    assert result.adc_error == req.ADC_SERVICE_ACCOUNT


def test_skew_accepts_the_rootdse_alone() -> None:
    result = check_time_skew(DC, Observed(dse(skew_s=301)))
    assert result.status is Status.FAIL


def test_no_current_time_is_an_error() -> None:
    result = check_time_skew(DC, Observed.failed("Cannot connect to LDAP at 10.0.0.10:636"))
    assert result.status is Status.ERROR
    assert result.facts["reason"] == "Cannot connect to LDAP at 10.0.0.10:636"


# --- VLV -------------------------------------------------------------------------------------------


def test_vlv_setting_zero_passes() -> None:
    assert check_vlv_setting(facts()).status is Status.PASS


@pytest.mark.parametrize("value", ["DisableVLVSupport=1", "disablevlvsupport = 1 "])
def test_disable_vlv_support_fails_with_service_account_text(value: str) -> None:
    result = check_vlv_setting(facts(other_settings=Observed(("DynamicObjectMinTTL=900", value))))
    assert result.id == "directory.vlv.setting"
    assert result.status is Status.FAIL
    assert result.adc_error == req.ADC_SERVICE_ACCOUNT
    assert value in result.title


def test_vlv_setting_not_read_is_an_error() -> None:
    result = check_vlv_setting(facts(other_settings=Observed.failed("no bound session")))
    assert result.status is Status.ERROR


def test_vlv_disabled_by_ignores_other_keys() -> None:
    assert vlv_disabled_by(["DisableVLVSupportX=1", "DisableVLVSupport=0"]) is None


def test_vlv_search_with_response_passes() -> None:
    result = check_vlv_search(DC, Observed(VlvProbe(VlvResponse(1, 250, 0), entries=10)))
    assert result.id == "directory.vlv.search"
    assert result.status is Status.PASS
    assert result.facts["content_count"] == 250


def test_vlv_search_refused_fails_with_the_sentence() -> None:
    probe = VlvProbe(
        None, code=12, sentence="The directory does not support a control adprep marked critical."
    )
    result = check_vlv_search(DC, Observed(probe))
    assert result.status is Status.FAIL
    assert "does not support a control" in result.title
    assert result.adc_error == req.ADC_SERVICE_ACCOUNT


def test_vlv_search_without_response_control_fails() -> None:
    result = check_vlv_search(DC, Observed(VlvProbe(None, entries=10)))
    assert result.status is Status.FAIL
    assert "without a VLV response control" in result.title


def test_vlv_search_with_error_result_in_the_control_fails() -> None:
    result = check_vlv_search(DC, Observed(VlvProbe(VlvResponse(0, 0, 53))))
    assert result.status is Status.FAIL


def test_vlv_search_not_tried_is_a_skip_and_broken_is_an_error() -> None:
    assert check_vlv_search(DC, None).status is Status.SKIP
    assert check_vlv_search(DC, Observed.failed("connection reset")).status is Status.ERROR


# --- CN index --------------------------------------------------------------------------------------


def test_small_directory_needs_no_index() -> None:
    result = check_cn_index(facts(cn_search_flags=Observed(0)))
    assert result.id == "directory.cn_index"
    assert result.status is Status.PASS
    assert result.facts["users"] == 250


def test_large_directory_with_subtree_index_passes() -> None:
    result = check_cn_index(
        facts(user_count=Observed(UserCount(100_001, capped=True)), cn_search_flags=Observed(0x41))
    )
    assert result.status is Status.PASS
    assert "more than 100,000" in result.title


def test_large_directory_without_index_fails() -> None:
    result = check_cn_index(
        facts(user_count=Observed(UserCount(100_001, capped=True)), cn_search_flags=Observed(1))
    )
    assert result.status is Status.FAIL
    assert result.adc_error == req.ADC_SERVICE_ACCOUNT
    assert result.remedy and "0x40" in result.remedy


def test_large_directory_with_raised_temp_table_warns() -> None:
    result = check_cn_index(
        facts(user_count=Observed(UserCount(100_001, capped=True)), cn_search_flags=Observed(1),
              max_temp_table_size=Observed(200_000))
    )  # fmt: skip
    assert result.status is Status.WARN
    assert "200,000" in result.title


def test_cn_index_errors_when_count_or_flags_unknown() -> None:
    assert check_cn_index(facts(user_count=Observed.failed("x"))).status is Status.ERROR
    big = facts(user_count=Observed(UserCount(100_001, capped=True)), cn_search_flags=Observed.failed("y"))
    assert check_cn_index(big).status is Status.ERROR


# --- preauth ---------------------------------------------------------------------------------------


def test_no_preauth_exceptions_pass() -> None:
    result = check_preauth(facts())
    assert result.id == "directory.preauth"
    assert result.status is Status.PASS


def test_accounts_without_preauth_are_listed_as_a_warning() -> None:
    result = check_preauth(facts(preauth=Observed(PreauthUsers(("alice", "svc-old"), 52))))
    assert result.status is Status.WARN
    assert "alice, svc-old and 50 more" in result.title
    assert result.facts["accounts"] == ["alice", "svc-old"] and result.facts["total"] == 52
    assert result.remedy and "0x400000" in result.remedy


def test_preauth_not_read_is_an_error() -> None:
    assert check_preauth(facts(preauth=Observed.failed("no session"))).status is Status.ERROR


def test_check_directory_returns_stable_ids_in_order() -> None:
    ids = [r.id for r in check_directory(facts(), None)]
    assert ids == [
        "directory.functional_level.forest",
        "directory.functional_level.domain",
        "directory.vlv.setting",
        "directory.vlv.search",
        "directory.cn_index",
        "directory.preauth",
    ]


# --- pure helpers ----------------------------------------------------------------------------------


def test_generalized_time_forms() -> None:
    assert parse_generalized_time("20261125141332.0Z") == datetime(2026, 11, 25, 14, 13, 32, tzinfo=UTC)
    assert parse_generalized_time("20261125141332Z") == datetime(2026, 11, 25, 14, 13, 32, tzinfo=UTC)
    assert parse_generalized_time("20261125161332.5+0200") == datetime(
        2026, 11, 25, 14, 13, 32, 500000, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        parse_generalized_time("yesterday")


def test_root_dse_values_are_typed() -> None:
    entry = Entry(
        "",
        {
            "forestFunctionality": ["10"],
            "domainFunctionality": ["7"],
            "currentTime": ["20260110120000.0Z"],
            "defaultNamingContext": ["DC=corp,DC=example"],
            "supportedControl": ["2.16.840.1.113730.3.4.9", "2.16.840.1.113730.3.4.9"],
        },
    )
    typed = root_dse_facts(entry, local_time=NOW, round_trip_s=0.1)
    assert (typed.forest_level, typed.domain_level, typed.dc_level) == (10, 7, None)
    assert typed.current_time == NOW
    assert typed.supported_controls == ("2.16.840.1.113730.3.4.9",)


def test_admin_limit_parsing() -> None:
    limits = ["MaxPageSize=1000", "MaxTempTableSize=50000"]
    assert parse_admin_limit(limits, "maxtemptablesize") == 50_000
    assert parse_admin_limit(limits, "MaxValRange") is None


def test_vlv_control_values_round_trip() -> None:
    # RFC 2891 SortKeyList for cn, and a VLV request for 10 entries from offset 1 (byOffset, count 0)
    assert encode_sort_request("cn").hex() == "300630040402636e"
    assert encode_vlv_request(before=0, after=9, offset=1).hex() == "300e020100020109a006020101020100"
    # A response seen from Samba: position 1 of 4, success, with a context id
    response = decode_vlv_response(bytes.fromhex("300f020101020104" + "0a0100" + "040401000000"))
    assert response == VlvResponse(target_position=1, content_count=4, result=0)


def test_malformed_vlv_response_is_an_ldap_error() -> None:
    with pytest.raises(LdapError, match="VLV response control"):
        decode_vlv_response(b"\x30\x03\x02\x01")
