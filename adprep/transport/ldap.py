"""LDAP transport: the one place that holds an ldap3 ``Connection``.

Connections are LDAPS (636) or StartTLS (389) with certificate verification by default; plain LDAP
only when asked. The certificate is checked against the DC's host name (``server_name``), so callers
can connect by address. ldap3's exceptions become :class:`adprep.errors.LdapError` with a sentence
(and the AD sub-code, e.g. ``data 775``) a person can act on; passwords never reach a message.
"""

from __future__ import annotations

import contextlib
import math
import re
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from adprep.errors import LdapConnectionLost, LdapError, TransportError
from adprep.facts.directory import LdapMode
from adprep.model import ErrorReason
from adprep.secret import Secret
from adprep.wire.ldap_vlv import (
    SORT_REQUEST_OID,
    VLV_REQUEST_OID,
    VLV_RESPONSE_OID,
    VlvResponse,
    decode_vlv_response,
    encode_sort_request,
    encode_vlv_request,
)

Scope = Literal["base", "one", "sub"]

#: LDAP_SERVER_SD_FLAGS_OID (MS-ADTS 3.1.1.3.4.1.11): ask for the DACL only (value 4).
SD_FLAGS_OID = "1.2.840.113556.1.4.801"
DACL_SECURITY_INFORMATION = 0x4
#: LDAP_SERVER_SD_FLAGS: owner, group and DACL (MS-ADTS 3.1.1.3.4.1.11).
SD_OWNER_GROUP_DACL = 0x7


@dataclass(frozen=True)
class LdapTarget:
    """Where and how to connect."""

    address: str
    server_name: str | None = None
    """The DC's host name for certificate verification (SRV target / FQDN)."""
    mode: LdapMode = "ldaps"
    port: int | None = None
    ca_file: str | None = None
    """A CA bundle to trust instead of the system's."""
    verify: bool = True
    timeout: float = 5.0

    @property
    def effective_port(self) -> int:
        return self.port or (636 if self.mode == "ldaps" else 389)


@dataclass(frozen=True)
class Entry:
    """One search result."""

    dn: str
    attributes: Mapping[str, list[Any]] = field(default_factory=dict)
    """Decoded values (ldap3's formatters), keyed by attribute name as asked."""
    raw: Mapping[str, list[bytes]] = field(default_factory=dict)

    def first(self, name: str, default: Any = None) -> Any:
        """The attribute's first value, else ``default``."""
        values = self.attributes.get(name) or []
        return values[0] if values else default

    def all(self, name: str) -> list[Any]:
        """The attribute's values (an empty list when absent)."""
        return list(self.attributes.get(name) or [])

    def integer(self, name: str) -> int | None:
        """The attribute's first value as an integer; None when absent or not a number."""
        value = self.first(name)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


def _explain(code: int | None, message: str | None) -> tuple[str, str | None]:
    """The sentence and hint for an LDAP result code and AD's diagnostic message."""
    from adprep.ad.ldap_errors import explain_ldap_error  # on first error only: most runs never need it

    e = explain_ldap_error(code, message)
    return e.sentence, e.hint


#: The largest LDAP message adprep reads: far above any entry a DC sends (a group of 50,000 members is a
#: few MB), far below what a peer announcing a 2 GiB message could make it hoard.
MAX_LDAP_MESSAGE = 64 * 1024 * 1024


#: The most messages adprep reads in answer to one request: AD sends at most MaxPageSize (1,000)
#: entries a page, and adprep pages every search that may return more than one entry.
MAX_LDAP_MESSAGES_PER_REPLY = 20_000
#: The longest one request's reply may take, at least, whatever its messages' pace (a peer sending a
#: well-formed entry just inside each read's timeout would otherwise never end); else 6 timeouts.
MIN_LDAP_REPLY_SECONDS = 30.0


class _NotLdap(Exception):
    """The peer sent bytes that are not an LDAP message (RFC 4511 §4.1.1), or not within the time."""


