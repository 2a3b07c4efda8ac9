"""Port verdicts: a probe's facts become open / closed / filtered / error, with what AD Connector
would say and what to do. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from adprep import requirements as req
from adprep.catalogue import check_id
from adprep.errors import reason_for_errno
from adprep.facts.ports import RpcFact, TcpProbe
from adprep.model import CheckResult, ErrorReason, FactValue, Status

if TYPE_CHECKING:  # a TCP-only sweep never loads the exchanges' records
    from adprep.facts.exchanges import IcmpEcho, UdpProbeFact

_TCP_VERDICT = {"open": "open", "refused": "closed", "timeout": "filtered", "error": "error"}


def port_check_id(proto: str, address: str, port: int) -> str:
    """Stable id: ``ports.<proto>.<address>.<port>``."""
    return check_id(f"ports.{proto}.<address>.<port>", address=address, port=port)


def _epm_reason(error: str | None) -> ErrorReason:
    """Why the endpoint mapper gave no port: it was not asked in time, or not reached."""
    return ErrorReason.TIMEOUT if "timed out" in (error or "").lower() else ErrorReason.UNREACHABLE


def _errno_in(detail: str | None) -> str | None:
    """The ``E…`` errno name a probe's detail names (``EPERM: Operation not permitted``), if any."""
    word = (detail or "").split(":", 1)[0].strip()
    return word if word.startswith("E") and word.isupper() else None


def _advisory_note(source: str | None) -> str:
    listed = f"{source} lists it" if source else "the port profile lists it"
    return f" AD Connector itself does not need this port; {listed}."


def check_tcp_port(probe: TcpProbe, *, advisory: bool = False, source: str | None = None) -> CheckResult:
    """The verdict on one TCP port. ``advisory`` ports warn instead of failing when not open;
    ``source`` names the list that asks for them."""
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
            reason=reason_for_errno(probe.errno_name),
        )
    status = Status.WARN if advisory else Status.FAIL
    if advisory:
        remedy += _advisory_note(source)
    return CheckResult(
        cid,
        status,
        title,
        facts,
        remedy=remedy,
        adc_error=req.adc_error_for_port("tcp", probe.port, probe.address),
        target=probe.address,
    )


def check_udp_port(fact: UdpProbeFact, *, advisory: bool = False, source: str | None = None) -> CheckResult:
    """The verdict on one UDP port: open only when the service answered its protocol's request."""
    port, address = fact.port, fact.address
    service = req.port_service("udp", port)
    cid = port_check_id("udp", address, port)
    facts: dict[str, FactValue] = {"protocol": "udp", "port": port, "service": service}
    if fact.exchange is None:
        why = req.UNVERIFIABLE_UDP.get(
            port, f"adprep has no protocol probe for UDP {port}, so it cannot prove it open."
        )
        facts["verdict"] = "unverifiable"
        return CheckResult(cid, Status.SKIP, f"UDP {port} ({service}) on {address}: unverifiable", facts,
                           remedy=why, target=address)  # fmt: skip
    ex = fact.exchange
    facts.update(elapsed_ms=ex.elapsed_ms, attempts=ex.attempts)
    if ex.errno_name:
        facts["errno"] = ex.errno_name
    direction = f"from the AD Connector subnets to {address} on UDP {port} ({service})"
    adc = req.adc_error_for_port("udp", port, address)
    if ex.outcome == "reply" and fact.answer is not None:
        answer = fact.answer
        facts.update({k: v for k, v in answer.facts.items()})
        if answer.recognised:
            facts["verdict"] = "open"
            return CheckResult(cid, Status.PASS, f"UDP {port} ({service}) on {address}: open: {answer.summary}", facts,
                               target=address)  # fmt: skip
        facts["verdict"] = "unexpected"
        return CheckResult(
            cid,
            Status.WARN,
            f"UDP {port} on {address}: {answer.summary}",
            facts,
            remedy=f"Something other than {service} answers on UDP {port} at {address}: check that {address} is a "
            "domain controller and that no proxy or middlebox answers in its place.",
            target=address,
        )
    status = Status.WARN if advisory else Status.FAIL
    if ex.outcome == "refused":
        facts["verdict"] = "closed"
        remedy = f"{address} answered ICMP port unreachable for UDP {port}: nothing serves {service} there."
    elif ex.outcome == "silent":
        facts["verdict"] = "open|filtered"
        remedy = (
            f"No answer to {ex.attempts} {service} request(s) within {ex.elapsed_ms / 1000:.1f} s: a firewall drops the "
            f"traffic, or nothing serves it. Allow UDP {port} {direction}, and the replies back."
        )
    else:
        facts["verdict"] = "error"
        return CheckResult(cid, Status.ERROR, f"UDP {port} ({service}) on {address}: error ({ex.errno_name})", facts,
                           remedy=f"This host could not send to {address} ({ex.errno_name}).", target=address,
                           reason=reason_for_errno(ex.errno_name))  # fmt: skip
    if advisory:
        remedy += _advisory_note(source)
        adc = None
    title = f"UDP {port} ({service}) on {address}: {facts['verdict']}"
    return CheckResult(cid, status, title, facts, remedy=remedy, adc_error=adc, target=address)


