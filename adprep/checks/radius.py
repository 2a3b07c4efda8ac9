"""RADIUS MFA verdicts (pure): AD Connector's MFA settings against the ds API's limits, and what
each server's reply to the probe means.

Check ids: ``radius.settings.<field>``, ``radius.worst_case_wait``, ``radius.probe.<server>``,
``radius.message_authenticator.<server>``, ``radius.client_registration``.
"""

from __future__ import annotations

import ipaddress
import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from adprep import requirements as req
from adprep.catalogue import check_id
from adprep.errors import reason_for_errno
from adprep.facts.radius import RadiusProbe
from adprep.model import CheckResult, ErrorReason, FactValue, Status
from adprep.secret import Secret

_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_SIGNED = ("accept", "reject", "challenge")
#: What the ds API says a protocol is called, keyed by a forgiving spelling.
_PROTOCOL_SPELLINGS = {p.replace("-", "").lower(): p for p in req.RADIUS_PROTOCOLS}


@dataclass(frozen=True)
class MfaSettings:
    """The RADIUS settings a person is about to enter for the directory (ds API RadiusSettings)."""

    servers: tuple[str, ...]
    port: int
    protocol: str
    timeout: float
    retries: int
    secret: Secret | None
    """None when only the other settings are validated (``--no-probe`` without a secret)."""

    @property
    def worst_case_per_server_s(self) -> float:
        """RADIUS timeout × (retries + 1): how long one silent server holds a login."""
        return self.timeout * (self.retries + 1)


def normalise_protocol(text: str) -> str:
    """``mschapv2`` → ``MS-CHAPv2``; unknown names come back unchanged (the check fails them)."""
    return _PROTOCOL_SPELLINGS.get(text.strip().replace("-", "").lower(), text.strip())


def server_problem(server: str) -> str | None:
    """Why ``server`` is not an IP address or DNS name AD Connector accepts, or None."""
    if not 1 <= len(server) <= req.RADIUS_SERVER_MAX_LEN:
        return f"is {len(server)} characters long; the limit is {req.RADIUS_SERVER_MAX_LEN}"
    try:
        ipaddress.ip_address(server)
        return None
    except ValueError:
        pass
    labels = server.rstrip(".").split(".")
    if all(label.isdigit() for label in labels):
        return "looks like an IPv4 address but is not a valid one"
    bad = next((label for label in labels if not _LABEL.match(label)), None)
    if bad is not None:
        return (
            f"is neither an IP address nor a DNS name (the label {bad!r} must be 1-63 letters, digits or "
            "hyphens, not starting or ending with a hyphen)"
        )
    return None


def _id(name: str) -> str:
    return check_id(f"radius.settings.{name}")


def check_servers(servers: Sequence[str]) -> CheckResult:
    """ds API: 1+ servers, each an IP address or FQDN of 1-256 characters."""
    problems = {s: p for s in servers if (p := server_problem(s)) is not None}
    duplicates = sorted({s for s in servers if servers.count(s) > 1})
    facts: dict[str, FactValue] = {"servers": list(servers), "count": len(servers)}
    if not servers:
        return CheckResult(
            _id("servers"),
            Status.FAIL,
            "No RADIUS server given",
            facts,
            remedy="AD Connector needs at least one RADIUS server (IP address or FQDN).",
        )
    if problems:
        facts["problems"] = dict(problems)
        first, why = next(iter(problems.items()))
        return CheckResult(
            _id("servers"),
            Status.FAIL,
            f"RADIUS server {first!r} {why}",
            facts,
            remedy="Give each RADIUS server as an IP address or a fully qualified DNS name of 1-256 characters.",
        )
    if duplicates:
        facts["duplicates"] = list(duplicates)
        return CheckResult(
            _id("servers"),
            Status.WARN,
            f"RADIUS server {duplicates[0]} is listed more than once",
            facts,
            remedy="List each server once; AD Connector tries them in turn.",
        )
    return CheckResult(_id("servers"), Status.PASS, f"{len(servers)} RADIUS server(s), each valid", facts)


def check_port(port: int) -> CheckResult:
    """The RADIUS port against AD Connector's allowed range."""
    facts: dict[str, FactValue] = {"port": port}
    if req.RADIUS_PORT_MIN <= port <= req.RADIUS_PORT_MAX:
        return CheckResult(_id("port"), Status.PASS, f"RADIUS port {port} is allowed", facts)
    return CheckResult(
        _id("port"),
        Status.FAIL,
        f"RADIUS port {port} is outside {req.RADIUS_PORT_MIN}-{req.RADIUS_PORT_MAX}, which AD Connector requires",
        facts,
        remedy=f"Run the RADIUS server on a port from {req.RADIUS_PORT_MIN} to {req.RADIUS_PORT_MAX} "
        f"(usually {req.RADIUS_PORT_DEFAULT}).",
    )