@dataclass
class _ReplyBudget:
    """What is left for the reply to the request being answered (see :func:`_bound_reads`)."""

    deadline: float = math.inf
    messages: int = 0


def _receive_bounded(strategy: Any, timeout: float, limit: int, budget: _ReplyBudget) -> list[bytes]:
    """ldap3's ``SyncStrategy.receiving`` for simple binds (no SASL layer), bounded: every call
    returns within ``timeout`` seconds in all (ldap3's own bound is per ``recv``, so a peer that sends
    a byte a second holds it for ever), no message longer than ``limit`` is gathered, bytes that
    cannot start an LDAPMessage end the exchange at once instead of waiting for more, and one
    request's reply ends within ``budget`` (messages and time: a peer sending entries for ever)."""
    from ldap3.core.exceptions import LDAPSocketReceiveError, communication_exception_factory
    from ldap3.strategy.base import BaseStrategy

    sock = strategy.connection.socket
    previous = sock.gettimeout()
    if time.monotonic() >= budget.deadline:
        raise _NotLdap(f"{budget.messages} messages, and no end to the reply within its time")
    deadline = min(time.monotonic() + timeout, budget.deadline)
    messages: list[bytes] = []
    unprocessed = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and unprocessed:
                raise _NotLdap(
                    f"{len(unprocessed)} bytes of a message, and no whole LDAP reply within {timeout:g} s"
                )
            if remaining <= 0:  # silence: ldap3's own error for a receive that timed out
                raise communication_exception_factory(LDAPSocketReceiveError, TimeoutError("timed out"))(  # type: ignore[no-untyped-call]
                    "error receiving data: timed out"
                )
            sock.settimeout(remaining)
            try:
                data = sock.recv(strategy.socket_size)
            except OSError as e:
                with contextlib.suppress(Exception):
                    strategy.close()
                raise communication_exception_factory(LDAPSocketReceiveError, type(e)(str(e)))(  # type: ignore[no-untyped-call]
                    f"error receiving data: {e}"
                ) from e
            if not data:
                if unprocessed:
                    raise _NotLdap(
                        f"the peer closed the connection after {len(unprocessed)} bytes of a message"
                    )
                return messages
            unprocessed += data
            while unprocessed:
                if unprocessed[0] != 0x30:  # an LDAPMessage is a SEQUENCE
                    raise _NotLdap(
                        f"a reply that starts with byte 0x{unprocessed[0]:02x}, not an LDAP message"
                    )
                length: int = BaseStrategy.compute_ldap_message_size(unprocessed)  # type: ignore[no-untyped-call]
                if length > limit:
                    raise _NotLdap(f"a message of {length} bytes announced, more than adprep reads")
                if length == -1 or len(unprocessed) < length:
                    break
                messages.append(unprocessed[:length])
                unprocessed = unprocessed[length:]
                budget.messages += 1
                if budget.messages > MAX_LDAP_MESSAGES_PER_REPLY:
                    raise _NotLdap(
                        f"more than {MAX_LDAP_MESSAGES_PER_REPLY} messages in reply to one request, without an end"
                    )
            if messages and not unprocessed:
                return messages
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(previous)


def _bound_reads(conn: Any, timeout: float) -> None:
    """Bound what a peer can make ``conn`` wait for, read and decode (see :func:`_receive_bounded`);
    a reply ldap3 cannot decode becomes :class:`_NotLdap` instead of ldap3's or pyasn1's own error."""
    from pyasn1.error import PyAsn1Error

    strategy = conn.strategy
    budget = _ReplyBudget()
    strategy.receiving = lambda: _receive_bounded(strategy, timeout, MAX_LDAP_MESSAGE, budget)
    decode = strategy._get_response

    def get_response(message_id: int, wait: Any) -> Any:
        budget.deadline = time.monotonic() + max(MIN_LDAP_REPLY_SECONDS, 6 * timeout)
        budget.messages = 0
        try:
            return decode(message_id, wait)
        except (PyAsn1Error, ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError) as e:
            # ldap3's decoders raise these on bytes that frame like an LDAPMessage but are not one.
            raise _NotLdap(f"a reply adprep cannot decode as LDAP ({type(e).__name__})") from e

    strategy._get_response = get_response


