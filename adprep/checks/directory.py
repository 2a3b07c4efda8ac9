"""Directory verdicts: functional levels, clock skew, VLV, the CN index for large directories and
accounts without Kerberos pre-authentication. Pure: facts in, :class:`CheckResult` out.

A fact that could not be read gives ``error`` with the reason, never a pass or a fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from adprep import requirements as req
from adprep.ad.functional_level import describe_level, meets_minimum
from adprep.catalogue import check_id
from adprep.facts.account import VlvProbe
from adprep.facts.directory import (
    DEFAULT_MAX_TEMP_TABLE_SIZE,
    DirectoryFacts,
    Observed,
    PreauthUsers,
    RootDse,
)
from adprep.model import CheckResult, ErrorReason, FactValue, Status

_LEVEL_ATTRIBUTE = {"forest": "forestFunctionality", "domain": "domainFunctionality"}


def _error(cid: str, title: str, observed: Observed[Any], target: str, why: str | None = None) -> CheckResult:
    """An ``error`` result for a fact that could not be read (``why`` overrides its sentence)."""
    reason = why or observed.error
    return CheckResult(
        cid,
        Status.ERROR,
        title,
        {"reason": reason or "not read"},
        remedy=f"{reason or 'The fact could not be read.'} Fix that and run the check again.",
        target=target,
        reason=observed.error_reason or ErrorReason.UNREACHABLE,
    )


def check_functional_level(kind: Literal["forest", "domain"], facts: DirectoryFacts) -> CheckResult:
    """MS-ADTS 6.1.4.4: forest / domain functional level must be Windows Server 2003 (2) or higher."""
    cid = check_id(f"directory.functional_level.{kind}")
    dse = facts.root_dse.value
    level = None if dse is None else (dse.forest_level if kind == "forest" else dse.domain_level)
    if level is None:
        if facts.root_dse.error is None:  # read, but without the attribute
            return _error(cid, f"{kind.capitalize()} functional level: not known",
                          Observed.failed("", ErrorReason.MALFORMED), facts.address,
                          f"The rootDSE of {facts.address} has no {_LEVEL_ATTRIBUTE[kind]}.")  # fmt: skip
        return _error(cid, f"{kind.capitalize()} functional level: not known", facts.root_dse, facts.address)
    described = describe_level(level)
    fact_map: dict[str, FactValue] = {
        "level": level,
        "name": req.FUNCTIONAL_LEVELS.get(level),
        "described": described,
        "minimum": req.MIN_FUNCTIONAL_LEVEL,
        "attribute": _LEVEL_ATTRIBUTE[kind],
    }
    if meets_minimum(level):
        return CheckResult(cid, Status.PASS, f"{kind.capitalize()} functional level: {described}", fact_map,
                           target=facts.address)  # fmt: skip
    minimum = describe_level(req.MIN_FUNCTIONAL_LEVEL)
    return CheckResult(
        cid,
        Status.FAIL,
        f"{kind.capitalize()} functional level {described} is below {minimum}",
        fact_map,
        remedy=(
            f"AD Connector needs the {kind} functional level at {minimum} or higher. Raise it (Active "
            f"Directory Domains and Trusts, or Set-AD{kind.capitalize()}Mode) after retiring older domain "
            "controllers; raising a level cannot be undone."
        ),
        target=facts.address,
    )


def check_time_skew(dc_address: str, facts: DirectoryFacts | Observed[RootDse]) -> CheckResult:
    """The DC's ``currentTime`` against this host's clock: Kerberos fails past 5 minutes."""
    cid = check_id("directory.time_skew.<address>", address=dc_address)
    dse_o = facts.root_dse if isinstance(facts, DirectoryFacts) else facts
    dse = dse_o.value
    if dse is None or dse.current_time is None:
        if dse_o.error is None:  # read, but without a readable currentTime
            return _error(cid, f"Clock of {dc_address}: not known", Observed.failed("", ErrorReason.MALFORMED),
                          dc_address, f"The rootDSE of {dc_address} has no readable currentTime.")  # fmt: skip
        return _error(cid, f"Clock of {dc_address}: not known", dse_o, dc_address)
    skew = (dse.current_time - dse.local_time).total_seconds()
    magnitude = abs(skew)
    fact_map: dict[str, FactValue] = {
        "dc_time": dse.current_time.isoformat(),
        "local_time": dse.local_time.isoformat(),
        "skew_s": round(skew, 1),
        "uncertainty_s": round(1.0 + dse.round_trip_s / 2, 2),
        "fail_above_s": req.MAX_TIME_SKEW_S,
        "warn_above_s": req.WARN_TIME_SKEW_S,
    }
    # currentTime has whole seconds: a skew within the uncertainty is "in step", not "1 s behind".
    uncertainty = 1.0 + dse.round_trip_s / 2
    ahead = "ahead of" if skew > 0 else "behind"
    if magnitude <= uncertainty:
        title = f"Clock of {dc_address}: in step with this host (within {uncertainty:.0f} s)"
    else:
        title = f"Clock of {dc_address}: {magnitude:.0f} s {ahead} this host"
    if magnitude <= req.WARN_TIME_SKEW_S:
        return CheckResult(cid, Status.PASS, title, fact_map, target=dc_address)
    remedy = (
        f"Synchronise the domain controller {dc_address} and this host with the same time source (the "
        "PDC emulator syncs from an external NTP source; members follow the domain hierarchy). "
        "If only this host is off, fix its NTP client: the skew measured from here is what matters "
        "for AD Connector only if this host keeps correct time."
    )
    if magnitude <= req.MAX_TIME_SKEW_S:
        return CheckResult(cid, Status.WARN, title + " (Kerberos tolerates up to 5 minutes)", fact_map,
                           remedy=remedy, target=dc_address)  # fmt: skip
    return CheckResult(
        cid,
        Status.FAIL,
        title + ": beyond Kerberos' 5-minute limit",
        fact_map,
        remedy=remedy,
        adc_error=req.ADC_SERVICE_ACCOUNT,
        target=dc_address,
    )


def vlv_disabled_by(settings: Sequence[str]) -> str | None:
    """The ``DisableVLVSupport=<non-zero>`` entry of ``msDS-Other-Settings``, if any (MS-ADTS 3.1.1.3.4.7)."""
    for value in settings:
        key, sep, raw = value.partition("=")
        if sep and key.strip().lower() == "disablevlvsupport" and raw.strip() not in ("", "0"):
            return value
    return None


def check_vlv_setting(facts: DirectoryFacts) -> CheckResult:
    """Whether ``msDS-Other-Settings`` disables VLV (DisableVLVSupport), which AD Connector's searches need."""
    cid = check_id("directory.vlv.setting")
    other = facts.other_settings
    if other.value is None:
        return _error(cid, "VLV setting (msDS-Other-Settings): not known", other, facts.address)
    culprit = vlv_disabled_by(other.value)
    fact_map: dict[str, FactValue] = {"msDS-Other-Settings": list(other.value)}
    if culprit is None:
        return CheckResult(cid, Status.PASS, "VLV is not disabled in msDS-Other-Settings", fact_map,
                           target=facts.address)  # fmt: skip
    return CheckResult(
        cid,
        Status.FAIL,
        f"VLV is disabled forest-wide ({culprit} in msDS-Other-Settings)",
        fact_map,
        remedy=(
            "AD Connector pages through users with VLV searches. Remove DisableVLVSupport (or set it to 0) on "
            "CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,<forest root>, e.g. with ADSI Edit "
            "or ntdsutil, and let it replicate."
        ),
        adc_error=req.ADC_SERVICE_ACCOUNT,
        target=facts.address,
    )