def check_protocol(protocol: str) -> CheckResult:
    """The authentication protocol against those AD Connector supports."""
    facts: dict[str, FactValue] = {"protocol": protocol}
    if protocol in req.RADIUS_PROTOCOLS:
        return CheckResult(_id("protocol"), Status.PASS, f"Protocol {protocol} is supported", facts)
    names = ", ".join(req.RADIUS_PROTOCOLS)
    return CheckResult(
        _id("protocol"),
        Status.FAIL,
        f"Protocol {protocol!r} is not one AD Connector supports ({names})",
        facts,
        remedy=f"Choose one of {names}, and enable the same one on the RADIUS server.",
    )


def check_timeout(timeout: float) -> CheckResult:
    """The timeout against AD Connector's range (whole seconds); above the fail-over limit, a warning."""
    facts: dict[str, FactValue] = {"timeout_s": timeout}
    lo, hi, failover = req.RADIUS_TIMEOUT_MIN, req.RADIUS_TIMEOUT_MAX, req.RADIUS_TIMEOUT_FAILOVER_MAX
    if not (lo <= timeout <= hi and float(timeout).is_integer()):
        return CheckResult(
            _id("timeout"),
            Status.FAIL,
            f"RADIUS timeout {timeout:g} s is not a whole number of seconds from {lo} to {hi}, as AD Connector requires",
            facts,
            remedy=f"Give a timeout of {lo} to {failover} seconds.",
        )
    if timeout > failover:
        return CheckResult(
            _id("timeout"),
            Status.WARN,
            f"RADIUS timeout {timeout:g} s is above {failover} s: AD Connector will not fail over to another "
            "RADIUS server",
            facts,
            remedy=f"Use {failover} s or less if you list several servers for failover.",
        )
    return CheckResult(_id("timeout"), Status.PASS, f"RADIUS timeout {timeout:g} s is allowed", facts)


def check_retries(retries: int) -> CheckResult:
    """The retry count against AD Connector's range."""
    facts: dict[str, FactValue] = {"retries": retries}
    lo, hi = req.RADIUS_RETRIES_MIN, req.RADIUS_RETRIES_MAX
    if lo <= retries <= hi:
        return CheckResult(_id("retries"), Status.PASS, f"{retries} RADIUS retries is allowed", facts)
    return CheckResult(
        _id("retries"),
        Status.FAIL,
        f"{retries} RADIUS retries is outside {lo}-{hi}, which AD Connector requires",
        facts,
        remedy=f"Give {lo} to {hi} retries.",
    )


def secret_problem(value: str) -> str | None:
    """Why a shared secret breaks the ds API's rule, without showing any of its characters."""
    lo, hi = req.RADIUS_SECRET_MIN, req.RADIUS_SECRET_MAX
    if not lo <= len(value) <= hi:
        return f"is {len(value)} characters long; AD Connector requires {lo} to {hi}"
    bad = [i + 1 for i, c in enumerate(value) if not _secret_char_ok(c)]
    if bad:
        where = ", ".join(str(p) for p in bad[:5]) + ("…" if len(bad) > 5 else "")
        return (
            f"has {len(bad)} character(s) outside Unicode letters and digits, ASCII punctuation and space "
            f"(at position {where})"
        )
    return None


def _secret_char_ok(c: str) -> bool:
    # ds API pattern ^(\p{LD}|\p{Punct}| )+$: letters, decimal digits, ASCII punctuation, space.
    category = unicodedata.category(c)
    return category.startswith("L") or category == "Nd" or c in string.punctuation or c == " "


def check_secret(secret: Secret | None) -> CheckResult:
    """The shared secret against AD Connector's rules (length, characters); none given: skip."""
    if secret is None:
        return CheckResult(
            _id("secret"), Status.SKIP, "No shared secret given: not validated", {"reason": "no secret"}
        )
    facts: dict[str, FactValue] = {"source": secret.source, "length": len(secret)}
    problem = secret_problem(secret.reveal())
    if problem is None:
        return CheckResult(_id("secret"), Status.PASS, "The shared secret is allowed", facts)
    return CheckResult(
        _id("secret"),
        Status.FAIL,
        f"The shared secret {problem}",
        facts,
        remedy="Choose a shared secret of 8-512 letters, digits, ASCII punctuation or spaces, and set it on "
        "the RADIUS server too.",
    )