def check_rpc_interface(fact: RpcFact) -> CheckResult:
    """An RPC interface's endpoint: registered with the endpoint mapper, and its TCP port open."""
    m = fact.mapping
    cid = check_id("ports.rpc.<address>.<interface>", address=fact.address, interface=m.interface.lower())
    facts: dict[str, FactValue] = {"interface": m.interface, "uuid": m.uuid, "port": m.port}
    if m.port is None:
        status = Status.WARN if m.error == "not registered" else Status.ERROR
        return CheckResult(cid, status, f"RPC {m.interface} on {fact.address}: {m.error}", facts,
                           remedy="The endpoint mapper did not give a TCP port for this interface; WorkSpaces domain "
                           "join and logon use it.", target=fact.address,
                           reason=_epm_reason(m.error) if status is Status.ERROR else None)  # fmt: skip
    assert fact.probe is not None
    verdict = _TCP_VERDICT[fact.probe.outcome]
    facts.update(verdict=verdict, elapsed_ms=fact.probe.elapsed_ms)
    title = f"RPC {m.interface} on {fact.address}: TCP {m.port} {verdict}"
    if verdict == "open":
        return CheckResult(cid, Status.PASS, title, facts, target=fact.address)
    return CheckResult(
        cid,
        Status.FAIL,
        title,
        facts,
        remedy=f"The endpoint mapper sends clients to TCP {m.port} for {m.interface}, and it is {verdict}: allow the "
        f"dynamic RPC range (1024-65535, or the range the DCs are restricted to) from the WorkSpaces subnets to "
        f"{fact.address}.",
        target=fact.address,
    )


def check_icmp_echo(echo: IcmpEcho) -> CheckResult:
    """``ports.icmp.<address>``: does the DC answer an ICMP echo? WorkSpaces' security group allows ICMP
    to the directory controllers (Amazon WorkSpaces Administration Guide (2016), WorkSpaces Security Group).

    Unanswered echoes warn rather than fail: no AD Connector or WorkSpaces error is documented for
    them, and many DCs' host firewalls drop echo requests on purpose.
    """
    address = echo.address
    cid = check_id("ports.icmp.<address>", address=address)
    facts: dict[str, FactValue] = {"protocol": "icmp", "outcome": echo.outcome, "attempts": echo.attempts,
                                   "elapsed_ms": echo.elapsed_ms}  # fmt: skip
    if echo.socket_kind:
        facts["socket"] = echo.socket_kind
    if echo.detail:
        facts["detail"] = echo.detail
    if echo.outcome == "reply":
        facts["verdict"] = "open"
        return CheckResult(cid, Status.PASS, f"ICMP echo to {address}: answered", facts, target=address)
    if echo.outcome in ("not_allowed", "not_carried"):
        facts["verdict"] = "untested"
        why = "this host may not send ICMP" if echo.outcome == "not_allowed" else "the relay cannot send ICMP"
        remedy = (
            f"Not tested: {echo.detail}. Run adprep as root, or add its group to net.ipv4.ping_group_range "
            "(sysctl), to test ICMP."
            if echo.outcome == "not_allowed"
            else f"Not tested: {echo.detail} (its protocol opens only TCP and UDP sockets). Test ICMP from that "
            "subnet with ping, or run adprep itself there."
        )
        return CheckResult(cid, Status.SKIP, f"ICMP echo to {address}: not tested ({why})", facts,
                           remedy=remedy, target=address)  # fmt: skip
    if echo.outcome == "error":
        facts["verdict"] = "error"
        return CheckResult(cid, Status.ERROR, f"ICMP echo to {address}: could not send ({echo.detail})", facts,
                           remedy=f"This host could not send an ICMP echo to {address} ({echo.detail}).",
                           target=address, reason=reason_for_errno(_errno_in(echo.detail)))  # fmt: skip
    if echo.outcome == "unreachable":
        facts["verdict"] = "closed"
        title = f"ICMP echo to {address}: {echo.detail}"
    else:
        facts["verdict"] = "filtered"
        title = f"ICMP echo to {address}: no reply to {echo.attempts} echo request(s)"
    return CheckResult(
        cid,
        Status.WARN,
        title,
        facts,
        remedy=f"WorkSpaces' security group allows ICMP to the directory controllers: allow ICMP echo from the "
        f"WorkSpaces subnets to {address} (and its replies back), or accept that ping cannot reach this DC.",
        target=address,
    )


