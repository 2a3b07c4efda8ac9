"""The catalogue of checks: every check id adprep emits, declared once.

Each :class:`CheckSpec` names an id pattern (``ports.tcp.<address>.<port>``), what the check proves,
the AD Connector error its failure causes (the texts of :mod:`adprep.requirements`), the usual remedy
and the public sources it rests on (``docs/sources.md`` lists them). Checks build their ids through
:func:`check_id` (a typo or an undeclared check raises at once), ``adprep checks`` lists the
catalogue, the README's list of checks is generated from it (``scripts/gen-readme-checks``), and the
test suite proves both directions: every id a report emits matches an entry here, and every entry is
emitted by some test.

Adding a check: declare its :class:`CheckSpec` in :data:`CATALOGUE` (in report order, within its
category), build its id with :func:`check_id` in the check, emit it in a test, and run
``scripts/gen-readme-checks``.

``python -m adprep.catalogue`` prints the catalogue as Markdown (the README's block).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from adprep import requirements as req

# --- Sources (public titles and sections; docs/sources.md lists what each supports) ------------------

_WS = "Amazon WorkSpaces Administration Guide (2016)"
_DS = "AWS Directory Service Administration Guide"
DS_PREREQUISITES = f"{_DS}, 'AD Connector prerequisites'"
DS_TROUBLESHOOTING = f"{_DS}, 'Troubleshooting AD Connector'"
WS_REQUIREMENTS = f"{_WS}, 'Preparing Your Network for an AD Connector Directory: Requirements'"
WS_CONNECT_VERIFICATION = f"{_WS}, 'Connect Verification'"
WS_SECURITY_GROUP = f"{_WS}, 'Amazon WorkSpaces Concepts: WorkSpaces Security Group'"
WS_DELEGATING = f"{_WS}, 'Delegating Connect Privileges'"
WS_MFA_PREREQUISITES = f"{_WS}, 'Multi-factor Authentication Prerequisites'"
WS_MFA = f"{_WS}, 'Managing an AD Connector Directory: Multi-factor Authentication'"
WS_GROUP_POLICY = f"{_WS}, 'Using Group Policy to Manage WorkSpaces and Users'"
WS_TROUBLESHOOTING = f"{_WS}, 'Troubleshooting'"
WS_LAUNCHING = f"{_WS}, 'Launching WorkSpaces in a Connected Directory'"
WS_RESTRICTIONS = f"{_WS}, 'Restrictions' (User Accounts)"
WS_TARGET_DOMAIN = "Amazon WorkSpaces Administration Guide, 'Target Domain and Default OU'"
API_CONNECT_DIRECTORY = "AWS Directory Service API Reference, 'ConnectDirectory'"
API_RADIUS_SETTINGS = "AWS Directory Service API Reference, 'RadiusSettings'"
WS_API_WORKSPACE_REQUEST = "Amazon WorkSpaces API Reference, 'WorkspaceRequest' (UserName)"
MS_ADTS_LEVELS = "[MS-ADTS] 6.1.4.4 (msDS-Behavior-Version)"
MS_ADTS_ROOT_DSE = "[MS-ADTS] 3.1.1.3.2 (rootDSE attributes)"
MS_ADTS_SRV = "[MS-ADTS] 6.3.2.3 (SRV records)"
MS_ADTS_LDAP_PING = "[MS-ADTS] 6.3.3 (LDAP ping), 6.3.1.9 (NETLOGON_SAM_LOGON_RESPONSE_EX)"
MS_ADTS_VLV = "[MS-ADTS] 3.1.1.3.4.7 (msDS-Other-Settings)"
MS_ADTS_INDEX = "[MS-ADTS] 2.2.9 (searchFlags), 3.1.1.3.4.6 (LDAP policies)"
MS_ADTS_UAC = "[MS-ADTS] 2.2.16 (userAccountControl)"
MS_ADTS_ACCOUNT_STATE = (
    "[MS-ADTS] 2.2.16 (userAccountControl), 3.1.1.4.5.17 (msDS-User-Account-Control-Computed)"
)
MS_ADTS_CHILD_CLASSES = "[MS-ADTS] 3.1.1.4.5.4 (allowedChildClassesEffective)"
MS_ADTS_TRUSTS = "[MS-ADTS] 6.1.6.7 (trustedDomain: trustDirection, trustType, trustAttributes)"
MS_ADTS_SITES = "[MS-ADTS] 6.1.1.2.2.1 (Sites, Subnets container)"
MS_RPCE = "[MS-RPCE] Remote Procedure Call Protocol Extensions (endpoint mapper)"
MS_GPOL = "[MS-GPOL] Group Policy: Core Protocol 3.2.5.1.3 (GPO scope); [MS-GPREG] (Registry.pol)"
RFC_DNS = "RFC 1035 (DNS over UDP and TCP); RFC 2782 (SRV)"
RFC_KERBEROS = "RFC 4120 (Kerberos) 7.5.9 (error codes)"
RFC_LDAP = "RFC 4511 (LDAP); RFC 4513 5.1.3 (simple bind)"
RFC_VLV = "RFC 2891 (server-side sort); draft-ietf-ldapext-ldapv3-vlv-09 (VLV)"
RFC_RADIUS = "RFC 2865 (RADIUS); RFC 3579 3.2 (Message-Authenticator)"
BLASTRADIUS = "CVE-2024-3596 (BlastRADIUS); RFC 3579 3.2 (Message-Authenticator)"
RFC_ICMP = "RFC 792 and RFC 4443 (ICMP echo)"
RFC_PROBES = "RFC 1035 (DNS), RFC 4120 (Kerberos AS-REQ), RFC 5905 (NTP), RFC 1002 (NBNS)"

#: The regular expression each ``<placeholder>`` of an id pattern stands for. ``<id>`` stands for any
#: other catalogued id (``drift.fixed.<id>``, ``paths.<id>``, ``target.<id>``).
PLACEHOLDERS: Mapping[str, str] = {
    "address": r"[^\s@]+",
    "port": r"[0-9]+",
    "interface": r"[a-z0-9_]+",
    "proto": r"tcp|udp",
    "record": r"ldap_msdcs|kerberos_udp|gc_tcp",
    "guid": r"[^\s.@]+",
    "label": r"[^\s@]+",
    "cidr": r"[^\s@]+",
    "server": r"[^\s@]+",
    "area": r"dns|ports|directory|radius|gpo|users|target",
    "id": r"[a-z_]+\.[^\s@]+",
}
_PLACEHOLDER = re.compile(r"<([a-z]+)>")


@dataclass(frozen=True)
class CheckSpec:
    """One check, as the catalogue declares it."""

    id: str
    """The id pattern, e.g. ``ports.tcp.<address>.<port>``; ``<name>`` parts are :data:`PLACEHOLDERS`."""
    title: str
    """What the check proves, in one line."""
    remedy: str
    """What to do when it does not pass (each result's own remedy is more precise)."""
    sources: tuple[str, ...]
    """The public titles and sections the check rests on."""
    adc_error: str | None = None
    """The AD Connector error its failure causes (verbatim, ``<address>`` for the IP), if one is known."""
    statuses: tuple[str, ...] = field(default=("pass", "fail"))
    """The statuses it can have besides ``error`` (``skip`` when it may not apply)."""

    @property
    def category(self) -> str:
        """The first component of the id (``ports``, ``dns``…); ``<area>.run`` is ``run``."""
        first = self.id.split(".", 1)[0]
        return "run" if first.startswith("<") else first

    @cached_property
    def regex(self) -> re.Pattern[str]:
        parts: list[str] = []
        at = 0
        for m in _PLACEHOLDER.finditer(self.id):
            parts.append(re.escape(self.id[at : m.start()]))
            parts.append(f"(?P<{m.group(1)}>{PLACEHOLDERS[m.group(1)]})")
            at = m.end()
        parts.append(re.escape(self.id[at:]))
        return re.compile("".join(parts))

    @cached_property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.id))

    @cached_property
    def _placeholder_set(self) -> frozenset[str]:
        return frozenset(self.placeholders)

    @cached_property
    def _template(self) -> str:
        """The id pattern as a ``str.format`` template: ``ports.tcp.{address}.{port}``."""
        return _PLACEHOLDER.sub(r"{\1}", self.id.replace("{", "{{").replace("}", "}}"))

    def matches(self, base_id: str) -> bool:
        """Whether ``base_id`` (an id without its ``@vantage``) is an instance of this check."""
        m = self.regex.fullmatch(base_id)
        if m is None:
            return False
        inner = m.groupdict().get("id")
        return inner is None or lookup(inner) is not None

    def format(self, **parts: object) -> str:
        """The id of one instance: ``spec.format(address="10.0.0.10", port=389)``."""
        if parts.keys() != self._placeholder_set:
            raise KeyError(
                f"{self.id} takes {', '.join(self.placeholders) or 'no parts'}, not {', '.join(parts)}"
            )
        out = self._template.format_map({k: str(v) for k, v in parts.items()})
        if not self.matches(out):
            raise ValueError(f"{out!r} is not an id of {self.id}")
        return out


