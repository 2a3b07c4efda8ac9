"""Kerberos logins: ask a KDC for a ticket-granting ticket as an account (AS-REQ with pre-authentication).

AD Connector authenticates its service account with Kerberos, so a TGT obtained here proves what an
LDAP simple bind does not: the KDC accepts the account's password, an encryption type both sides
support, and this host's clock. impacket speaks the protocol (RFC 4120 AS exchange); its KDC client
has no timeout, so the exchange runs in a worker thread bounded by one, after a bounded TCP check.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from adprep.errors import reason_of
from adprep.model import ErrorReason
from adprep.secret import Secret

#: RFC 4120 section 7.5.9 error codes a login can meet, with what they mean for the account.
KDC_ERRORS: dict[int, str] = {
    6: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
    12: "KDC_ERR_POLICY",
    14: "KDC_ERR_ETYPE_NOSUPP",
    18: "KDC_ERR_CLIENT_REVOKED",
    23: "KDC_ERR_KEY_EXPIRED",
    24: "KDC_ERR_PREAUTH_FAILED",
    37: "KRB_AP_ERR_SKEW",
    68: "KDC_ERR_WRONG_REALM",
}


@dataclass(frozen=True)
class KerberosLogin:
    """What one AS exchange for an account ended with."""

    kdc: str
    principal: str
    ok: bool
    elapsed_ms: float
    error_code: int | None = None
    error_name: str | None = None
    problem: str | None = None
    """Why no exchange happened (unreachable KDC, timeout), when it did not."""
    problem_reason: ErrorReason | None = None
    """With ``problem``: its kind (the ``reason`` of the check's ``error`` result)."""


def kerberos_login(kdc: str, realm: str, user: str, password: Secret, *, timeout: float) -> KerberosLogin:
    """Request a TGT for ``user@realm`` from ``kdc`` over TCP 88, within ``timeout`` seconds."""
    principal = f"{user}@{realm.upper()}"
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    try:
        with socket.create_connection((kdc, 88), timeout=timeout):
            pass
    except OSError as e:
        return KerberosLogin(kdc, principal, False, elapsed(), problem=f"TCP 88 on {kdc} did not accept: {e}",
                             problem_reason=reason_of(e))  # fmt: skip

    outcome: list[KerberosLogin] = []

    def exchange() -> None:
        from impacket.krb5 import constants
        from impacket.krb5.kerberosv5 import KerberosError, getKerberosTGT
        from impacket.krb5.types import Principal

        try:
            name = Principal(user, type=constants.PrincipalNameType.NT_PRINCIPAL.value)
            getKerberosTGT(name, password.reveal(), realm.upper(), "", "", kdcHost=kdc)
            outcome.append(KerberosLogin(kdc, principal, True, elapsed()))
        except KerberosError as e:
            code = int(e.getErrorCode())
            outcome.append(
                KerberosLogin(
                    kdc,
                    principal,
                    False,
                    elapsed(),
                    error_code=code,
                    error_name=KDC_ERRORS.get(code, f"error {code}"),
                )
            )
        except Exception as e:  # impacket raises plain exceptions for socket and decoding trouble
            outcome.append(
                KerberosLogin(kdc, principal, False, elapsed(), problem=f"{type(e).__name__}: {e}")
            )

    worker = threading.Thread(target=exchange, name="adprep-kerberos", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return KerberosLogin(
            kdc, principal, False, elapsed(), problem=f"no answer from the KDC within {timeout:g} s",
            problem_reason=ErrorReason.TIMEOUT,
        )  # fmt: skip
    return outcome[0]