def check_port_scope(ran: req.PortProfile | None, *, tcp: tuple[int, ...] = (), udp: tuple[int, ...] = (),
                     rpc: bool = True, icmp: bool = False) -> CheckResult:  # fmt: skip
    """``ports.scope``: which port list ran, and what it left untested of WorkSpaces' whole list.

    ``ran`` is the profile (None for hand-picked ports, given as ``tcp``/``udp``/``icmp``). Dynamic
    RPC counts as tested when TCP 135 was (the endpoint mapper's ports are tested) and ``rpc`` is on.
    """
    full = req.PORT_PROFILES[req.WORKSPACES_PROFILE]
    tcp_ran, udp_ran = set(ran.tcp if ran else tcp), set(ran.udp if ran else udp)
    icmp_ran = ran.icmp if ran else icmp
    missing_tcp = [p for p in full.tcp if p not in tcp_ran]
    missing_udp = [p for p in full.udp if p not in udp_ran]
    untested = [f"TCP {p}" for p in missing_tcp] + [f"UDP {p}" for p in missing_udp]
    if not (135 in tcp_ran and rpc):
        untested.append("dynamic RPC")
    if full.icmp and not icmp_ran:
        untested.append("ICMP echo")
    name = ran.name if ran else "custom"
    what = f"profile {name} ({ran.purpose})" if ran else "the ports given by hand"
    facts: dict[str, FactValue] = {
        "profile": name,
        "source": ran.source if ran else None,
        "tcp": sorted(tcp_ran),
        "udp": sorted(udp_ran),
        "icmp": icmp_ran,
        "untested": untested,
        "compared_with": req.WORKSPACES_PROFILE,
    }
    if not untested:
        return CheckResult(check_id("ports.scope"), Status.PASS, f"Ports: {what}; nothing of WorkSpaces' list left untested",
                           facts)  # fmt: skip
    return CheckResult(
        check_id("ports.scope"),
        Status.SKIP,
        f"Ports: {what}; not tested of WorkSpaces' list: {', '.join(untested)}",
        facts,
        remedy=f"Run with --profile {req.WORKSPACES_PROFILE} to test everything WorkSpaces needs towards the DCs "
        "(joining computers and logging users on), not only what AD Connector needs.",
    )


def check_client_sites(udp: Iterable[UdpProbeFact], *, who: str = "This host's address") -> list[CheckResult]:
    """From each DC's CLDAP reply: does the probing address map to an AD site (``dcs.site.<dc>``)?

    AD Connector finds DCs through the site its subnets map to; without a site it may pick any DC.
    """
    out: list[CheckResult] = []
    for fact in udp:
        answer = fact.answer
        if fact.port != 389 or answer is None or not answer.recognised or "dns_host_name" not in answer.facts:
            continue
        client_site, dc_site = answer.facts.get("client_site_name"), answer.facts.get("dc_site_name")
        facts: dict[str, FactValue] = {"client_site": client_site, "dc_site": dc_site}
        source = fact.exchange.source if fact.exchange is not None else None
        if source:
            facts["client_address"] = source
        cid = check_id("dcs.site.<address>", address=fact.address)
        whose = f"{who} ({source})" if source else who
        if client_site:
            out.append(CheckResult(cid, Status.PASS, f"{whose} maps to AD site {client_site}", facts,
                                   target=fact.address))  # fmt: skip
        else:
            out.append(
                CheckResult(
                    cid,
                    Status.WARN,
                    f"{whose} maps to no AD site (DC {fact.address} is in {dc_site})",
                    facts,
                    remedy="Add the AD Connector (VPC) subnets to an AD site in Active Directory Sites and Services, "
                    "or AD Connector may pick distant DCs.",
                    target=fact.address,
                )
            )
    return out