def _connection_lost(exc: Exception) -> bool:
    """Whether ldap3 says the connection itself broke (closed, reset, silent past the timeout), as
    opposed to the server answering an operation with an error."""
    from ldap3.core import exceptions as x

    if isinstance(exc, x.LDAPReferralError | x.LDAPUnknownRequestError | x.LDAPUnknownResponseError):
        return False
    return isinstance(exc, x.LDAPCommunicationError | x.LDAPResponseTimeoutError)


def _as_error(
    exc: Exception, *, doing: str, secret: Secret | None = None, peer: str | None = None
) -> LdapError:
    """Turn an ldap3 exception into an LdapError (:class:`LdapConnectionLost` when the connection
    broke); scrub the password if a library echoed it."""
    result = getattr(exc, "result", None)
    code = result if isinstance(result, int) else None
    description = getattr(exc, "description", None)
    message = getattr(exc, "message", None) or str(exc)
    if secret is not None and secret.reveal() and secret.reveal() in message:
        message = message.replace(secret.reveal(), "<secret>")
    where = peer or "the domain controller"
    if isinstance(exc, _NotLdap):
        return LdapConnectionLost(
            f"{doing} failed: {where} answered with something that is not LDAP: a malformed reply ({message})",
            hint=f"Check that {where} is a domain controller's LDAP port, not another service or a proxy "
            "that answers in its place",
            diagnostic=message,
            error_reason=ErrorReason.MALFORMED,
        )
    if code is None and _connection_lost(exc):
        return LdapConnectionLost(
            f"{doing} failed: the connection to {peer or 'the domain controller'} was lost ({_short(message)})",
            hint="Check that the domain controller is running and reachable, then run the same command "
            "again: it finishes what was started",
            diagnostic=message,
            error_reason=ErrorReason.TIMEOUT if "Timeout" in type(exc).__name__ else None,
        )
    sentence, hint = _explain(code, message)
    return LdapError(
        f"{doing} failed: {sentence}",
        hint=hint,
        result=str(description) if description else None,
        code=code,
        diagnostic=message,
    )


