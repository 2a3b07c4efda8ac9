"""``adprep radius check``: validate AD Connector's RADIUS MFA settings, then probe the servers live."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from adprep import requirements as req
from adprep.checks.radius import (
    MfaSettings,
    check_client_registration,
    check_message_authenticator,
    check_probe,
    check_settings,
    normalise_protocol,
    probe_check_id,
    server_problem,
)
from adprep.collect.radius import collect_radius
from adprep.errors import InputError
from adprep.facts.radius import RadiusFacts
from adprep.jobs.vantages import VantageRun, vantage_run
from adprep.model import CheckResult, Report, Status
from adprep.report import build_report, make_vantage, now
from adprep.secret import Secret
from adprep.transport.network import Network
from adprep.transport.vantages import RelayOptions
from adprep.vantage import VantageSpec
from adprep.wire.radius import MAX_PASSWORD_LEN

#: Sanity bounds for the probe itself (the ds API's limits are checks, not input errors).
_PROBE_TIMEOUT_MAX_S = 600.0
_PROBE_RETRIES_MAX = 100


@dataclass(frozen=True)
class RadiusSettings:
    """Everything ``adprep radius check`` needs, validated."""

    mfa: MfaSettings
    probe: bool = True
    user: str = req.RADIUS_PROBE_USER
    password: Secret | None = None
    """The real user's password (``--user``); None sends AWS's ``fakeusername`` with a random one."""
    vantage: str | None = None
    vantages: tuple[VantageSpec, ...] = ()
    """Where to probe from (``--via``); empty: this host only."""
    relay: RelayOptions = field(default_factory=RelayOptions)
    """How to reach relays; ``relay.source`` binds this host's probes to a local address."""


def radius_settings(
    *,
    servers: Sequence[str],
    port: int,
    protocol: str,
    timeout: float,
    retries: int,
    secret: Secret | None,
    probe: bool = True,
    user: str | None = None,
    password: Secret | None = None,
    source: str | None = None,
    vantage: str | None = None,
    vantages: Sequence[VantageSpec] = (),
    relay: RelayOptions | None = None,
) -> RadiusSettings:
    """Refuse what cannot even be probed (InputError); the ds API's limits become checks later."""
    cleaned = tuple(dict.fromkeys(s.strip() for s in servers if s.strip()))
    if not cleaned:
        raise InputError(
            "No RADIUS server given", hint="Pass --server (repeatable) or 'servers' in the [radius] section."
        )
    if not 1 <= port <= 65535:
        raise InputError(f"RADIUS port {port} is not a UDP port number", hint="Give a port from 1 to 65535.")
    if not (math.isfinite(timeout) and 0 < timeout <= _PROBE_TIMEOUT_MAX_S):
        raise InputError(
            f"RADIUS timeout {timeout} is not a usable number of seconds",
            hint=f"Give seconds above 0 (AD Connector allows {req.RADIUS_TIMEOUT_MIN}-{req.RADIUS_TIMEOUT_MAX}).",
        )
    if not 0 <= retries <= _PROBE_RETRIES_MAX:
        raise InputError(
            f"RADIUS retries {retries} is not a usable count",
            hint=f"Give {req.RADIUS_RETRIES_MIN} to {req.RADIUS_RETRIES_MAX}.",
        )
    if probe and secret is None:
        raise InputError(
            "No RADIUS shared secret given",
            hint="Set ADPREP_RADIUS_SECRET or pass --secret-file (never on the command line).",
        )
    if (user is None) != (password is None):
        raise InputError(
            "A real login needs both --user and the user's password",
            hint="Pass --user with --user-password-file or ADPREP_RADIUS_USER_PASSWORD.",
        )
    if password is not None and len(password.reveal().encode("utf-8")) > MAX_PASSWORD_LEN:
        raise InputError(
            f"The user's password is longer than RADIUS's {MAX_PASSWORD_LEN} octets",
            hint="RFC 2865 limits User-Password to 128 octets.",
        )
    mfa = MfaSettings(
        servers=cleaned,
        port=port,
        protocol=normalise_protocol(protocol),
        timeout=float(timeout),
        retries=retries,
        secret=secret,
    )
    return RadiusSettings(
        mfa=mfa,
        probe=probe,
        user=user or req.RADIUS_PROBE_USER,
        password=password,
        vantage=vantage,
        vantages=tuple(vantages),
        relay=dataclasses.replace(relay or RelayOptions(), source=source),
    )


def run_radius(settings: RadiusSettings) -> Report:
    """Check the settings, probe every valid server from every vantage concurrently, report."""
    started = now()
    results, run = asyncio.run(_radius(settings))
    return build_report(
        "radius",
        started_at=started,
        targets=settings.mfa.servers,
        results=results,
        vantage=make_vantage(settings.vantage, run.local_sources()),
        vantages=run.vantages(),
    )


async def _radius(settings: RadiusSettings) -> tuple[list[CheckResult], VantageRun]:
    async with vantage_run(settings.vantages, settings.relay, label=settings.vantage) as run:
        results = await radius_results(run, settings)
    results.extend(run.vantage_results(results))
    return results, run


async def radius_results(run: VantageRun, settings: RadiusSettings) -> list[CheckResult]:
    """The RADIUS checks: the settings once, the probes from every vantage of ``run`` (preflight's too)."""
    mfa = settings.mfa
    results: list[CheckResult] = check_settings(mfa)
    probeable = [s for s in mfa.servers if server_problem(s) is None]
    skip_reason: str | None = None
    if not settings.probe:
        skip_reason = "--no-probe: settings validated only"
    elif mfa.protocol not in req.RADIUS_PROTOCOLS:
        skip_reason = f"the protocol {mfa.protocol!r} is not one AD Connector supports"
    if skip_reason is None and mfa.secret is not None:
        secret = mfa.secret

        async def probe(net: Network) -> RadiusFacts:
            return await collect_radius(
                net,
                probeable,
                port=mfa.port,
                protocol=mfa.protocol,
                secret=secret,
                user=settings.user,
                password=settings.password,
                timeout=mfa.timeout,
                retries=mfa.retries,
            )

        for label, facts in await run.each(probe):
            found: list[CheckResult] = []
            for p in facts.probes:
                found += [check_probe(p), check_message_authenticator(p)]
            found.append(check_client_registration(facts.probes, bind=settings.relay.source))
            run.add_sources(label, {p.server: p.exchange.source for p in facts.probes})
            results.extend(run.tag(label, found))
        skipped = [s for s in mfa.servers if s not in probeable]
        reason = "not a valid IP address or DNS name"
    else:
        skipped = list(mfa.servers)
        reason = skip_reason or "no shared secret"
    for server in skipped:
        results.append(
            CheckResult(
                probe_check_id(server),
                Status.SKIP,
                f"{server}: not probed ({reason})",
                {"reason": reason},
                target=server,
            )
        )
    return results