def check_vlv_search(dc_address: str, probe: Observed[VlvProbe] | None) -> CheckResult:
    """A real VLV search as the service account: a VLV response control with result 0 means it works."""
    cid = check_id("directory.vlv.search")
    if probe is None:
        return CheckResult(cid, Status.SKIP, "VLV search: not tried (the service account did not bind)",
                           target=dc_address)  # fmt: skip
    if probe.value is None:
        return _error(cid, "VLV search: could not run", probe, dc_address)
    p = probe.value
    fact_map: dict[str, FactValue] = {"entries": p.entries, "code": p.code}
    if p.response is not None:
        fact_map.update(content_count=p.response.content_count, vlv_result=p.response.result)
    if p.code is None and p.response is not None and p.response.result == 0:
        return CheckResult(
            cid,
            Status.PASS,
            f"VLV search works as the service account ({p.response.content_count} users in the sorted view)",
            fact_map,
            target=dc_address,
        )
    if p.code is not None:
        why = f"the DC refused it: {p.sentence or f'LDAP result {p.code}'}"
    elif p.response is None:
        why = "the DC answered without a VLV response control"
    else:
        why = f"the VLV response carried result {p.response.result}"
    return CheckResult(
        cid,
        Status.FAIL,
        f"VLV search as the service account failed: {why}",
        fact_map,
        remedy=(
            "Check msDS-Other-Settings (DisableVLVSupport), the DC's LDAP policies (MaxTempTableSize) and, "
            "on large directories, a subtree index on CN."
        ),
        adc_error=req.ADC_SERVICE_ACCOUNT,
        target=dc_address,
    )