class LdapSession:
    """A bound LDAP connection. Use as a context manager."""

    def __init__(self, conn: Any, target: LdapTarget, bound_as: str | None) -> None:
        self._conn = conn
        self.target = target
        self.bound_as = bound_as

    def __enter__(self) -> LdapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _peer(self) -> str:
        return f"{self.target.address}:{self.target.effective_port}"

    def close(self) -> None:
        # Closing a broken connection is not an error worth reporting.
        with contextlib.suppress(Exception):
            self._conn.unbind()

    # --- reads ------------------------------------------------------------------------------------

    def search(
        self,
        base: str,
        filter_: str = "(objectClass=*)",
        *,
        scope: Scope = "sub",
        attributes: Sequence[str] = (),
        controls: Sequence[tuple[str, bool, bytes | None]] | None = None,
        size_limit: int = 0,
        page_size: int = 500,
    ) -> list[Entry]:
        """Every entry of a paged search (:meth:`iter_search`), as a list."""
        return list(
            self.iter_search(
                base, filter_, scope=scope, attributes=attributes, controls=controls, size_limit=size_limit,
                page_size=page_size,
            )
        )  # fmt: skip

    def iter_search(
        self,
        base: str,
        filter_: str = "(objectClass=*)",
        *,
        scope: Scope = "sub",
        attributes: Sequence[str] = (),
        controls: Sequence[tuple[str, bool, bytes | None]] | None = None,
        size_limit: int = 0,
        page_size: int = 500,
    ) -> Iterator[Entry]:
        """Paged search (RFC 2696) so large directories stream instead of hitting the size limit."""
        import ldap3
        from ldap3.core.exceptions import LDAPException, LDAPNoSuchObjectResult

        ldap_scope = {"base": ldap3.BASE, "one": ldap3.LEVEL, "sub": ldap3.SUBTREE}[scope]
        attrs = list(attributes) or [ldap3.NO_ATTRIBUTES]
        try:
            for item in self._conn.extend.standard.paged_search(
                search_base=base,
                search_filter=filter_,
                search_scope=ldap_scope,
                attributes=attrs,
                controls=list(controls) if controls else None,
                paged_size=page_size if scope != "base" else None,
                size_limit=size_limit,
                generator=True,
            ):
                if item.get("type") != "searchResEntry":
                    continue
                yield Entry(
                    dn=item["dn"],
                    attributes={k: v if isinstance(v, list) else [v] for k, v in item["attributes"].items()},
                    raw={k: list(v) for k, v in item["raw_attributes"].items()},
                )
        except LDAPNoSuchObjectResult:
            return
        except (LDAPException, _NotLdap) as e:
            raise _as_error(e, doing=f"Searching {base or 'the rootDSE'}", peer=self._peer) from e

    def get(
        self, dn: str, attributes: Sequence[str] = ("*",), *, sd_flags: int | None = None
    ) -> Entry | None:
        """Read one object (None if it does not exist). ``sd_flags`` asks for parts of nTSecurityDescriptor."""
        controls = None
        if sd_flags is not None:
            from ldap3.protocol.microsoft import security_descriptor_control

            controls = list(security_descriptor_control(sdflags=sd_flags))
        found = self.search(dn, scope="base", attributes=attributes, controls=controls)
        return found[0] if found else None

    def exists(self, dn: str) -> bool:
        return self.get(dn, ("objectClass",)) is not None

    def vlv_search(
        self,
        base: str,
        filter_: str,
        *,
        sort_attribute: str = "cn",
        offset: int = 1,
        after: int = 9,
        attributes: Sequence[str] = (),
    ) -> VlvPage:
        """One Virtual List View window (draft-ietf-ldapext-ldapv3-vlv-09): ``after`` entries after the
        entry at ``offset`` (1-based) of the result sorted by ``sort_attribute`` (RFC 2891 sort control,
        which VLV requires). Both controls are critical, as AD Connector sends them: a DC that cannot
        do VLV answers ``unavailableCriticalExtension`` instead of ignoring the request."""
        import ldap3
        from ldap3.core.exceptions import LDAPException

        controls = [
            (SORT_REQUEST_OID, True, encode_sort_request(sort_attribute)),
            (VLV_REQUEST_OID, True, encode_vlv_request(before=0, after=after, offset=offset)),
        ]
        try:
            self._conn.search(
                search_base=base,
                search_filter=filter_,
                search_scope=ldap3.SUBTREE,
                attributes=list(attributes) or [ldap3.NO_ATTRIBUTES],
                controls=controls,
            )
        except (LDAPException, _NotLdap) as e:
            raise _as_error(e, doing=f"VLV search of {base}", peer=self._peer) from e
        entries = tuple(
            Entry(
                dn=item["dn"],
                attributes={k: v if isinstance(v, list) else [v] for k, v in item["attributes"].items()},
            )
            for item in self._conn.response or ()
            if item.get("type") == "searchResEntry"
        )
        response_controls = self._conn.result.get("controls") or {}
        raw = response_controls.get(VLV_RESPONSE_OID, {}).get("value")
        return VlvPage(entries, decode_vlv_response(raw) if isinstance(raw, bytes) else None)

    # --- writes ------------------------------------------------------------------------------------

    def _write(self, op: str, dn: str, call: Any) -> None:
        from ldap3.core.exceptions import LDAPException

        try:
            ok = call()
        except (LDAPException, _NotLdap) as e:
            raise _as_error(e, doing=f"{op} {dn}", peer=self._peer) from e
        if not ok:
            r = self._conn.result
            raise _as_error(_ResultError(r), doing=f"{op} {dn}")

    def add(self, dn: str, object_class: Sequence[str], attributes: Mapping[str, Any]) -> None:
        self._write("Creating", dn, lambda: self._conn.add(dn, list(object_class), dict(attributes)))

    def modify(
        self,
        dn: str,
        changes: Mapping[str, list[tuple[str, list[Any]]]],
        *,
        controls: Sequence[Any] | None = None,
    ) -> None:
        """``changes``: attribute → [("add"|"delete"|"replace", values)]."""
        import ldap3

        ops = {"add": ldap3.MODIFY_ADD, "delete": ldap3.MODIFY_DELETE, "replace": ldap3.MODIFY_REPLACE}
        ldap_changes = {attr: [(ops[o], vals) for o, vals in specs] for attr, specs in changes.items()}
        ctl = list(controls) if controls else None
        self._write("Modifying", dn, lambda: self._conn.modify(dn, ldap_changes, controls=ctl))

    def write_security_descriptor(
        self, dn: str, blob: bytes, *, sd_flags: int = DACL_SECURITY_INFORMATION
    ) -> None:
        from ldap3.protocol.microsoft import security_descriptor_control

        controls = list(security_descriptor_control(sdflags=sd_flags))
        self.modify(dn, {"nTSecurityDescriptor": [("replace", [blob])]}, controls=controls)

    def move(self, dn: str, relative: str, new_superior: str) -> None:
        """Move ``dn`` under ``new_superior`` with the RDN ``relative`` (its own, to keep the name):
        RFC 4511 4.9 ModifyDN with newSuperior, the old RDN value deleted."""
        self._write(
            "Moving",
            dn,
            lambda: self._conn.modify_dn(dn, relative, delete_old_dn=True, new_superior=new_superior),
        )

    def delete(self, dn: str) -> None:
        self._write("Deleting", dn, lambda: self._conn.delete(dn))

    def set_password(self, dn: str, password: Secret) -> None:
        """Set ``unicodePwd`` (MS-ADTS 3.1.1.3.1.5.2: the quoted password in UTF-16LE; needs TLS)."""
        value = f'"{password.reveal()}"'.encode("utf-16-le")
        self._write(
            "Setting the password of",
            dn,
            lambda: self._conn.modify(dn, {"unicodePwd": [(_replace(), [value])]}),
        )

    @property
    def raw_connection(self) -> Any:
        """The ldap3 connection, for the benchmarks' set-up and clean-up only (a tree delete, a rebind):
        adprep itself goes through the methods above, which turn ldap3's errors into adprep's."""
        return self._conn


