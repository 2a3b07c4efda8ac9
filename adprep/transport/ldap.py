"""LDAP transport: the one place that holds an ldap3 ``Connection``.

Connections are LDAPS (636) or StartTLS (389) with certificate verification by default; plain LDAP
only when asked. The certificate is checked against the DC's host name (``server_name``), so callers
can connect by address. ldap3's exceptions become :class:`adprep.errors.LdapError` with a sentence
(and the AD sub-code, e.g. ``data 775``) a person can act on; passwords never reach a message.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from adprep.errors import LdapError, TransportError
from adprep.secrets import Secret

LdapMode = Literal["ldaps", "starttls", "plain"]
Scope = Literal["base", "one", "sub"]

#: LDAP_SERVER_SD_FLAGS_OID (MS-ADTS 3.1.1.3.4.1.11): ask for the DACL only (value 4).
SD_FLAGS_OID = "1.2.840.113556.1.4.801"
DACL_SECURITY_INFORMATION = 0x4


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
        values = self.attributes.get(name) or []
        return values[0] if values else default

    def all(self, name: str) -> list[Any]:
        return list(self.attributes.get(name) or [])


def _explain(code: int | None, message: str | None, fallback: str) -> tuple[str, str | None]:
    try:
        from adprep.ad.ldap_errors import explain_ldap_error
    except ImportError:  # pragma: no cover - during bootstrap only
        return fallback, None
    e = explain_ldap_error(code, message)
    return e.sentence, e.hint


def _as_error(exc: Exception, *, doing: str, secret: Secret | None = None) -> LdapError:
    """Turn an ldap3 exception into an LdapError; scrub the password if a library echoed it."""
    result = getattr(exc, "result", None)
    code = result if isinstance(result, int) else None
    description = getattr(exc, "description", None)
    message = getattr(exc, "message", None) or str(exc)
    if secret is not None and secret.reveal() and secret.reveal() in message:
        message = message.replace(secret.reveal(), "<secret>")
    sentence, hint = _explain(code, message, str(description or message))
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
        except LDAPException as e:
            raise _as_error(e, doing=f"Searching {base}") from None

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

    # --- writes ------------------------------------------------------------------------------------

    def _write(self, op: str, dn: str, call: Any) -> None:
        from ldap3.core.exceptions import LDAPException

        try:
            ok = call()
        except LDAPException as e:
            raise _as_error(e, doing=f"{op} {dn}") from None
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
        """The ldap3 connection, for transports that build on it (never for checks)."""
        return self._conn


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
        conn.open()
        if target.mode == "starttls":
            conn.start_tls()
        if user:
            conn.bind()
    except LDAPSocketOpenError as e:
        text = str(e)
        if "certificate" in text.lower() or "ssl" in text.lower():
            raise LdapError(
                f"The TLS certificate of {where} could not be verified ({_short(text)})",
                hint="Give the DC's host name (it must match the certificate) and --ca-file with your CA, "
                "or fix the DC's certificate.",
            ) from None
        raise TransportError(
            f"Cannot connect to LDAP at {where}: {_short(text)}", hint="Check TCP reachability."
        ) from None
    except LDAPStartTLSError as e:
        raise LdapError(
            f"StartTLS with {where} failed: {_short(str(e))}", hint="Use LDAPS (636) or fix TLS."
        ) from None
    except LDAPException as e:
        raise _as_error(e, doing=f"Binding to {where} as {user or 'anonymous'}", secret=password) from None
    return LdapSession(conn, target, user)


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