def check_worst_case_wait(settings: MfaSettings) -> CheckResult:
    """A silent server holds a login for timeout × (retries + 1); servers are tried in turn."""
    per_server = settings.worst_case_per_server_s
    count = len(settings.servers)
    total = per_server * count
    return CheckResult(
        check_id("radius.worst_case_wait"),
        Status.PASS,
        f"Worst case {per_server:g} s per silent server ({settings.timeout:g} s × {settings.retries + 1} "
        f"attempt(s)), {total:g} s for {count} server(s) in turn",
        {"per_server_s": per_server, "all_servers_s": total, "servers": count},
    )


def check_settings(settings: MfaSettings) -> list[CheckResult]:
    """Every settings rule, one result each, in a stable order."""
    return [
        check_servers(settings.servers),
        check_port(settings.port),
        check_protocol(settings.protocol),
        check_timeout(settings.timeout),
        check_retries(settings.retries),
        check_secret(settings.secret),
        check_worst_case_wait(settings),
    ]


# --- Probe verdicts --------------------------------------------------------------------------------


def probe_check_id(server: str) -> str:
    """The id of the live probe's result for ``server`` (``radius.probe.<server>``)."""
    return check_id("radius.probe.<server>", server=server)


_NO_RESPONSE_CAUSES = (
    "Silence has three causes: the server is unreachable (a firewall or security group drops UDP {port} "
    "from the AD Connector subnets to it, or no RADIUS server runs there); this host ({source}) is not "
    "registered as a RADIUS client on it; or the shared secret does not match and the server drops "
    "requests whose Message-Authenticator does not verify (FreeRADIUS does, silently). The server's log "
    "names the cause."
)


def check_probe(probe: RadiusProbe) -> CheckResult:
    """What one server's reply (or silence) means for AD Connector's MFA."""
    x = probe.exchange
    where = f"{x.server}:{x.port}"
    who = f"{probe.user!r}" if probe.real_login else f"{req.RADIUS_PROBE_USER!r} (as AWS checks)"
    facts: dict[str, FactValue] = {
        "outcome": x.outcome,
        "protocol": probe.protocol,
        "user": probe.user,
        "real_login": probe.real_login,
        "address": x.address,
        "port": x.port,
        "source_address": x.source,
        "attempts": x.attempts,
        "elapsed_ms": x.elapsed_ms,
        "message_authenticator": x.message_authenticator,
    }
    if x.errno_name:
        facts["errno"] = x.errno_name
    if x.discarded:
        facts["discarded_datagrams"] = x.discarded
    if x.detail:
        facts["detail"] = x.detail
    if probe.reply_messages:
        facts["reply_messages"] = list(probe.reply_messages)
    if probe.mschap_error:
        facts["mschap_error"] = probe.mschap_error
    if probe.mschap2_server_proof is not None:
        facts["mschap2_server_proof"] = probe.mschap2_server_proof
    cid = probe_check_id(x.server)

    def result(
        status: Status, title: str, remedy: str | None = None, reason: ErrorReason | None = None
    ) -> CheckResult:
        return CheckResult(cid, status, title, facts, remedy=remedy, target=x.server, reason=reason)

    said = f" (server said: {'; '.join(probe.reply_messages)})" if probe.reply_messages else ""
    if x.outcome == "reject":
        if not probe.real_login:
            return result(
                Status.PASS,
                f"{where} answered {who} in {probe.protocol} with a signed Access-Reject: reachable, and the "
                "shared secret matches",
            )
        return result(
            Status.FAIL,
            f"{where} rejected {who} in {probe.protocol}{said}",
            "The server is reachable and the secret matches, but the login failed: check the user's password "
            f"and that the server allows {probe.protocol} for this user (AD Connector sends only the "
            "configured protocol).",
        )
    if x.outcome == "accept":
        if not probe.real_login:
            return result(
                Status.WARN,
                f"{where} accepted {who} with a random password",
                "The server accepts a made-up user and password: check its policy before relying on it for MFA.",
            )
        if probe.mschap2_server_proof is False:
            return result(
                Status.WARN,
                f"{where} accepted {who} in MS-CHAPv2 without a valid MS-CHAP2-Success authenticator response",
                "The server did not prove it knows the password (RFC 2759 §5): check its MS-CHAPv2 support.",
            )
        proof = "; the server proved it knows the password" if probe.mschap2_server_proof else ""
        return result(Status.PASS, f"{where} accepted {who} in {probe.protocol}{proof}")
    if x.outcome == "challenge":
        return result(
            Status.FAIL,
            f"{where} answered {who} with Access-Challenge{said}: AD Connector does not support Access-Challenge",
            "Configure the RADIUS server to answer AD Connector's clients with Accept or Reject in one round "
            "trip (for example push approval, or the one-time code typed into the password field).",
        )
    if x.outcome == "bad_authenticator":
        return result(
            Status.FAIL,
            f"{where} replied, but signed with another secret: the shared secret does not match",
            "Set the same shared secret on the RADIUS server's client entries (this host and the AD Connector "
            "addresses) as in the directory's MFA settings.",
        )
    if x.outcome == "no_response":
        return result(
            Status.FAIL,
            f"{where}: no response after {x.attempts} attempt(s) in {x.elapsed_ms / 1000:.1f} s",
            _NO_RESPONSE_CAUSES.format(port=x.port, source=x.source or "unknown source"),
        )
    if x.outcome == "malformed":
        return result(
            Status.FAIL,
            f"{where} answered with something that is not a RADIUS reply to this request ({x.detail})",
            f"Something other than a RADIUS server answers on UDP {x.port} at {x.server}, or a middlebox "
            "mangles the replies: check what listens there.",
        )
    if x.outcome == "closed":
        return result(
            Status.FAIL,
            f"{where}: closed (ICMP port unreachable: nothing listens on UDP {x.port} at {x.address})",
            f"Start the RADIUS service on {x.server}, or check that it listens on UDP {x.port}.",
        )
    if x.outcome == "unresolved":
        return result(
            Status.ERROR,
            f"{x.server} does not resolve from this host ({x.errno_name})",
            "Check the name, or probe its IP address; AD Connector resolves it through the VPC's DNS.",
            ErrorReason.UNREACHABLE,
        )
    return result(
        Status.ERROR,
        f"{where}: this host could not send the request ({x.errno_name})",
        "Check this host's routes and --source address, or run adprep from a host that can reach the server.",
        reason_for_errno(x.errno_name),
    )