def _adc(text: str) -> str:
    return text.format(ip="<address>")


_S = ("pass", "fail", "skip")
_W = ("pass", "warn")
CATALOGUE: tuple[CheckSpec, ...] = (
    # --- inputs -------------------------------------------------------------------------------------
    CheckSpec("input.password_policy", "The service account password is one the AWS console accepts",
              "Use a password of 8-128 characters with 3 of the 4 character classes.",
              (API_CONNECT_DIRECTORY,), statuses=("warn",)),
    # --- DNS ----------------------------------------------------------------------------------------
    CheckSpec("dns.server.<address>.<proto>", "The DNS server answers over UDP or TCP 53",
              "Allow UDP and TCP 53 from the AD Connector subnets to the DNS server, and check it serves the domain.",
              (DS_PREREQUISITES, WS_TROUBLESHOOTING, RFC_DNS), _adc(req.ADC_DNS_UNAVAILABLE)),
    CheckSpec("dns.srv.ldap_tcp.<address>.<proto>", "_ldap._tcp.<domain> SRV records exist on the DNS server",
              "Register the DC locator records (Netlogon, nltest /dsregdns; samba_dnsupdate).",
              (DS_PREREQUISITES, WS_TROUBLESHOOTING, MS_ADTS_SRV), _adc(req.ADC_SRV_LDAP_MISSING)),
    CheckSpec("dns.srv.kerberos_tcp.<address>.<proto>", "_kerberos._tcp.<domain> SRV records exist on the DNS server",
              "Register the DC locator records (Netlogon, nltest /dsregdns; samba_dnsupdate).",
              (DS_PREREQUISITES, WS_TROUBLESHOOTING, MS_ADTS_SRV), _adc(req.ADC_SRV_KERBEROS_MISSING)),
    CheckSpec("dns.srv.<record>.<address>.<proto>",
              "_ldap._tcp.dc._msdcs, _kerberos._udp and _gc._tcp SRV records exist (Windows clients and domain join)",
              "Register the DC locator records.", (MS_ADTS_SRV,), statuses=_W),
    CheckSpec("dns.srv_targets.<address>.<proto>", "Every LDAP and Kerberos SRV target has an address on that server",
              "Add A records for the SRV targets in the zone the server serves.",
              (DS_TROUBLESHOOTING, MS_ADTS_SRV), req.ADC_INTERNAL_ERROR),
    CheckSpec("dns.common_dc.<address>.<proto>", "At least one DC is in both the LDAP and the Kerberos SRV records",
              "Fix the SRV records so that the same DC names appear in _ldap._tcp and _kerberos._tcp.",
              (DS_TROUBLESHOOTING, MS_ADTS_SRV), req.ADC_INTERNAL_ERROR),
    CheckSpec("dns.consistent", "All DNS servers (over UDP and TCP) name the same DCs",
              "Make the zones agree (replication between the DNS servers, or the same forwarders).",
              (MS_ADTS_SRV,), statuses=_W),
    CheckSpec("dcs.found", "Domain controllers that serve both LDAP and Kerberos were found through DNS",
              "Fix the DNS checks; or pass --dc to check DCs by address.",
              (DS_PREREQUISITES, MS_ADTS_SRV), req.ADC_INTERNAL_ERROR),
    CheckSpec("dcs.site.<address>", "The probing address maps to an AD site (the DC's CLDAP reply)",
              "Add the AD Connector subnets to an AD site in Active Directory Sites and Services.",
              (DS_TROUBLESHOOTING, MS_ADTS_LDAP_PING), statuses=_W),
    # --- ports --------------------------------------------------------------------------------------
    CheckSpec("ports.tcp.<address>.<port>", "The TCP port on the DC is open (handshake)",
              "Start the service, or allow the port from the AD Connector subnets to the DC (and replies back).",
              (DS_PREREQUISITES, WS_REQUIREMENTS, WS_CONNECT_VERIFICATION, WS_SECURITY_GROUP),
              f"{_adc(req.ADC_DNS_UNAVAILABLE)} (TCP 53); {_adc(req.ADC_CONNECTIVITY)} (TCP 88, 389)",
              statuses=("pass", "warn", "fail")),
    CheckSpec("ports.udp.<address>.<port>", "The UDP service on the DC answered a real request of its protocol",
              "Allow the port from the AD Connector subnets to the DC (and replies back); UDP 138/445 are unverifiable.",
              (DS_PREREQUISITES, WS_REQUIREMENTS, WS_CONNECT_VERIFICATION, RFC_PROBES),
              f"{req.ADC_INTERNAL_ERROR} (UDP 53, 88, 389)", statuses=("pass", "warn", "fail", "skip")),
    CheckSpec("ports.rpc.<address>.<interface>", "An RPC interface (LSA, SAMR, NETLOGON, DRSUAPI) has an open endpoint",
              "Allow the dynamic RPC range (1024-65535, or the DCs' restricted range) from the WorkSpaces subnets.",
              (WS_REQUIREMENTS, MS_RPCE), statuses=("pass", "warn", "fail")),
    CheckSpec("ports.icmp.<address>", "The DC answers an ICMP echo",
              "Allow ICMP echo from the WorkSpaces subnets to the DC, or accept that ping cannot reach it.",
              (WS_SECURITY_GROUP, RFC_ICMP), statuses=("pass", "warn", "skip")),
    CheckSpec("ports.scope", "Which port list ran, and what it left untested of WorkSpaces' list",
              "Run with --profile workspaces to test everything WorkSpaces needs towards the DCs.",
              (WS_REQUIREMENTS, WS_SECURITY_GROUP), statuses=("pass", "skip")),
    CheckSpec("ports.concurrency", "The open-files limit did not hold the probes below --concurrency",
              "Raise the limit (ulimit -n, LimitNOFILE=).", (), statuses=("warn",)),
    # --- directory ----------------------------------------------------------------------------------
    CheckSpec("directory.reachable", "A DC answered LDAP, so the directory checks could run",
              "Fix the connectivity failures, then run again.", (DS_PREREQUISITES,), statuses=()),
    CheckSpec("directory.functional_level.forest", "The forest functional level is Windows Server 2003 or higher",
              "Raise the forest functional level (Active Directory Domains and Trusts, Set-ADForestMode).",
              (DS_PREREQUISITES, WS_CONNECT_VERIFICATION, MS_ADTS_LEVELS, MS_ADTS_ROOT_DSE)),
    CheckSpec("directory.functional_level.domain", "The domain functional level is Windows Server 2003 or higher",
              "Raise the domain functional level (Active Directory Domains and Trusts, Set-ADDomainMode).",
              (DS_PREREQUISITES, WS_CONNECT_VERIFICATION, MS_ADTS_LEVELS, MS_ADTS_ROOT_DSE)),
    CheckSpec("directory.time_skew.<address>", "The DC's clock is within Kerberos' 5 minutes of this host's",
              "Synchronise the DC and this host with the same NTP source.",
              (DS_TROUBLESHOOTING, RFC_KERBEROS, MS_ADTS_ROOT_DSE), req.ADC_SERVICE_ACCOUNT,
              statuses=("pass", "warn", "fail", "skip")),
    CheckSpec("directory.vlv.setting", "VLV is not disabled forest-wide (DisableVLVSupport)",
              "Remove DisableVLVSupport from msDS-Other-Settings.", (DS_TROUBLESHOOTING, MS_ADTS_VLV),
              req.ADC_SERVICE_ACCOUNT, _S),
    CheckSpec("directory.vlv.search", "A VLV search works as the service account",
              "Check DisableVLVSupport, MaxTempTableSize and, on large directories, a CN subtree index.",
              (DS_TROUBLESHOOTING, RFC_VLV), req.ADC_SERVICE_ACCOUNT, _S),
    CheckSpec("directory.cn_index", "Large directories (over 100,000 users) have a CN subtree index",
              "Set the subtree-index bit in CN's searchFlags, or raise MaxTempTableSize.",
              (DS_TROUBLESHOOTING, MS_ADTS_INDEX), req.ADC_SERVICE_ACCOUNT, ("pass", "warn", "fail", "skip")),
    CheckSpec("directory.preauth", "Every account requires Kerberos pre-authentication",
              "Clear 'Do not require Kerberos preauthentication' (userAccountControl 0x400000).",
              (DS_PREREQUISITES, MS_ADTS_UAC), statuses=("pass", "warn", "skip")),
    # --- service account ----------------------------------------------------------------------------
    CheckSpec("account.bind", "The service account binds (LDAPS, StartTLS or plain LDAP)",
              "Check the service account's user name and password.", (DS_PREREQUISITES, WS_TROUBLESHOOTING, RFC_LDAP),
              _adc(req.ADC_INVALID_CREDENTIALS), _S),
    CheckSpec("account.state", "The service account is enabled, unlocked, unexpired, its password valid",
              "Enable, unlock or extend the account; reset its password and clear 'must change'.",
              (DS_TROUBLESHOOTING, MS_ADTS_ACCOUNT_STATE), _adc(req.ADC_INVALID_CREDENTIALS),
              ("pass", "warn", "fail", "skip")),
    CheckSpec("account.rights.create_computer", "The service account may create computer objects in the target OU",
              "Delegate 'Create/Delete Computer objects' on the OU to the account's group (adprep delegate).",
              (DS_PREREQUISITES, WS_DELEGATING, MS_ADTS_CHILD_CLASSES), statuses=_S),
    CheckSpec("account.rights.read_users", "The service account reads users and the attributes AD Connector needs",
              "Let the service account read user objects; check for deny ACEs or a locked-down OU.",
              (DS_PREREQUISITES, WS_DELEGATING), statuses=_S),
    CheckSpec("account.join_probe", "A scratch computer object is created and deleted as the service account",
              "Delegate computer creation and deletion on the target OU (runs only with --join-probe).",
              (WS_DELEGATING,), statuses=("pass", "warn", "fail", "skip")),
    CheckSpec("account.kerberos", "The service account gets a Kerberos ticket (TGT) from the DC",
              "See the KDC's error: the account, its password, its encryption types or the clocks.",
              (DS_TROUBLESHOOTING, RFC_KERBEROS), f"{_adc(req.ADC_INVALID_CREDENTIALS)}; {req.ADC_SERVICE_ACCOUNT}",
              _S),
    CheckSpec("account.scope", "What a run without a service account (no --user) left unchecked",
              "Run again with --user to check the service account.", (), statuses=("skip",)),
    # --- GPOs ---------------------------------------------------------------------------------------
    CheckSpec("gpo.scan", "The GPOs that reach the WorkSpaces' computers could be scanned",
              "Fix account.bind (or the error given), then run again.", (WS_GROUP_POLICY, MS_GPOL),
              statuses=("skip",)),
    CheckSpec("gpo.scan.clean", "No GPO that reaches the WorkSpaces' computers sets what breaks WorkSpaces",
              "Nothing to do.", (WS_GROUP_POLICY, MS_GPOL), statuses=("pass",)),
    CheckSpec("gpo.scan.<guid>.logon_banner", "A GPO sets an interactive logon banner (WorkSpaces cannot log users on)",
              "Set 'Interactive logon: Message title/text' to not defined, or keep the GPO from the WorkSpaces.",
              (WS_GROUP_POLICY, MS_GPOL), statuses=("fail",)),
    CheckSpec("gpo.scan.<guid>.disconnect_logoff", "A GPO logs disconnected sessions off (their applications closed)",
              "Set 'Set time limit for disconnected sessions' to Not Configured or Never.",
              (WS_GROUP_POLICY, MS_GPOL), statuses=("warn",)),
    CheckSpec("gpo.scan.<guid>.end_session_at_limit", "A GPO ends sessions at a time limit instead of disconnecting",
              "Set 'End session when time limits are reached' to Not Configured or Disabled.",
              (WS_GROUP_POLICY, MS_GPOL), statuses=("warn",)),
    CheckSpec("gpo.scan.<guid>.missing", "A GPO link points at a GPO that does not exist",
              "Remove the stale link (adprep gpo unlink).", (MS_GPOL,), statuses=("warn",)),
    CheckSpec("gpo.scan.<guid>.unreadable", "A GPO that reaches the WorkSpaces could not be read",
              "Check SYSVOL access for the account adprep uses.", (MS_GPOL,), statuses=()),
    # --- sites --------------------------------------------------------------------------------------
    CheckSpec("sites.subnet.<cidr>", "An AD Connector subnet is in an AD site (Active Directory Sites and Services)",
              "Add the subnet to an AD site (adprep fix --subnet CIDR --site NAME).",
              (DS_TROUBLESHOOTING, MS_ADTS_SITES), statuses=("pass", "warn", "skip")),
    # --- target domain (--target-domain) ------------------------------------------------------------
    CheckSpec("target.trust", "The WorkSpaces target domain trusts the account domain (inbound or two-way)",
              "Create a one-way trust in which the target domain trusts the account domain, or a two-way trust.",
              (WS_TARGET_DOMAIN, MS_ADTS_TRUSTS), statuses=("pass", "warn", "fail", "skip")),
    CheckSpec("target.directory.<address>", "The address is a DC of the target domain (its rootDSE)",
              "Give the target domain's DCs (through its DNS servers).", (WS_TARGET_DOMAIN, MS_ADTS_ROOT_DSE)),
    CheckSpec("target.rights.create_computer", "The service account may create computers in the target domain's OU",
              "Delegate computer creation on the target OU to the account (through the trust).",
              (WS_TARGET_DOMAIN, WS_DELEGATING, MS_ADTS_CHILD_CLASSES), statuses=_S),
    CheckSpec("target.<id>", "A check of the target domain (its DNS, DCs and ports), as for the account domain",
              "See the check it repeats.", (WS_TARGET_DOMAIN,), statuses=("pass", "warn", "fail", "skip")),
    # --- RADIUS MFA ---------------------------------------------------------------------------------
    CheckSpec("radius.settings.servers", "1 or more RADIUS servers, each an IP address or a DNS name",
              "Give each server as an IP address or a fully qualified DNS name.", (API_RADIUS_SETTINGS,),
              statuses=("pass", "warn", "fail")),
    CheckSpec("radius.settings.port", "The RADIUS port is within 1025-65535", "Use a port within 1025-65535.",
              (API_RADIUS_SETTINGS,)),
    CheckSpec("radius.settings.protocol", "The protocol is PAP, CHAP, MS-CHAPv1 or MS-CHAPv2",
              "Use one of PAP, CHAP, MS-CHAPv1, MS-CHAPv2.", (API_RADIUS_SETTINGS,)),
    CheckSpec("radius.settings.timeout", "The timeout is within 1-50 s (above 20 s AD Connector does not fail over)",
              "Use 1-20 s.", (API_RADIUS_SETTINGS, WS_MFA), statuses=("pass", "warn", "fail")),
    CheckSpec("radius.settings.retries", "The retries are within 0-10", "Use 0-10 retries.", (API_RADIUS_SETTINGS,)),
    CheckSpec("radius.settings.secret", "The shared secret has 8-512 characters", "Use a secret of 8-512 characters.",
              (API_RADIUS_SETTINGS,), statuses=_S),
    CheckSpec("radius.worst_case_wait", "How long a login waits when servers are silent", "Nothing to do.",
              (API_RADIUS_SETTINGS,), statuses=("pass",)),
    CheckSpec("radius.probe.<server>", "The RADIUS server answers AWS's enablement probe, signed with the same secret",
              "Make the server reachable on UDP 1812, register the client addresses, use the same shared secret.",
              (WS_MFA_PREREQUISITES, RFC_RADIUS), statuses=("pass", "warn", "fail", "skip")),
    CheckSpec("radius.message_authenticator.<server>", "The server's reply carries a valid Message-Authenticator",
              "Update the RADIUS server to send Message-Authenticator first in every reply.",
              (BLASTRADIUS,), statuses=("pass", "warn", "fail", "skip")),
    CheckSpec("radius.client_registration", "This host's address (like AD Connector's) is a registered RADIUS client",
              "Register this host's and AD Connector's addresses as RADIUS clients.", (WS_MFA_PREREQUISITES,),
              statuses=("pass", "warn", "skip")),
    # --- users (adprep users check) -----------------------------------------------------------------
    CheckSpec("users.scope", "Which users were checked", "Check --ou or the names in --csv.", (WS_LAUNCHING,),
              statuses=_W),
    CheckSpec("users.mail", "Every user has an e-mail address", "Set the users' mail attribute.", (WS_LAUNCHING,)),
    CheckSpec("users.must_change_password", "No user must change the password at next logon",
              "Clear 'User must change password at next logon'.", (WS_RESTRICTIONS,)),
    CheckSpec("users.disabled", "No user is disabled", "Enable the accounts, or leave them out.", (MS_ADTS_UAC,)),
    CheckSpec("users.locked", "No user is locked out", "Unlock the accounts.", (MS_ADTS_ACCOUNT_STATE,)),
    CheckSpec("users.expired", "No user account has expired", "Extend the accounts' expiry.", (MS_ADTS_ACCOUNT_STATE,)),
    CheckSpec("users.password_expired", "No user's password has expired", "Reset the passwords.",
              (MS_ADTS_ACCOUNT_STATE,)),
    CheckSpec("users.name", "Every logon name is one WorkSpaces and AD Connector take",
              "Rename to at most 20 characters without reserved characters.", (WS_API_WORKSPACE_REQUEST,)),
    CheckSpec("users.found", "Every user named in --csv exists", "Create the users or correct the names.",
              (WS_LAUNCHING,), statuses=_S),
    # --- vantages and paths (--via) -----------------------------------------------------------------
    CheckSpec("vantage.directory_checks", "Directory and service-account checks ran from this host only",
              "Nothing to do: the relays prove the network path.", (), statuses=("skip",)),
    CheckSpec("vantage.<label>.relay", "The relay at a vantage started and ran the probes",
              "See the error: SSH or WinRM access, the host key, python3 or PowerShell at the far end.",
              (), statuses=("pass",)),
    CheckSpec("vantage.<label>.subnet", "The vantage's probes left from inside the AD Connector subnet it stands in",
              "Run the relay on an instance inside that subnet, or correct the vantage's subnet.",
              (DS_PREREQUISITES,), statuses=("pass",)),
    CheckSpec("paths.summary", "The network checks give the same verdict from every vantage",
              "See paths.*.", (DS_PREREQUISITES,), statuses=("pass", "warn", "fail")),
    CheckSpec("paths.<id>", "A network check whose verdict differs between vantages: what lies between",
              "Allow the traffic through the firewall or security group between that vantage and the target.",
              (DS_PREREQUISITES, WS_SECURITY_GROUP), "the check's own AD Connector error",
              statuses=("warn", "fail")),
    # --- drift (--baseline) -------------------------------------------------------------------------
    CheckSpec("drift.summary", "What changed since the baseline report", "See drift.*.", (),
              statuses=("pass", "warn", "fail")),
    CheckSpec("drift.new_failure.<id>", "A check that did not fail in the baseline fails now (exit 5)",
              "See the check's own remedy.", (), statuses=("fail",)),
    CheckSpec("drift.fixed.<id>", "A check that failed in the baseline passes now", "Nothing to do.", (),
              statuses=("pass",)),
    CheckSpec("drift.changed.<id>", "A check's verdict changed since the baseline", "See the check.", (),
              statuses=("pass", "warn")),
    CheckSpec("drift.dc_new.<address>", "A domain controller appeared since the baseline", "Check it is expected.",
              (), statuses=("warn",)),
    CheckSpec("drift.dc_gone.<address>", "A domain controller vanished since the baseline (exit 5)",
              "Check the DC and the SRV records.", (), statuses=("fail",)),
    # --- an area that could not run -----------------------------------------------------------------
    CheckSpec("<area>.run", "An area of checks (DNS, ports, directory, RADIUS…) stopped on an error or a bug",
              "See the reason; a bug: re-run with --debug and report it. The other areas' results are kept.",
              (), statuses=()),
)  # fmt: skip