@dataclass(frozen=True)
class VlvPage:
    """One VLV window: the entries, and the response control (None if the DC sent none)."""

    entries: tuple[Entry, ...]
    response: VlvResponse | None


def _replace() -> Any:
    import ldap3

    return ldap3.MODIFY_REPLACE


class _ResultError(Exception):
    def __init__(self, result: Mapping[str, Any]) -> None:
        super().__init__(result.get("message") or result.get("description"))
        self.result = result.get("result")
        self.description = result.get("description")
        self.message = result.get("message")


def _server(target: LdapTarget) -> Any:
    import ldap3

    tls = None
    if target.mode in ("ldaps", "starttls"):
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED if target.verify else ssl.CERT_NONE,
            ca_certs_file=target.ca_file,
            valid_names=[target.server_name] if target.server_name else None,
            version=None,
        )
    return ldap3.Server(
        target.address,
        port=target.effective_port,
        use_ssl=target.mode == "ldaps",
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=target.timeout,
    )


def connect(target: LdapTarget, *, user: str | None = None, password: Secret | None = None) -> LdapSession:
    """Connect and bind (simple bind as ``user``, or anonymously when no user is given)."""
    import ldap3
    from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError, LDAPStartTLSError

    where = f"{target.address}:{target.effective_port}"
    try:
        conn = ldap3.Connection(
            _server(target),
            user=user,
            password=password.reveal() if password is not None else None,
            authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS,
            receive_timeout=max(1, math.ceil(target.timeout)),  # ldap3 packs it as an integer
            raise_exceptions=True,
            auto_referrals=False,
            read_only=False,
        )
        _bound_reads(conn, target.timeout)
        conn.open()
        if target.mode == "starttls":
            conn.start_tls()
        if user:
            conn.bind()
    except LDAPSocketOpenError as e:
        text = str(e)
        if "doesn't match" in text:
            names = _certificate_names(text)
            named = ", ".join(names) or "other names"
            raise LdapError(
                f"The TLS certificate of {where} is for {named}, not for {target.server_name or target.address}",
                hint=f"Pass --dc-name {names[0]} (the DC's host name as the certificate has it)."
                if names
                else "Pass --dc-name with the DC's host name as its certificate has it.",
                error_reason=ErrorReason.TLS,
            ) from e
        if "unexpected_eof" in text.lower() or "eof occurred in violation" in text.lower():
            raise LdapError(
                f"{where} closed the connection in the middle of the TLS handshake: a reply cut short, so not "
                f"LDAPS, or a server that refuses this client ({_short(text)})",
                hint=f"Check that {where} is a domain controller's LDAPS port and that its certificate is installed",
                error_reason=ErrorReason.MALFORMED,
            ) from e
        if any(sign in text.lower() for sign in _NOT_TLS):
            raise LdapError(
                f"{where} answered the TLS handshake with something that is not TLS: a malformed reply, so "
                f"not LDAPS ({_short(text)})",
                hint=f"Check that {where} is a domain controller's LDAPS port, not another service; or use "
                "--ldap-mode starttls (389) if the DC has no LDAPS",
                error_reason=ErrorReason.MALFORMED,
            ) from e
        if "certificate" in text.lower() or "ssl" in text.lower():
            raise LdapError(
                f"The TLS certificate of {where} could not be verified ({_short(text)})",
                hint="Pass --ca-file with the CA that signed the DC's certificate, or fix the certificate.",
                error_reason=ErrorReason.TLS,
            ) from e
        raise TransportError(
            f"Cannot connect to LDAP at {where}: {_short(text)}",
            hint="Check TCP reachability.",
            error_reason=ErrorReason.TIMEOUT if "timed out" in text.lower() else ErrorReason.UNREACHABLE,
        ) from e
    except LDAPStartTLSError as e:
        raise LdapError(
            f"StartTLS with {where} failed: {_short(str(e))}",
            hint="Use LDAPS (636) or fix TLS.",
            error_reason=ErrorReason.TLS,
        ) from e
    except (LDAPException, _NotLdap) as e:
        # Not chained: the cause is ldap3's own exception, whose text _as_error scrubs of the password in
        # case a library echoed it; a chained cause would carry it unscrubbed into a --debug traceback.
        raise _as_error(
            e, doing=f"Binding to {where} as {user or 'anonymous'}", secret=password, peer=where
        ) from None
    return LdapSession(conn, target, user)


