"""DCE/RPC endpoint mapper (TCP 135): which TCP ports a DC's RPC interfaces listen on.

Instead of sweeping 1024-65535, ask the endpoint mapper (MS-RPCE 2.2.1.2, ``ept_map``) for each
interface WorkSpaces and domain join use, then test those ports. impacket speaks the protocol; this
module owns the connection (with a timeout) and turns failures into facts.
"""

from __future__ import annotations

import contextlib
import re

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
    """Ask ``address``'s endpoint mapper where ``interface`` listens over ncacn_ip_tcp."""
    from impacket.dcerpc.v5 import epm, transport
    from impacket.dcerpc.v5.rpcrt import DCERPCException
    from impacket.uuid import uuidtup_to_bin

    uuid, version = RPC_INTERFACES[interface]
    rpc = transport.DCERPCTransportFactory(f"ncacn_ip_tcp:{address}[135]")
    rpc.set_connect_timeout(timeout)
    dce = rpc.get_dce_rpc()
    try:
        dce.connect()
        binding = epm.hept_map(address, uuidtup_to_bin((uuid, version)), protocol="ncacn_ip_tcp", dce=dce)
    except DCERPCException as e:
        # ept_s_not_registered (0x16c9a0d6): the DC does not serve this interface over TCP.
        text = "not registered" if "not_registered" in str(e) else f"endpoint mapper error: {e}"
        return EpmMapping(interface, uuid, None, text)
    except Exception as e:  # impacket raises plain Exceptions for socket trouble
        return EpmMapping(interface, uuid, None, f"cannot query the endpoint mapper: {type(e).__name__}: {e}")
    finally:
        # Closing a failed association is not worth reporting.
        with contextlib.suppress(Exception):
            dce.disconnect()
    match = _BINDING_PORT.search(str(binding))
    if match is None:
        return EpmMapping(interface, uuid, None, f"unexpected binding {binding!r}")
    return EpmMapping(interface, uuid, int(match.group(1)))