def check_message_authenticator(probe: RadiusProbe) -> CheckResult:
    """BlastRADIUS readiness (CVE-2024-3596): did the signed reply carry a valid Message-Authenticator?"""
    x = probe.exchange
    cid = check_id("radius.message_authenticator.<server>", server=x.server)
    facts: dict[str, FactValue] = {"message_authenticator": x.message_authenticator, "outcome": x.outcome}
    if x.outcome not in _SIGNED:
        return CheckResult(
            cid, Status.SKIP, f"{x.server}: no signed reply to inspect", facts, target=x.server
        )
    if x.message_authenticator == "valid":
        return CheckResult(
            cid,
            Status.PASS,
            f"{x.server}'s reply carried a valid Message-Authenticator (BlastRADIUS-ready)",
            facts,
            target=x.server,
        )
    if x.message_authenticator == "invalid":
        return CheckResult(
            cid,
            Status.FAIL,
            f"{x.server}'s reply carried a Message-Authenticator that does not verify",
            facts,
            remedy="Clients that check Message-Authenticator drop this reply: check the server's RADIUS stack.",
            target=x.server,
        )
    return CheckResult(
        cid,
        Status.WARN,
        f"{x.server}'s reply had no Message-Authenticator: not hardened against BlastRADIUS (CVE-2024-3596)",
        facts,
        remedy="Update the RADIUS server and make it send Message-Authenticator first in every reply "
        "(FreeRADIUS 3.2.5+, NPS with the July 2024 updates).",
        target=x.server,
    )


def check_client_registration(probes: Sequence[RadiusProbe], *, bind: str | None) -> CheckResult:
    """Say plainly which address the probe used and that AD Connector's addresses need the same entry."""
    sources = sorted({p.exchange.source for p in probes if p.exchange.source})
    shown = ", ".join(sources) or "unknown"
    facts: dict[str, FactValue] = {
        "source_addresses": {p.server: p.exchange.source for p in probes},
        "bound": bind,
    }
    base = (
        f"The probe left from {shown}; each RADIUS server must list that address as a RADIUS client, "
        "the way it must list the two AD Connector addresses"
    )
    if not probes:
        return CheckResult(check_id("radius.client_registration"), Status.SKIP, "No probe was sent", facts)
    # A reply of any kind, even one signed with another secret, means the server knows this client.
    silent: list[FactValue] = [
        p.server for p in probes if p.exchange.outcome not in (*_SIGNED, "bad_authenticator")
    ]
    if not silent:
        return CheckResult(
            check_id("radius.client_registration"),
            Status.PASS,
            f"{base}: every server answered, so it does for this host",
            facts,
        )
    facts["unproven"] = silent
    return CheckResult(
        check_id("radius.client_registration"),
        Status.WARN,
        f"{base}: not proven for {', '.join(str(s) for s in silent)}",
        facts,
        remedy="Register this host's address and the directory's two AD Connector IP addresses as RADIUS "
        "clients with the shared secret, then probe again.",
    )