def check_cn_index(facts: DirectoryFacts) -> CheckResult:
    """Above 100,000 users, VLV sorted on CN needs CN's subtree index (searchFlags 0x40) or a larger
    MaxTempTableSize (MS-ADTS 2.2.9 searchFlags fSUBTREEATTINDEX; 3.1.1.3.4.6 LDAP policies)."""
    cid = check_id("directory.cn_index")
    count = facts.user_count
    if count.value is None:
        return _error(cid, "CN index for large directories: user count not known", count, facts.address)
    n = count.value
    shown = f"more than {req.VLV_LARGE_DIRECTORY_USERS:,}" if n.capped else f"{n.counted:,}"
    fact_map: dict[str, FactValue] = {"users": n.counted, "count_capped": n.capped,
                                      "threshold": req.VLV_LARGE_DIRECTORY_USERS}  # fmt: skip
    if n.counted <= req.VLV_LARGE_DIRECTORY_USERS and not n.capped:
        return CheckResult(cid, Status.PASS, f"{shown} users: no CN subtree index needed", fact_map,
                           target=facts.address)  # fmt: skip
    flags = facts.cn_search_flags
    if flags.value is None:
        return _error(cid, f"{shown} users: CN's searchFlags not known", flags, facts.address)
    fact_map["cn_search_flags"] = flags.value
    if flags.value & req.SEARCH_FLAG_SUBTREE_INDEX:
        return CheckResult(cid, Status.PASS, f"{shown} users, and CN has a subtree index", fact_map,
                           target=facts.address)  # fmt: skip
    remedy = (
        "Set the subtree-index bit (0x40) in searchFlags of CN=Common-Name in the schema (Schema Admins), "
        "or raise MaxTempTableSize in the default query policy (ntdsutil, LDAP policies)."
    )
    temp = facts.max_temp_table_size.value
    fact_map["max_temp_table_size"] = temp
    if temp is not None and temp > DEFAULT_MAX_TEMP_TABLE_SIZE:
        return CheckResult(
            cid,
            Status.WARN,
            f"{shown} users, no CN subtree index, MaxTempTableSize raised to {temp:,}",
            fact_map,
            remedy=remedy,
            target=facts.address,
        )
    return CheckResult(
        cid,
        Status.FAIL,
        f"{shown} users and no CN subtree index: AD Connector's VLV searches will fail",
        fact_map,
        remedy=remedy,
        adc_error=req.ADC_SERVICE_ACCOUNT,
        target=facts.address,
    )


def check_preauth(facts: DirectoryFacts) -> CheckResult:
    """Accounts with DONT_REQ_PREAUTH (MS-ADTS 2.2.16): listed, as a warning."""
    return check_preauth_users(facts.address, facts.preauth)


def check_preauth_users(address: str, found: Observed[PreauthUsers]) -> CheckResult:
    """:func:`check_preauth` from the accounts alone (as ``adprep fix`` reads them again)."""
    cid = check_id("directory.preauth")
    if found.value is None:
        return _error(cid, "Kerberos pre-authentication: not known", found, address)
    p = found.value
    fact_map: dict[str, FactValue] = {"accounts": list(p.names), "total": p.total}
    if p.total == 0:
        return CheckResult(cid, Status.PASS, "Every account requires Kerberos pre-authentication", fact_map,
                           target=address)  # fmt: skip
    more = f" and {p.total - len(p.names)} more" if p.total > len(p.names) else ""
    return CheckResult(
        cid,
        Status.WARN,
        f"{p.total} account(s) do not require Kerberos pre-authentication: {', '.join(p.names)}{more}",
        fact_map,
        remedy=(
            "Clear 'Do not require Kerberos preauthentication' on these accounts (userAccountControl bit "
            "0x400000): such accounts cannot sign in to WorkSpaces through AD Connector, and anyone can "
            "request crackable data for them (AS-REP roasting)."
        ),
        target=address,
    )


def check_directory(facts: DirectoryFacts, vlv: Observed[VlvProbe] | None) -> list[CheckResult]:
    """Every directory verdict for one DC except the time skew (see :func:`check_time_skew`)."""
    return [
        check_functional_level("forest", facts),
        check_functional_level("domain", facts),
        check_vlv_setting(facts),
        check_vlv_search(facts.address, vlv),
        check_cn_index(facts),
        check_preauth(facts),
    ]
