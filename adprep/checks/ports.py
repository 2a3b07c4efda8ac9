"""Port verdicts: a probe's facts become open / closed / filtered / error, with what AD Connector
would say and what to do. Pure."""

from __future__ import annotations

from adprep import requirements as req
from adprep.model import CheckResult, FactValue, Status
from adprep.transport.tcp import TcpProbe

_TCP_VERDICT = {"open": "open", "refused": "closed", "timeout": "filtered", "error": "error"}


def port_check_id(proto: str, address: str, port: int) -> str:
    """Stable id: ``ports.<proto>.<address>.<port>``."""
    return f"ports.{proto}.{address}.{port}"


def check_tcp_port(probe: TcpProbe, *, advisory: bool = False) -> CheckResult:
    """The verdict on one TCP port. ``advisory`` ports warn instead of failing when not open."""
    verdict = _TCP_VERDICT[probe.outcome]
    service = req.port_service("tcp", probe.port)
    title = f"TCP {probe.port} ({service}) on {probe.address}: {verdict}"
    facts: dict[str, FactValue] = {
        "verdict": verdict,
        "protocol": "tcp",
        "port": probe.port,
        "service": service,
        "elapsed_ms": probe.elapsed_ms,
    }
    if probe.errno_name:
        facts["errno"] = probe.errno_name
    cid = port_check_id("tcp", probe.address, probe.port)
    if verdict == "open":
        return CheckResult(cid, Status.PASS, title, facts, target=probe.address)
    direction = f"from the AD Connector subnets to {probe.address} on TCP {probe.port} ({service})"
    if verdict == "closed":
        remedy = (
            f"Nothing listens on TCP {probe.port} at {probe.address} (connection refused): start the {service} "
            f"service on the domain controller, or check that {probe.address} is a domain controller."
        )
    elif verdict == "filtered":
        remedy = (
            f"No answer within {probe.elapsed_ms / 1000:.1f} s: a firewall or security group drops the traffic. "
            f"Allow TCP {probe.port} {direction}, and the replies back."
        )
    else:
        return CheckResult(
            cid,
            Status.ERROR,
            title,
            facts,
            remedy=f"This host could not send to {probe.address} ({probe.errno_name}): check its routes, or run "
            "adprep from a host that can reach the domain controller.",
            target=probe.address,
        )
    status = Status.WARN if advisory else Status.FAIL
    if advisory:
        remedy += " AD Connector itself does not need this port; the source document lists it."
    return CheckResult(
        cid,
        status,
        title,
        facts,
        remedy=remedy,
        adc_error=req.adc_error_for_port("tcp", probe.port, probe.address),
        target=probe.address,
    )
