"""DCE/RPC endpoint mapper (TCP 135): which TCP ports a DC's RPC interfaces listen on.

Instead of sweeping 1024-65535, ask the endpoint mapper (MS-RPCE 2.2.1.2, ``ept_map``) for each
interface WorkSpaces and domain join use, then test those ports. impacket speaks the protocol; this
module owns the connection (with a timeout) and turns failures into facts.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

from adprep.facts.ports import EpmMapping

#: The RPC interfaces a DC serves that domain join, logon and replication use (MS-LSAD, MS-SAMR,
#: MS-NRPC, MS-DRSR), as (UUID, version).
RPC_INTERFACES: dict[str, tuple[str, str]] = {
    "LSA": ("12345778-1234-abcd-ef00-0123456789ab", "0.0"),
    "SAMR": ("12345778-1234-abcd-ef00-0123456789ac", "1.0"),
    "NETLOGON": ("12345678-1234-abcd-ef00-01234567cffb", "1.0"),
    "DRSUAPI": ("e3514235-4b06-11d1-ab04-00c04fc2dcd2", "4.0"),
}

_BINDING_PORT = re.compile(r"\[(\d+)\]")


def map_rpc_interface(address: str, interface: str, *, timeout: float) -> EpmMapping:
    """Ask ``address``'s endpoint mapper where ``interface`` listens over ncacn_ip_tcp, within ``timeout``
    seconds in all (impacket bounds each ``recv`` only, so a peer sending a byte a second would hold it)."""
    from impacket.dcerpc.v5 import epm
    from impacket.dcerpc.v5.rpcrt import DCERPCException
    from impacket.uuid import uuidtup_to_bin

    uuid, version = RPC_INTERFACES[interface]
    rpc = _bounded_transport(address, timeout)
    dce = rpc.get_dce_rpc()
    try:
        dce.connect()
        binding = epm.hept_map(address, uuidtup_to_bin((uuid, version)), protocol="ncacn_ip_tcp", dce=dce)
    except DCERPCException as e:
        text = str(e)
        if "not_registered" in text:
            # ept_s_not_registered (0x16c9a0d6): the DC does not serve this interface over TCP.
            return EpmMapping(interface, uuid, None, "not registered")
        if any(status in text for status in _RPC_STATUSES):  # a fault the endpoint mapper sent
            return EpmMapping(interface, uuid, None, f"endpoint mapper error: {text}")
        return EpmMapping(interface, uuid, None, _malformed(text))
    except OSError as e:  # refused, reset, unreachable, or no answer in time (TimeoutError)
        what = f"no whole reply within {timeout:g} s" if isinstance(e, TimeoutError) else e.strerror or str(e)
        return EpmMapping(interface, uuid, None, f"cannot query the endpoint mapper: {what}")
    # impacket's Structure raises bare Exceptions (and struct.error) on bytes it cannot parse.
    except Exception as e:
        return EpmMapping(interface, uuid, None, _malformed(f"{type(e).__name__}: {e}"))
    finally:
        # Closing a failed association is not worth reporting.
        with contextlib.suppress(Exception):
            dce.disconnect()
    match = _BINDING_PORT.search(str(binding))
    if match is None:
        return EpmMapping(interface, uuid, None, f"unexpected binding {binding!r}")
    return EpmMapping(interface, uuid, int(match.group(1)))


#: Prefixes of the DCE/RPC status names impacket puts in the faults a real endpoint mapper sends.
_RPC_STATUSES = ("rpc_s_", "ept_s_", "nca_s_", "rpc_x_")


def _malformed(detail: str) -> str:
    text = " ".join(detail.split())[:160]
    return f"the endpoint mapper answered with something that is not DCE/RPC: a malformed reply ({text})"


#: What one endpoint-mapper query may read in all (a bind_ack and an ept_map reply are well under 4 KiB).
MAX_EPM_REPLY = 1 << 20


def _bounded_transport(address: str, timeout: float) -> Any:
    """An impacket ncacn_ip_tcp transport to ``address``:135 whose reads end ``timeout`` seconds after
    the connect began, whatever the peer sends (TimeoutError then), and stop at :data:`MAX_EPM_REPLY`
    bytes in all."""
    from impacket.dcerpc.v5.rpcrt import DCERPCException
    from impacket.dcerpc.v5.transport import TCPTransport

    class BoundedTransport(TCPTransport):  # type: ignore[misc]
        deadline = 0.0
        received = 0

        def connect(self) -> Any:
            self.deadline = time.monotonic() + timeout
            return super().connect()

        def recv(self, forceRecv: int = 0, count: int = 0) -> bytes:
            sock = self.get_socket()
            buffer = b""
            while True:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("timed out")
                sock.settimeout(left)
                chunk = sock.recv(count - len(buffer) if count else 8192)
                if not chunk:
                    raise DCERPCException("the peer closed the connection before a whole reply came")
                buffer += bytes(chunk)
                self.received += len(chunk)
                if self.received > MAX_EPM_REPLY:  # impacket gathers fragments up to the last one
                    raise DCERPCException(f"more than {MAX_EPM_REPLY} bytes from the endpoint mapper")
                if not count or len(buffer) >= count:
                    return buffer

    rpc = BoundedTransport(address, 135)
    rpc.set_connect_timeout(timeout)
    return rpc
