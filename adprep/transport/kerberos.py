"""Kerberos logins: ask a KDC for a ticket-granting ticket as an account (AS-REQ with pre-authentication).

AD Connector authenticates its service account with Kerberos, so a TGT obtained here proves what an
LDAP simple bind does not: the KDC accepts the account's password, an encryption type both sides
support, and this host's clock. impacket speaks the protocol (RFC 4120 AS exchange); its KDC client
has no timeout, so the exchange runs in a worker thread bounded by one, after a bounded TCP check.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

from adprep.errors import reason_of
from adprep.facts.account import KerberosLogin
from adprep.model import ErrorReason
from adprep.secret import Secret

#: The largest KDC reply adprep reads over TCP. RFC 4120 §7.2.2 frames a reply with a four-byte length,
#: so a peer could announce 2 GiB; a real AS-REP or KRB-ERROR is a few kilobytes.
MAX_KDC_REPLY = 1 << 20

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


class KdcReplyError(Exception):
    """The KDC's TCP reply was cut short, too long, late, or not Kerberos."""


#: The deadline (``time.monotonic()``) of the login running on this thread.
_deadline = threading.local()


def _send_receive_bounded(data: bytes, host: str, kdcHost: str | None, port: int = 88) -> bytes:
    """impacket's ``kerberosv5.sendReceive``, bounded: impacket's has no timeout, allocates whatever
    length the peer announces and spins for ever on a connection closed half-way. Same contract:
    the reply's bytes, or impacket's ``KerberosError`` for a KRB-ERROR other than PREAUTH_REQUIRED."""
    from impacket.krb5 import constants
    from impacket.krb5.asn1 import KRB_ERROR
    from impacket.krb5.kerberosv5 import KerberosError
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error

    deadline: float = getattr(_deadline, "at", time.monotonic() + 30)

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KdcReplyError("no whole reply from the KDC in time")
        return remaining

    received = 0

    def read(sock: socket.socket, count: int) -> bytes:
        nonlocal received
        got = b""
        while len(got) < count:
            sock.settimeout(left())
            try:
                chunk = sock.recv(min(count - len(got), 65536))
            except TimeoutError:
                if received:  # bytes came, too slowly to make a reply in time
                    raise KdcReplyError(f"{received} bytes came, and no whole reply in time") from None
                raise
            received += len(chunk)
            if not chunk:
                raise KdcReplyError(f"the KDC closed the connection after {len(got)} of {count} bytes")
            got += chunk
        return got

    with socket.create_connection((kdcHost or host, port), timeout=left()) as sock:
        sock.sendall(len(data).to_bytes(4, "big") + data)
        size = int.from_bytes(read(sock, 4), "big")
        if size > MAX_KDC_REPLY:
            raise KdcReplyError(f"a reply of {size} bytes announced, more than adprep reads")
        reply = read(sock, size)
    try:
        error = KerberosError(packet=decoder.decode(reply, asn1Spec=KRB_ERROR())[0])
    except PyAsn1Error:
        return reply  # not a KRB-ERROR: the caller decodes it as an AS-REP (or fails to)
    if error.getErrorCode() != constants.ErrorCodes.KDC_ERR_PREAUTH_REQUIRED.value:
        raise error
    return reply


def kerberos_login(kdc: str, realm: str, user: str, password: Secret, *, timeout: float) -> KerberosLogin:
    """Request a TGT for ``user@realm`` from ``kdc`` over TCP 88, within ``timeout`` seconds."""
    principal = f"{user}@{realm.upper()}"
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    def failed(problem: str, reason: ErrorReason) -> KerberosLogin:
        """No TGT, for a reason other than the KDC's own error."""
        return KerberosLogin(kdc, principal, False, elapsed(), problem=problem, problem_reason=reason)

    try:
        with socket.create_connection((kdc, 88), timeout=timeout):
            pass
    except OSError as e:
        return failed(f"TCP 88 on {kdc} did not accept: {e}", reason_of(e))

    outcome: list[KerberosLogin] = []

    def exchange() -> None:
        from impacket.krb5 import constants, kerberosv5
        from impacket.krb5.kerberosv5 import KerberosError, getKerberosTGT
        from impacket.krb5.types import Principal
        from pyasn1.error import PyAsn1Error

        kerberosv5.sendReceive = _send_receive_bounded  # getKerberosTGT looks it up at each call
        _deadline.at = time.monotonic() + max(timeout - (time.perf_counter() - started), 0.001)
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
        except KdcReplyError as e:
            outcome.append(failed(_malformed(str(e)), ErrorReason.MALFORMED))
        except (PyAsn1Error, ValueError, IndexError, KeyError, TypeError, struct.error) as e:
            # impacket's decoding of a reply that is not an AS-REP: pyasn1's errors, or plain ones.
            outcome.append(failed(_malformed(f"{type(e).__name__}: {e}"), ErrorReason.MALFORMED))
        except OSError as e:
            outcome.append(failed(f"TCP 88 on {kdc} failed: {e}", reason_of(e)))
        except Exception as e:  # impacket raises bare Exceptions too (e.g. for an etype it lacks)
            outcome.append(failed(f"{type(e).__name__}: {e}", ErrorReason.NOT_SUPPORTED))

    worker = threading.Thread(target=exchange, name="adprep-kerberos", daemon=True)
    worker.start()
    worker.join(timeout + 0.25)  # the worker's own deadline is the same: let its sentence win
    if not outcome:
        return failed(f"no answer from the KDC within {timeout:g} s", ErrorReason.TIMEOUT)
    return outcome[0]


def _malformed(detail: str) -> str:
    return f"the KDC answered with something that is not a Kerberos reply: a malformed reply ({detail[:200]})"
