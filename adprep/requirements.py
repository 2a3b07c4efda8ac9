"""AD Connector's requirements, as data, in one place.

Sources are cited beside each fact by their public titles; ``docs/sources.md`` lists them with the
facts each supports. Short names used below: "WorkSpaces guide (2016)" is the Amazon WorkSpaces
Administration Guide (2016); "DS guide" is the current AWS Directory Service Administration Guide;
"ds API" is the AWS Directory Service API Reference (ConnectDirectory, RadiusSettings). When AWS
changes a limit, change it here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# --- Ports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortProfile:
    """A named set of ports AD Connector or WorkSpaces needs open towards the DCs."""

    name: str
    tcp: tuple[int, ...]
    udp: tuple[int, ...]
    source: str
    """The public title and section the list comes from."""
    purpose: str
    """What a green run of this profile proves, in a few words (the report's scope line)."""
    icmp: bool = False
    """Also send each DC an ICMP echo (where this host allows ICMP sockets)."""
    advisory_tcp: tuple[int, ...] = ()
    """Ports the source lists but AD Connector does not need: not open is a warning, not a failure."""
    advisory_udp: tuple[int, ...] = ()


#: The profile that covers everything WorkSpaces needs towards the DCs: the yardstick of a run's scope.
WORKSPACES_PROFILE: Final = "workspaces"

PORT_PROFILES: Final[dict[str, PortProfile]] = {
    p.name: p
    for p in (
        # DS guide, "AD Connector prerequisites" (Getting started with AD Connector): the minimum.
        PortProfile(
            "adc-minimum",
            tcp=(53, 88, 389),
            udp=(53, 88, 389),
            source="AWS Directory Service Administration Guide, AD Connector prerequisites",
            purpose="AD Connector's minimum",
        ),
        # WorkSpaces guide (2016), "Connect Verification": the DirectoryServicePortTest command line.
        PortProfile(
            "legacy-2016",
            tcp=(53, 88, 135, 389, 445, 3268, 5722, 9389),
            udp=(53, 88, 123, 138, 389, 445),
            source="Amazon WorkSpaces Administration Guide (2016), Connect Verification (DirectoryServicePortTest)",
            purpose="the 2016 guide's DirectoryServicePortTest list",
            # DFS-R (5722) and AD Web Services (9389) serve DC-to-DC and PowerShell tooling, not AD Connector.
            advisory_tcp=(5722, 9389),
            # NTP on the DCs matters to WorkSpaces clients (the workspaces profiles), not to AD Connector.
            advisory_udp=(123,),
        ),
        # WorkSpaces guide (2016), "Preparing Your Network for an AD Connector Directory: Requirements"
        # (the same list as "Amazon WorkSpaces Concepts: Primary Interface Ports"). Its TCP 1024-65535
        # (dynamic RPC) is tested through the endpoint mapper on TCP 135, not by a sweep.
        PortProfile(
            "workspaces-dc",
            tcp=(53, 88, 135, 139, 389, 445),
            udp=(53, 88, 123, 137, 138, 389, 445),
            source="Amazon WorkSpaces Administration Guide (2016), Preparing Your Network for an AD Connector "
            "Directory: Requirements",
            purpose="the WorkSpaces primary interface's ports",
        ),
        # WorkSpaces' whole list: the Requirements above, plus what "Amazon WorkSpaces Concepts:
        # WorkSpaces Security Group" opens towards the directory controllers (TCP/UDP 464, TCP 636,
        # TCP 3268-3269, ICMP), so that a green run covers joining computers and logging users on.
        PortProfile(
            WORKSPACES_PROFILE,
            tcp=(53, 88, 135, 139, 389, 445, 464, 636, 3268, 3269),
            udp=(53, 88, 123, 137, 138, 389, 445, 464),
            source="Amazon WorkSpaces Administration Guide (2016), Requirements (Preparing Your Network for an "
            "AD Connector Directory) and WorkSpaces Security Group (Amazon WorkSpaces Concepts)",
            purpose="everything WorkSpaces needs to join computers and log users on",
            icmp=True,
        ),
    )
}
DEFAULT_PORT_PROFILE: Final = "adc-minimum"

#: What each well-known port is, for titles and remedies.
PORT_SERVICES: Final[dict[tuple[str, int], str]] = {
    ("tcp", 53): "DNS",
    ("udp", 53): "DNS",
    ("tcp", 88): "Kerberos",
    ("udp", 88): "Kerberos",
    ("tcp", 123): "NTP",
    ("udp", 123): "NTP",
    ("tcp", 135): "RPC endpoint mapper",
    ("udp", 137): "NetBIOS name service",
    ("udp", 138): "NetBIOS datagram service",
    ("tcp", 139): "NetBIOS session service",
    ("tcp", 389): "LDAP",
    ("udp", 389): "CLDAP (LDAP ping)",
    ("tcp", 445): "SMB",
    ("udp", 445): "SMB over UDP (not a real service)",
    ("tcp", 464): "Kerberos password change",
    ("udp", 464): "Kerberos password change",
    ("tcp", 636): "LDAPS",
    ("tcp", 3268): "Global Catalog",
    ("tcp", 3269): "Global Catalog over TLS",
    ("tcp", 5722): "DFS-R (SYSVOL replication, RPC)",
    ("tcp", 9389): "Active Directory Web Services",
    ("udp", 1812): "RADIUS",
}

#: UDP ports with no request/response protocol: no probe can prove them open.
UNVERIFIABLE_UDP: Final[dict[int, str]] = {
    138: "NetBIOS datagrams have no reply, so nothing can prove UDP 138 open from outside.",
    445: "SMB is a TCP service; nothing answers on UDP 445, so it cannot be proven open.",
    1812: "A RADIUS server answers only registered clients that sign with the shared secret: probe it with "
    "'adprep radius check', which knows the secret.",
}


def port_service(proto: str, port: int) -> str:
    """A short name for the service on ``proto``/``port`` (``"port 4711"`` if unknown)."""
    return PORT_SERVICES.get((proto, port), f"port {port}")


# --- AD Connector's error texts (verbatim: WorkSpaces guide (2016) Troubleshooting; the DS guide) -----

ADC_DNS_UNAVAILABLE: Final = "DNS unavailable (TCP port 53) for IP: {ip}"
ADC_CONNECTIVITY: Final = (
    "Connectivity issues detected: LDAP unavailable (TCP port 389) for IP: {ip} Kerberos/authentication "
    "unavailable (TCP port 88) for IP: {ip} Please ensure that the listed ports are available and retry "
    "the operation."
)
ADC_SRV_LDAP_MISSING: Final = "SRV record for LDAP does not exist for IP: {ip}"
ADC_SRV_KERBEROS_MISSING: Final = "SRV record for Kerberos does not exist for IP: {ip}"
ADC_INVALID_CREDENTIALS: Final = (
    "Configuration issues detected: Invalid credentials (bad username/password) for IP: {ip}. Please verify "
    "existing configuration and retry the operation."
)
ADC_INTERNAL_ERROR: Final = "An internal service error has been encountered while connecting the directory. Please retry the operation."
ADC_SERVICE_ACCOUNT: Final = (
    "An error occurred. There was an error with the service account/password combination. Please try again."
)


def adc_error_for_port(proto: str, port: int, ip: str) -> str | None:
    """The AD Connector error a closed/filtered port on a DC would cause, if there is one."""
    if proto == "tcp" and port == 53:
        return ADC_DNS_UNAVAILABLE.format(ip=ip)
    if proto == "tcp" and port in (88, 389):
        return ADC_CONNECTIVITY.format(ip=ip)
    if proto == "udp" and port in (53, 88, 389):
        # AD Connector's texts name only TCP; a UDP failure surfaces as the generic internal error.
        return ADC_INTERNAL_ERROR
    return None


# --- DNS / discovery (DS guide; MS-ADTS 6.3.2.3: DC locator SRV records) ---------------------------

SRV_LDAP_TCP: Final = "_ldap._tcp.{domain}"
SRV_KERBEROS_TCP: Final = "_kerberos._tcp.{domain}"
SRV_LDAP_MSDCS: Final = "_ldap._tcp.dc._msdcs.{domain}"
SRV_KERBEROS_UDP: Final = "_kerberos._udp.{domain}"
SRV_GC_TCP: Final = "_gc._tcp.{domain}"
SRV_SITE_LDAP: Final = "_ldap._tcp.{site}._sites.{domain}"

#: How many DNS server IPs AD Connector accepts (ds API: ConnectDirectory CustomerDnsIps).
MAX_DNS_IPS: Final = 2

# --- Directory ------------------------------------------------------------------------------------

#: MS-ADTS 6.1.4.4 (msDS-Behavior-Version). 2019 and 2022 added no level.
FUNCTIONAL_LEVELS: Final[dict[int, str]] = {
    0: "Windows 2000",
    1: "Windows Server 2003 interim",
    2: "Windows Server 2003",
    3: "Windows Server 2008",
    4: "Windows Server 2008 R2",
    5: "Windows Server 2012",
    6: "Windows Server 2012 R2",
    7: "Windows Server 2016",
    10: "Windows Server 2025",
}
#: AD Connector needs forest and domain functional level Windows Server 2003 or higher.
MIN_FUNCTIONAL_LEVEL: Final = 2

#: Kerberos' default maximum clock skew (MIT and Windows): 5 minutes.
MAX_TIME_SKEW_S: Final = 300.0
WARN_TIME_SKEW_S: Final = 60.0

#: Above this many users, AD Connector's VLV searches need a CN subtree index (or MaxTempTableSize).
VLV_LARGE_DIRECTORY_USERS: Final = 100_000
SEARCH_FLAG_SUBTREE_INDEX: Final = 0x40

#: The attributes each user must be able to read on itself (WorkSpaces guide (2016); DS guide).
USER_READ_ATTRIBUTES: Final = (
    "givenName",
    "sn",
    "mail",
    "sAMAccountName",
    "userPrincipalName",
    "userAccountControl",
    "memberOf",
)

#: ds API: ConnectDirectory UserName pattern.
SERVICE_ACCOUNT_NAME_PATTERN: Final = r"[a-zA-Z0-9._-]+"
#: ds API: the password field 1-128; the console asks 8-128 with 3 of 4 character classes.
PASSWORD_MIN_API: Final = 1
PASSWORD_MIN_CONSOLE: Final = 8
PASSWORD_MAX: Final = 128
#: sAMAccountName is limited to 20 characters for users (MS-ADTS 3.1.1.5.2.2).
SAM_ACCOUNT_NAME_MAX: Final = 20
#: A group's sAMAccountName: up to 256 characters (MS-ADA3 SAM-Account-Name rangeUpper), same forbidden set.
GROUP_NAME_MAX: Final = 256
#: Amazon WorkSpaces API Reference, WorkspaceRequest: UserName is 1-63 characters.
WORKSPACES_USER_NAME_MAX: Final = 63

# --- Delegation (WorkSpaces guide (2016): "Delegating Connect Privileges"; MS-ADTS schema GUIDs) -----

DELEGATION_GROUP: Final = "WorkSpaces_Connectors"
SCHEMA_GUID_USER: Final = "bf967aba-0de6-11d0-a285-00aa003049e2"
SCHEMA_GUID_COMPUTER: Final = "bf967a86-0de6-11d0-a285-00aa003049e2"

# --- RADIUS MFA (ds API: RadiusSettings; WorkSpaces guide (2016) for the 2016 limits) -------------

RADIUS_PORT_MIN: Final = 1025
RADIUS_PORT_MAX: Final = 65535
RADIUS_PORT_DEFAULT: Final = 1812
RADIUS_TIMEOUT_MIN: Final = 1
RADIUS_TIMEOUT_MAX: Final = 50
RADIUS_TIMEOUT_FAILOVER_MAX: Final = 20
"""The WorkSpaces guide (2016) allowed 1-20 s; above 20 s AD Connector does not fail over to the next server."""
RADIUS_RETRIES_MIN: Final = 0
RADIUS_RETRIES_MAX: Final = 10
RADIUS_SECRET_MIN: Final = 8
RADIUS_SECRET_MAX: Final = 512
RADIUS_SERVER_MAX_LEN: Final = 256
RADIUS_PROTOCOLS: Final = ("PAP", "CHAP", "MS-CHAPv1", "MS-CHAPv2")
#: The user name AWS sends when it checks a RADIUS server on enablement.
RADIUS_PROBE_USER: Final = "fakeusername"

# --- GPO (MS-GPOL, MS-GPREG; WorkSpaces guide (2016): "Using Group Policy") -------------------------

REGISTRY_CSE_GUID: Final = "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
REGISTRY_TOOL_GUID: Final = "{D02B1F72-3407-11D1-B5D6-00C04FB9620D}"
PCOIP_KEY_DEFAULTS: Final = r"Software\Policies\Teradici\PCoIP\pcoip_admin_defaults"
PCOIP_KEY_ENFORCED: Final = r"Software\Policies\Teradici\PCoIP\pcoip_admin"
LOGON_BANNER_KEY: Final = r"Software\Microsoft\Windows\CurrentVersion\Policies\System"
LOGON_BANNER_VALUES: Final = ("LegalNoticeCaption", "LegalNoticeText")
#: WorkSpaces guide (2016), "Using Group Policy to Manage WorkSpaces and Users": some settings log users
#: off when they disconnect. Microsoft's "Session Time Limits" policies (Remote Desktop Services >
#: Remote Desktop Session Host) write these REG_DWORD values, time limits in milliseconds (0 = never).
RDS_POLICY_KEY: Final = r"Software\Policies\Microsoft\Windows NT\Terminal Services"
RDS_MAX_DISCONNECTION: Final = "MaxDisconnectionTime"
"""'Set time limit for disconnected sessions': a disconnected session is ended (logged off) after this."""
RDS_MAX_IDLE: Final = "MaxIdleTime"
"""'Set time limit for active but idle Remote Desktop Services sessions'."""
RDS_MAX_CONNECTION: Final = "MaxConnectionTime"
"""'Set time limit for active Remote Desktop Services sessions'."""
RDS_END_AT_LIMIT: Final = "fResetBroken"
"""'End session when time limits are reached': 1 ends (logs off) instead of disconnecting at a limit."""
