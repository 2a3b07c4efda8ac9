"""Running a command's network probes from every vantage it names, and reporting them as one.

Without ``--via`` a run is what it always was: this host, ids unchanged. With vantages, every
network result names its vantage; with more than one, ids end in ``@<label>`` and the path checks
(:mod:`adprep.checks.paths`) name each difference. A vantage whose relay did not start is one
``error`` result (``vantage.<label>.relay``) and the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from adprep.checks.paths import check_paths, check_subnet, tag_result, vantage_check_id
from adprep.errors import reason_of
from adprep.model import CheckResult, Status, Vantage
from adprep.transport.network import LOCAL, LocalNetwork, Network
from adprep.transport.vantages import OpenedVantage, RelayOptions, open_vantages
from adprep.vantage import VantageSpec

_T = TypeVar("_T")


@dataclass
class VantageRun:
    """The vantages of one run, opened."""

    opened: list[OpenedVantage]
    named: bool
    """False for a run without ``--via``: results keep their plain ids and carry no vantage."""
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per vantage label, per target: the source address its probes used."""

    @property
    def usable(self) -> list[OpenedVantage]:
        return [v for v in self.opened if v.net is not None]

    @property
    def multi(self) -> bool:
        return len(self.opened) > 1

    def vantage(self, label: str) -> Network:
        """The network of the usable vantage ``label``."""
        return next(v.net for v in self.opened if v.spec.label == label and v.net is not None)

    async def each(self, fn: Callable[[Network], Awaitable[_T]]) -> list[tuple[str, _T]]:
        """``fn`` from every usable vantage at the same time: (label, value) in the vantages' order."""
        usable = self.usable
        values = await asyncio.gather(*(fn(v.net) for v in usable if v.net is not None))
        return [(v.spec.label, value) for v, value in zip(usable, values, strict=True)]

    def tag(self, label: str, results: Iterable[CheckResult]) -> list[CheckResult]:
        """Network results as probed from ``label``."""
        if not self.named:
            return list(results)
        return [tag_result(r, label, suffix=self.multi) for r in results]

    def add_sources(self, label: str, sources: Mapping[str, str | None]) -> None:
        """Record, per target, the source address the vantage ``label`` reached it from."""
        known = self.sources.setdefault(label, {})
        known.update({t: s for t, s in sources.items() if s is not None})

    def vantage_results(self, results: Sequence[CheckResult]) -> list[CheckResult]:
        """Each relay's start, each subnet's proof, and the differences between vantages."""
        if not self.named:
            return []
        out: list[CheckResult] = []
        for v in self.opened:
            label = v.spec.label
            if v.error is not None:
                out.append(
                    CheckResult(
                        vantage_check_id(label, "relay"),
                        Status.ERROR,
                        f"{label}: no probes ran from {v.spec.via}: {v.error.message}",
                        {"via": v.spec.via, "reason": v.error.reason},
                        remedy=v.error.hint or v.error.message,
                        reason=reason_of(v.error),
                    )
                )
                continue
            if v.hello is not None:
                out.append(
                    CheckResult(
                        vantage_check_id(label, "relay"),
                        Status.PASS,
                        f"{label}: probes ran from {v.hello.host} through {v.spec.via} "
                        f"({v.hello.impl} {v.hello.version})",
                        {
                            "via": v.spec.via,
                            "impl": v.hello.impl,
                            "version": v.hello.version,
                            "host": v.hello.host,
                        },
                    )
                )
            if v.spec.subnet is not None:
                out.append(check_subnet(label, v.spec.subnet, self.sources.get(label, {})))
        if self.multi:
            labels = [v.spec.label for v in self.usable]
            out.extend(check_paths(results, labels, self.sources))
        return out

    def vantages(self) -> tuple[Vantage, ...]:
        """The report's list of vantages (empty for a run without ``--via``)."""
        if not self.named:
            return ()
        here = socket.gethostname()
        return tuple(
            Vantage(
                host=v.hello.host
                if v.hello is not None
                else (here if v.spec.kind == "local" else v.spec.host or "?"),
                label=v.spec.label,
                source_addresses=self.sources.get(v.spec.label, {}),
                via=v.spec.via,
                subnet=str(v.spec.subnet) if v.spec.subnet is not None else None,
                relay={"impl": v.hello.impl, "version": v.hello.version, "host": v.hello.host}
                if v.hello
                else {},
                error=v.error.sentence() if v.error is not None else None,
            )
            for v in self.opened
        )

    def local_sources(self) -> dict[str, str | None]:
        """Source addresses of the admin's host, for the report's main vantage."""
        for v in self.opened:
            if v.spec.kind == "local":
                return dict(self.sources.get(v.spec.label, {}))
        return {}


@contextlib.asynccontextmanager
async def vantage_run(
    specs: Sequence[VantageSpec], options: RelayOptions, *, label: str | None = None
) -> AsyncIterator[VantageRun]:
    """The run's vantages, opened; without ``specs``, this host alone, as before ``--via`` existed."""
    if not specs:
        local = VantageSpec(label=label or LOCAL, kind="local")
        yield VantageRun([OpenedVantage(local, LocalNetwork(concurrency=options.concurrency, bind=options.source, label=local.label))],
                         named=False)  # fmt: skip
        return
    async with open_vantages(specs, options) as opened:
        yield VantageRun(opened, named=True)
