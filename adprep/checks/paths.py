"""Verdicts across vantages: where the same probe differs between vantages, say what lies between. Pure.

A run from several vantages (the admin's host and AD Connector's subnets, say) gives every network
check once per vantage (ids ``<id>@<label>``). A check that passes from one vantage and not from
another proves the service answers and the path from the other vantage does not carry it: that is
a firewall or security group between that vantage and the target, which no run from one host can see.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from adprep.catalogue import check_id
from adprep.model import CheckResult, ErrorReason, FactValue, Status


def vantage_check_id(label: str, what: str) -> str:
    """``vantage.<label>.<what>``: results about a vantage itself (its relay, its subnet)."""
    return check_id(f"vantage.<label>.{what}", label=label)


def tag_result(result: CheckResult, label: str, *, suffix: bool) -> CheckResult:
    """The result as probed from vantage ``label``; with ``suffix`` its id ends in ``@label``."""
    return CheckResult(
        f"{result.id}@{label}" if suffix else result.id,
        result.status,
        result.title,
        result.facts,
        remedy=result.remedy,
        adc_error=result.adc_error,
        target=result.target,
        vantage=label,
        reason=result.reason,
    )


def _verdict(result: CheckResult) -> str:
    verdict = result.facts.get("verdict") or result.facts.get("outcome")
    return str(verdict) if isinstance(verdict, str) else result.status.value


def _meaning(result: CheckResult, label: str, target: str, good: str) -> str:
    """What a failure from ``label`` means when ``good`` vantages see the check pass."""
    verdict = _verdict(result)
    if verdict in ("filtered", "open|filtered", "timeout", "no_response"):
        if result.category == "radius":
            return (
                f"{label}'s address is not a registered RADIUS client of {target}, or a firewall or security "
                f"group between {label} and {target} drops the traffic"
            )
        return f"a firewall or security group between {label} and {target} drops it"
    if verdict in ("closed", "refused"):
        return (
            f"something between {label} and {target} rejects it (a firewall that answers with a reset or "
            f"ICMP unreachable), since the service answers from {good}"
        )
    if verdict == "error":
        return f"{label} has no usable route to {target}"
    return f"{label} does not see what {good} sees: compare the two results"


def _who(label: str, sources: Mapping[str, Mapping[str, str]], target: str | None) -> str:
    source = sources.get(label, {}).get(target or "")
    return f"{label} (source {source})" if source else label


def check_paths(
    results: Sequence[CheckResult], labels: Sequence[str], sources: Mapping[str, Mapping[str, str]]
) -> list[CheckResult]:
    """One ``paths.<id>`` result per network check whose verdict differs between vantages, and a summary.

    ``labels``: the vantages whose probes ran, in the order given; ``sources``: per vantage, the
    source address it used per target.
    """
    groups: dict[str, dict[str, CheckResult]] = {}
    for r in results:
        # Results about one target; summaries across targets (radius.client_registration) are not paths.
        if r.vantage is not None and r.vantage in labels and r.target is not None:
            groups.setdefault(r.base_id, {})[r.vantage] = r
    out: list[CheckResult] = []
    for base, by_label in groups.items():
        if len(by_label) < 2 or len({r.status for r in by_label.values()}) < 2:
            continue
        ordered = [(label, by_label[label]) for label in labels if label in by_label]
        good = [label for label, r in ordered if r.status is Status.PASS]
        bad = [(label, r) for label, r in ordered if r.status in (Status.FAIL, Status.WARN, Status.ERROR)]
        if not good or not bad:
            continue
        sample = ordered[0][1]
        target = sample.target or "the target"
        seen = ", ".join(f"{_verdict(r)} from {_who(label, sources, r.target)}" for label, r in ordered)
        what = _subject(sample)
        meanings = "; ".join(_meaning(r, label, target, " and ".join(good)) for label, r in bad)
        worst = max((r for _, r in bad), key=lambda r: r.status.rank)
        facts: dict[str, FactValue] = {
            "check": base,
            "verdicts": {label: _verdict(r) for label, r in ordered},
            "statuses": {label: r.status.value for label, r in ordered},
            "differs_from": [label for label, _ in bad],
        }
        out.append(
            CheckResult(
                f"paths.{base}",
                worst.status,
                f"{what}: {seen}: {meanings}",
                facts,
                remedy=worst.remedy,
                adc_error=worst.adc_error,
                target=sample.target,
                reason=worst.reason,
            )
        )
    compared = sum(1 for g in groups.values() if len(g) > 1)
    if len(labels) > 1:
        facts_: dict[str, FactValue] = {
            "vantages": list(labels),
            "checks_compared": compared,
            "differences": len(out),
        }
        if out:
            status = Status.FAIL if any(r.status is Status.FAIL for r in out) else Status.WARN
            title = f"{len(out)} of {compared} network checks differ between {', '.join(labels)}: see paths.*"
        else:
            status, title = (
                Status.PASS,
                f"{compared} network checks give the same verdict from {', '.join(labels)}",
            )
        out.insert(0, CheckResult("paths.summary", status, title, facts_))
    return out


def _subject(result: CheckResult) -> str:
    """A short name for the check, e.g. ``TCP 389 to 10.0.0.10``."""
    proto, port = result.facts.get("protocol"), result.facts.get("port")
    if result.category == "radius" and isinstance(port, int) and result.target:
        return f"RADIUS (UDP {port}) to {result.target}"
    if isinstance(proto, str) and isinstance(port, int) and result.target:
        return f"{proto.upper()} {port} to {result.target}"
    return result.base_id


def check_subnet(
    label: str, subnet: ipaddress.IPv4Network | ipaddress.IPv6Network, sources: Mapping[str, str]
) -> CheckResult:
    """Did the relay's probes leave from an address inside the AD Connector subnet it stands in?"""
    cid = vantage_check_id(label, "subnet")
    used = sorted(set(sources.values()))
    facts: dict[str, FactValue] = {"subnet": str(subnet), "source_addresses": dict(sources)}
    if not used:
        return CheckResult(cid, Status.ERROR, f"{label}: no source address was seen, so its subnet is unproven",
                           facts, remedy="Check the vantage's other results: its probes did not run.",
                           reason=ErrorReason.UNREACHABLE)  # fmt: skip
    outside = [a for a in used if ipaddress.ip_address(a) not in subnet]
    if outside:
        return CheckResult(
            cid,
            Status.ERROR,
            f"{label}'s probes left from {', '.join(outside)}, outside {subnet}: this run did not prove that "
            "subnet's path",
            facts,
            remedy=f"Run the relay on an instance inside {subnet} (one of AD Connector's subnets), or correct "
            "the vantage's subnet.",
            # The subnet's path could not be reached through this vantage: the run could not test it.
            reason=ErrorReason.UNREACHABLE,
        )
    return CheckResult(
        cid, Status.PASS, f"{label}'s probes left from {', '.join(used)}, inside {subnet}", facts
    )