#: OpenSSL's words for a peer whose bytes are not TLS records (as opposed to a certificate it rejects).
_NOT_TLS = ("wrong version number", "record layer failure", "packet length too long", "unknown protocol")


def _certificate_names(text: str) -> list[str]:
    """The host names a certificate carries, from ldap3's mismatch message (subject CN, DNS SANs)."""
    found = re.findall(r"\('commonName', '([^']+)'\)|\('DNS', '([^']+)'\)", text)
    return list(dict.fromkeys(cn or dns for cn, dns in found))


def _short(text: str) -> str:
    return " ".join(text.split())[:300]


def read_root_dse(target: LdapTarget) -> Entry:
    """The rootDSE, read anonymously (AD allows this without TLS)."""
    session = connect(target)
    with session:
        entry = session.get(
            "",
            (
                "defaultNamingContext", "configurationNamingContext", "schemaNamingContext", "rootDomainNamingContext",
                "forestFunctionality", "domainFunctionality", "domainControllerFunctionality", "currentTime",
                "dnsHostName", "serverName", "supportedControl", "supportedSASLMechanisms", "isGlobalCatalogReady",
                "supportedLDAPPolicies",
            ),
        )  # fmt: skip
    if entry is None:
        raise TransportError(f"{target.address} returned no rootDSE", hint="Is it an LDAP server?")
    return entry
