"""Open the network of every vantage a run names, all at once, and close them at the end.

A vantage that cannot be opened (unreachable host, unknown host key, refused login, no python3,
PowerShell refusing the script) is kept with its :class:`~adprep.errors.VantageError`: the run goes
on from the others and reports it as data.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from adprep.errors import VantageError
from adprep.transport.network import LocalNetwork, Network
from adprep.transport.relay.channel import RelayChannel
from adprep.vantage import RelayOptions as RelayOptions  # its home moved; importers here keep working
from adprep.vantage import VantageSpec
from adprep.wire.relay import Hello


@dataclass
class OpenedVantage:
    """One vantage of the run: its network, or why it has none."""

    spec: VantageSpec
    net: Network | None = None
    error: VantageError | None = None
    hello: Hello | None = None
    channel: RelayChannel | None = field(default=None, repr=False)


def channel_for(spec: VantageSpec, options: RelayOptions) -> RelayChannel:
    """The channel that starts ``spec``'s relay (SSH or WinRM)."""
    if spec.kind == "ssh":
        from adprep.transport.relay.ssh import SshChannel

        assert spec.host is not None
        return SshChannel(
            spec.host,
            user=spec.user,
            port=spec.port,
            ssh_config=options.ssh_config,
            connect_timeout=options.connect_timeout,
        )
    from adprep.transport.relay.winrm import WinrmChannel, WinrmEndpoint

    assert spec.host is not None and spec.port is not None
    user = spec.user or options.winrm_user
    if user is None or options.winrm_password is None:
        raise VantageError(
            f"{spec.via} needs a user and a password for WinRM",
            reason="auth",
            hint="Put the user in the URL (winrms://user@host) and the password in ADPREP_WINRM_PASSWORD or "
            "--winrm-password-file.",
        )
    return WinrmChannel(
        WinrmEndpoint(
            host=spec.host,
            port=spec.port,
            https=spec.kind == "winrms",
            user=user,
            password=options.winrm_password,
            auth=options.winrm_auth,
            ca_file=options.winrm_ca_file,
            verify=options.winrm_verify,
            timeout=max(options.connect_timeout, 30.0),
        )
    )


async def _open(spec: VantageSpec, options: RelayOptions) -> OpenedVantage:
    if spec.kind == "local":
        return OpenedVantage(
            spec, LocalNetwork(concurrency=options.concurrency, bind=options.source, label=spec.label)
        )
    from adprep.transport.relay.session import RelayNetwork

    try:
        channel = channel_for(spec, options)
        hello = await channel.open()
    except VantageError as e:
        return OpenedVantage(spec, error=e)
    net = RelayNetwork(channel, hello, label=spec.label, concurrency=options.concurrency)
    return OpenedVantage(spec, net, hello=hello, channel=channel)


@contextlib.asynccontextmanager
async def open_vantages(
    specs: Sequence[VantageSpec], options: RelayOptions
) -> AsyncIterator[list[OpenedVantage]]:
    """Start every relay at the same time; stop them all on the way out."""
    opened = list(await asyncio.gather(*(_open(s, options) for s in specs)))
    try:
        yield opened
    finally:
        await asyncio.gather(*(v.channel.close() for v in opened if v.channel is not None))
