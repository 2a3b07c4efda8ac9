"""The report model: check results, statuses, the vantage point and the report envelope.

Everything here is an immutable value. Checks produce :class:`CheckResult`; :mod:`adprep.report` gathers
them into a :class:`Report`; renderers turn a report into a table, JSON or JUnit XML.
The JSON form is a versioned API: see ``adprep/schema/report-v1.json``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

#: Bump the major part when a field is removed or changes meaning; add fields freely.
#: 1.1 added ``vantage`` on results and the report's ``vantages`` (runs from several vantages).
#: 1.2 added ``reason`` on ``error`` results (:class:`ErrorReason`).
SCHEMA_VERSION = "1.2"

#: JSON-compatible fact values (what a check saw).
#: Read-only container types, so that ``list[str]`` or ``dict[str, list[str]]`` are facts too.
FactValue = str | int | float | bool | None | Sequence["FactValue"] | Mapping[str, "FactValue"]


class Status(enum.StrEnum):
    """The verdict of one check."""

    PASS = "pass"
    """The requirement holds."""
    WARN = "warn"
    """The requirement holds, but something deserves attention."""
    FAIL = "fail"
    """The requirement does not hold: AD Connector (or WorkSpaces) would fail."""
    ERROR = "error"
    """The check could not run (no connection, no permission, a bug): nothing is known."""
    SKIP = "skip"
    """The check does not apply to this run."""

    @property
    def rank(self) -> int:
        """Severity order, for sorting and summaries (higher is worse)."""
        return _RANK[self]


_RANK = {Status.SKIP: 0, Status.PASS: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}


class ErrorReason(enum.StrEnum):
    """Why a check could not run (the ``reason`` of an ``error`` result): what a person or a pipeline
    does next depends on it (retry, fix a route, a certificate, a password, a right, or report a bug)."""

    UNREACHABLE = "unreachable"
    """No connection: refused, no route, the name did not resolve, the connection was lost."""
    TIMEOUT = "timeout"
    """The peer did not answer in time."""
    TLS = "tls"
    """The TLS handshake or the certificate check failed, or the peer requires TLS."""
    AUTHENTICATION = "authentication"
    """The peer refused the credentials adprep was given (or its host key was not the known one)."""
    PERMISSION = "permission"
    """Authenticated, but not allowed to read (or this host may not send) what the check needs."""
    NOT_SUPPORTED = "not_supported"
    """The peer (or this host) does not support what the check needs."""
    MALFORMED = "malformed"
    """The peer answered something adprep cannot read."""
    BUG = "bug"
    """adprep itself failed: an unexpected exception (re-run with --debug for the traceback)."""


@dataclass(frozen=True)
class CheckResult:
    """One verdict, with the facts it rests on and what to do about it."""

    id: str
    """Stable dotted id, e.g. ``ports.tcp.127.0.0.2.389`` or ``dns.srv.ldap_tcp.10.0.0.2.udp``."""
    status: Status
    title: str
    """One line a person reads in the table."""
    facts: Mapping[str, FactValue] = field(default_factory=dict)
    """What was observed (times, error numbers, records, attribute values)."""
    remedy: str | None = None
    """What a person can do about a warn/fail/error."""
    adc_error: str | None = None
    """The AD Connector error text a user would see because of this failure."""
    target: str | None = None
    """The address, host or object the check is about."""
    vantage: str | None = None
    """The label of the vantage the probe ran from, for network results of a run from several."""
    reason: ErrorReason | None = None
    """Why an ``error`` result could not run; None for every other status."""

    @property
    def category(self) -> str:
        """The first component of the id (``ports``, ``dns``, ``directory``, ``radius``…)."""
        return self.id.split(".", 1)[0]

    @property
    def base_id(self) -> str:
        """The id without its ``@vantage`` suffix: the same check from every vantage."""
        return self.id.split("@", 1)[0]


@dataclass(frozen=True)
class Vantage:
    """Where the checks were run from: it decides what a pass proves."""

    host: str
    """This machine's host name."""
    label: str | None = None
    """A name the caller gave (``--vantage``), e.g. ``aws-adc-subnet-a``."""
    source_addresses: Mapping[str, str] = field(default_factory=dict)
    """Per target: the local address the probes left from."""
    via: str = "local"
    """How probes reached the vantage: ``local``, or the relay's URL (``ssh://bastion``)."""
    subnet: str | None = None
    """The AD Connector subnet (CIDR) the vantage was said to stand in."""
    relay: Mapping[str, str] = field(default_factory=dict)
    """For a relay: what it reported of itself (``impl``, ``version``, ``host``)."""
    error: str | None = None
    """Why this vantage's probes could not run (its relay did not start), if so."""

    NOTE = (
        "A run from an on-premises host proves that the domain controllers' services answer; only a run "
        "from the AD Connector subnets proves the firewall path from AWS."
    )


@dataclass(frozen=True)
class Summary:
    """Counts per status."""

    passed: int = 0
    warned: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, results: Iterable[CheckResult]) -> Summary:
        """Count ``results`` by status."""
        counts = {status: 0 for status in Status}
        for result in results:
            counts[result.status] += 1
        return cls(
            passed=counts[Status.PASS],
            warned=counts[Status.WARN],
            failed=counts[Status.FAIL],
            errors=counts[Status.ERROR],
            skipped=counts[Status.SKIP],
        )


@dataclass(frozen=True)
class Report:
    """The envelope around one run's results."""

    command: str
    """The adprep command that produced it (``ports``, ``preflight``…)."""
    tool_version: str
    started_at: datetime
    finished_at: datetime
    vantage: Vantage
    targets: tuple[str, ...]
    results: tuple[CheckResult, ...]
    schema_version: str = SCHEMA_VERSION
    vantages: tuple[Vantage, ...] = ()
    """Every vantage the network probes ran from, when the run named them (``--via``)."""
    redacted: bool = False
    """Names and addresses were replaced by tokens (``--redact``; see ``adprep/render/redact.py``)."""

    @property
    def summary(self) -> Summary:
        return Summary.of(self.results)

    @property
    def scope(self) -> tuple[CheckResult, ...]:
        """The results that say what the run covered and left out (ids ``<category>.scope``, e.g.
        ``ports.scope``, ``account.scope``): summaries repeat them."""
        return tuple(r for r in self.results if r.base_id.endswith(".scope"))

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()