_BY_ID: dict[str, CheckSpec] = {spec.id: spec for spec in CATALOGUE}


def spec(pattern: str) -> CheckSpec:
    """The entry declared with ``pattern`` (raises KeyError for an undeclared check)."""
    return _BY_ID[pattern]


def check_id(pattern: str, **parts: object) -> str:
    """The id of one instance of a declared check: ``check_id("ports.tcp.<address>.<port>", address=a, port=p)``."""
    return _BY_ID[pattern].format(**parts)


def lookup(result_id: str) -> CheckSpec | None:
    """The entry a result id (``@vantage`` suffix allowed) is an instance of, or None."""
    base = result_id.split("@", 1)[0]
    exact = _BY_ID.get(base)
    if exact is not None:
        return exact
    return next((s for s in CATALOGUE if s.matches(base)), None)


# --- rendering (adprep checks, the README's list) ------------------------------------------------------


def catalogue_dicts() -> list[dict[str, Any]]:
    """The catalogue as JSON-ready objects (``adprep checks --format json``)."""
    return [
        {
            "id": s.id,
            "category": s.category,
            "regex": s.regex.pattern,
            "title": s.title,
            "statuses": [*s.statuses, "error"],
            "adc_error": s.adc_error,
            "remedy": s.remedy,
            "sources": list(s.sources),
        }
        for s in CATALOGUE
    ]


def _md(text: str) -> str:
    """Text for a Markdown table cell: no tags, emphasis or cell breaks by accident."""
    for c, escaped in (
        ("\\", "\\\\"),
        ("|", "\\|"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("_", "\\_"),
        ("*", "\\*"),
    ):
        text = text.replace(c, escaped)
    return text


def render_markdown(specs: Iterable[CheckSpec] = CATALOGUE) -> str:
    """A Markdown table per category: id, what it proves, the AD Connector error, the sources."""
    out: list[str] = []
    category = None
    for s in specs:
        if s.category != category:
            category = s.category
            out += [
                "",
                f"**{category}**",
                "",
                "| id | what it proves | AD Connector error | sources |",
                "|---|---|---|---|",
            ]
        adc = f"`{s.adc_error}`" if s.adc_error else ""
        out.append(f"| `{s.id}` | {_md(s.title)} | {adc} | {_md('; '.join(s.sources))} |")
    return "\n".join(out).strip() + "\n"


if __name__ == "__main__":  # pragma: no cover - python -m adprep.catalogue
    sys.stdout.write(render_markdown())
