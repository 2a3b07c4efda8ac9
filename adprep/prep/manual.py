"""What adprep cannot write, as the exact commands for the place where they must run. Pure.

adprep writes over LDAP only. Firewall rules, security groups, DNS registration and the time service
of a Windows DC are changed where they live: PowerShell on the DC or DNS server, the AWS CLI for the
AD Connector's security group. This module turns a preflight's failed checks into those commands as
words (:class:`Command`); :mod:`adprep.render.commands` quotes them for their shell.

Only failures get commands, and only for what failed: the protocol and port that did not answer,
from the AD Connector subnet (CIDR) it did not answer from, to the address that did not answer.

Sources: Amazon WorkSpaces Administration Guide (2016), "Connect Verification" and "IP address and
port requirements"; AWS Directory Service Administration Guide, "AD Connector prerequisites"
(ports, from the AD Connector subnets to the DCs); MS-ADTS 6.3.2.3 (the DC locator SRV records that
``nltest /dsregdns`` registers); Windows Time service (``w32tm``) tools and settings.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from adprep import requirements as req
from adprep.model import CheckResult, FactValue, Report, Status

Shell = Literal["sh", "powershell"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Placeholders for what only the AWS account knows; the AWS CLI refuses them as malformed, so a
#: command copied without replacing them fails harmlessly.
ADC_SECURITY_GROUP = "sg-ADCONNECTOR"
DC_SECURITY_GROUP = "sg-DOMAINCONTROLLERS"
#: AD Connector's own clock follows AWS's; Amazon's public NTP service keeps the DCs on the same time.
DEFAULT_NTP_SERVER = "time.aws.com"

_FIREWALL_VERDICTS = ("filtered", "open|filtered")
#: The SRV records AD Connector needs (DS guide), with the port each names.
_SRV_PORTS = {"ldap_tcp": ("_ldap._tcp", 389), "kerberos_tcp": ("_kerberos._tcp", 88)}


@dataclass(frozen=True)
class Bare:
    """A word written as it is: a program, a flag or a parameter name (never data)."""

    text: str


Word = Bare | str | int | tuple[str | int, ...]
"""A command word: :class:`Bare`, a value (``str``, quoted for the shell), a number, or a PowerShell
array (values joined by commas)."""


@dataclass(frozen=True)
class Command:
    shell: Shell
    words: tuple[Word, ...]


def bare(text: str) -> tuple[Bare, ...]:
    """``bare("aws ec2 describe-vpcs")``: each space-separated word as a :class:`Bare` word."""
    return tuple(Bare(w) for w in text.split())


def sh(*words: Word) -> Command:
    """A command for a POSIX shell (quoted for ``sh`` when rendered)."""
    return Command("sh", words)


def ps(*words: Word) -> Command:
    """A command for PowerShell (quoted for PowerShell when rendered)."""
    return Command("powershell", words)


@dataclass(frozen=True)
class ManualStep:
    """Commands a person runs in one place, and the checks they address."""

    id: str
    title: str
    where: str
    """Where to run them, e.g. ``PowerShell (as an administrator) on the domain controller 10.0.0.10``."""
    commands: tuple[Command, ...]
    addresses: tuple[str, ...]
    """The check ids (as in the report) these commands fix."""
    note: str | None = None


@dataclass(frozen=True)
class Leftover:
    """A failed check that neither a remedy nor a command handles, and why."""

    check_id: str
    status: Status
    title: str
    reason: str


@dataclass(frozen=True)
class ManualOptions:
    """What the commands need that a report does not hold."""

    domain: str | None = None
    subnets: tuple[Network, ...] = ()
    """AD Connector's subnets (``--subnet`` and the vantages' ``?subnet=``)."""
    security_group: str = ADC_SECURITY_GROUP
    dc_security_group: str = DC_SECURITY_GROUP
    ntp_server: str = DEFAULT_NTP_SERVER
    admin_user: str = "Administrator"
    dc_hosts: Mapping[str, str] = field(default_factory=dict)
    """DC address → host name, as the report found them."""


# --- facts a report holds ---------------------------------------------------------------------------


def fact_items(value: FactValue) -> list[str]:
    """A list fact's items as text (nothing for a fact that is not a list)."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def vantage_subnets(report: Report) -> dict[str, Network]:
    """Vantage label → the AD Connector subnet it stood in (``--via …?subnet=CIDR``)."""
    out: dict[str, Network] = {}
    for v in report.vantages:
        if v.label and v.subnet:
            try:
                out[v.label] = ipaddress.ip_network(v.subnet, strict=False)
            except ValueError:
                continue
    return out


def dc_hosts(report: Report) -> dict[str, str]:
    """DC address → host name: from ``dcs.found`` (``host (address)``) and the CLDAP replies."""
    out: dict[str, str] = {}
    for r in report.results:
        if r.base_id == "dcs.found":
            for text in fact_items(r.facts.get("dcs")):
                host, _, rest = text.partition(" (")
                address = rest.rstrip(")")
                if host and host != "?" and address:
                    out.setdefault(address, host)
        elif (
            r.base_id.startswith("ports.udp.") and r.target and isinstance(r.facts.get("dns_host_name"), str)
        ):
            out.setdefault(r.target, str(r.facts["dns_host_name"]).lower())
    return out


def srv_hosts(report: Report) -> list[str]:
    """The DC host names the SRV answers named (LDAP and Kerberos first), in a stable order."""
    hosts: dict[str, None] = {}
    for key in ("ldap_tcp", "kerberos_tcp", "ldap_msdcs"):
        for r in report.results:
            if r.base_id.startswith(f"dns.srv.{key}."):
                for record in fact_items(r.facts.get("records")):
                    parts = record.split()
                    if len(parts) == 4:
                        hosts.setdefault(parts[3].rstrip(".").lower(), None)
    return list(hosts)


# --- ports: firewall and security groups ------------------------------------------------------------


@dataclass(frozen=True)
class PortFailure:
    check_id: str
    proto: str
    port: int
    target: str
    verdict: str
    label: str | None
    subnet: Network | None


def port_failures(report: Report) -> list[PortFailure]:
    """Failed port checks (and DNS servers that did not answer, as port 53) with where they failed from."""
    subnets = vantage_subnets(report)
    out: list[PortFailure] = []
    for r in report.results:
        if r.status is not Status.FAIL or not r.target:
            continue
        base = r.base_id
        if base.startswith(("ports.tcp.", "ports.udp.")):
            proto, port = r.facts.get("protocol"), r.facts.get("port")
            verdict = str(r.facts.get("verdict") or "")
            if not isinstance(proto, str) or not isinstance(port, int):
                continue
        elif base.startswith("dns.server."):
            proto, port = base.rsplit(".", 1)[1], 53
            verdict = {"timeout": "filtered", "unreachable": "closed"}.get(str(r.facts.get("outcome")), "")
        else:
            continue
        label = r.vantage
        out.append(PortFailure(r.id, proto, port, r.target, verdict, label, subnets.get(label or "")))
    return out


def _passes_elsewhere(report: Report, failure: PortFailure) -> bool:
    base = failure.check_id.split("@", 1)[0]
    return any(r.base_id == base and r.status is Status.PASS for r in report.results)


def _service(proto: str, port: int) -> str:
    return req.port_service(proto, port)


def _host_cidr(address: str) -> str:
    """One address as a CIDR (``/32`` or ``/128``)."""
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def _permissions(rows: Iterable[tuple[str, int, Sequence[str]]], description: str) -> str:
    """``--ip-permissions`` JSON: one entry per (protocol, port), for the given CIDRs."""
    perms = []
    for proto, port, cidrs in rows:
        v4 = [{"CidrIp": c, "Description": description} for c in cidrs if ":" not in c]
        v6 = [{"CidrIpv6": c, "Description": description} for c in cidrs if ":" in c]
        perm: dict[str, object] = {"IpProtocol": proto, "FromPort": port, "ToPort": port}
        if v4:
            perm["IpRanges"] = v4
        if v6:
            perm["Ipv6Ranges"] = v6
        perms.append(perm)
    return json.dumps(perms, separators=(",", ":"))


def _ports_text(ports: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{p.upper()} {n} ({_service(p, n)})" for p, n in ports)


@dataclass
class _Hole:
    """One (protocol, port) to one target that a firewall blocks, and from where."""

    cidrs: dict[str, None] = field(default_factory=dict)
    """Every AD Connector subnet to allow (for the DC's own firewall)."""
    aws_cidrs: dict[str, None] = field(default_factory=dict)
    """The subnets a vantage in AWS saw it fail from (for the security groups)."""
    ids: dict[str, None] = field(default_factory=dict)


def firewall_steps(report: Report, options: ManualOptions) -> tuple[list[ManualStep], list[Leftover]]:
    """Security-group rules (AWS CLI) and Windows Firewall rules (PowerShell on the DC) for every port
    that a firewall drops on the way from AD Connector's subnets."""
    left: list[Leftover] = []
    by_id = {r.id: r for r in report.results}
    holes: dict[str, dict[tuple[str, int], _Hole]] = {}
    for f in port_failures(report):
        result = by_id[f.check_id]
        if f.verdict not in _FIREWALL_VERDICTS and not (
            f.verdict == "closed" and _passes_elsewhere(report, f)
        ):
            reason = result.remedy or "Nothing answers there: start the service, or check the address."
            left.append(Leftover(f.check_id, result.status, result.title, reason))
            continue
        cidrs = [str(f.subnet)] if f.subnet is not None else [str(s) for s in options.subnets]
        if not cidrs:
            left.append(
                Leftover(
                    f.check_id,
                    result.status,
                    result.title,
                    "No AD Connector subnet is known for this failure, so no firewall rule can name it: run "
                    "again with --subnet CIDR (each AD Connector subnet), or --via …?subnet=CIDR.",
                )
            )
            continue
        hole = holes.setdefault(f.target, {}).setdefault((f.proto, f.port), _Hole())
        hole.cidrs.update(dict.fromkeys(cidrs))
        hole.ids[f.check_id] = None
        if f.subnet is not None:
            hole.aws_cidrs[str(f.subnet)] = None
    steps: list[ManualStep] = []
    for target, ports in holes.items():
        steps.extend(_target_steps(target, ports, options))
    return steps, left


def _target_steps(
    target: str, ports: Mapping[tuple[str, int], _Hole], options: ManualOptions
) -> list[ManualStep]:
    steps: list[ManualStep] = []
    ids = tuple(dict.fromkeys(i for hole in ports.values() for i in hole.ids))
    host = options.dc_hosts.get(target)
    name = f"{target} ({host})" if host else target
    from_aws = [(key, hole) for key, hole in sorted(ports.items()) if hole.aws_cidrs]
    if from_aws:
        dest = _host_cidr(target)
        egress = _permissions(
            ((p, n, [dest]) for (p, n), _ in from_aws), f"AD Connector to {target} (adprep)"
        )
        ingress = _permissions(
            ((p, n, list(hole.aws_cidrs)) for (p, n), hole in from_aws), "AD Connector subnet (adprep)"
        )
        steps.append(
            ManualStep(
                id=f"aws.security-groups:{target}",
                title=f"Allow {_ports_text(k for k, _ in from_aws)} from AD Connector to {name} in the "
                "security groups",
                where="AWS CLI, in the account and Region of the AD Connector",
                commands=(
                    sh(
                        *bare("aws ec2 authorize-security-group-egress --group-id"),
                        options.security_group,
                        *bare("--ip-permissions"),
                        egress,
                    ),
                    sh(
                        *bare("aws ec2 authorize-security-group-ingress --group-id"),
                        options.dc_security_group,
                        *bare("--ip-permissions"),
                        ingress,
                    ),
                ),
                addresses=tuple(dict.fromkeys(i for _, hole in from_aws for i in hole.ids)),
                note=(
                    f"The first rule is for AD Connector's security group ({options.security_group}: the group "
                    "named <directory id>_controllers; needed only if its default allow-all outbound rule was "
                    f"removed), the second for the domain controller's, only if {target} runs in a VPC "
                    f"({options.dc_security_group}). Network ACLs of those subnets are stateless: they must "
                    "allow the same ports, and the replies (ports 1024-65535) back."
                ),
            )
        )
    by_rule: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for (p, n), hole in sorted(ports.items()):
        by_rule.setdefault((p, tuple(sorted(hole.cidrs))), []).append(n)
    commands: list[Command] = []
    for (p, cidrs), numbers in by_rule.items():
        rule = f"adprep-adc-{p}-{'-'.join(map(str, numbers))}-from-" + "-".join(
            c.replace("/", "_") for c in cidrs
        )
        display = f"AD Connector {p.upper()} {', '.join(map(str, numbers))} from {', '.join(cidrs)} (adprep)"
        commands.append(
            ps(
                *bare("New-NetFirewallRule -Name"),
                rule,
                *bare("-DisplayName"),
                display,
                *bare(f"-Direction Inbound -Action Allow -Protocol {p.upper()} -LocalPort"),
                tuple(numbers),
                *bare("-RemoteAddress"),
                cidrs,
            )
        )
    steps.append(
        ManualStep(
            id=f"windows-firewall:{target}",
            title=f"Allow {_ports_text(sorted(ports))} from the AD Connector subnets in the Windows Firewall "
            f"of {name}",
            where=f"PowerShell (as an administrator) on {name}",
            commands=tuple(commands),
            addresses=ids,
            note="New-NetFirewallRule refuses a rule name that exists, so running it twice duplicates nothing. "
            f"Allow the same ports in every firewall between the AD Connector subnets and {target} "
            "(on-premises firewall, VPN).",
        )
    )
    return steps


# --- DNS: the DC locator records --------------------------------------------------------------------


def srv_steps(report: Report, options: ManualOptions) -> tuple[list[ManualStep], list[Leftover]]:
    """``nltest /dsregdns`` on the DCs, and the records themselves on each DNS server that lacks them."""
    missing: dict[str, dict[str, list[str]]] = {}  # DNS server -> SRV key -> check ids
    for r in report.results:
        parts = r.base_id.split(".")
        if (
            r.status is Status.FAIL
            and len(parts) > 3
            and parts[:2] == ["dns", "srv"]
            and parts[2] in _SRV_PORTS
        ):
            server = r.target or ".".join(parts[3:-1])
            missing.setdefault(server, {}).setdefault(parts[2], []).append(r.id)
    if not missing:
        return [], []
    domain = options.domain or (report.targets[0] if report.targets else "")
    hosts = srv_hosts(report) or list(dict.fromkeys(options.dc_hosts.values()))
    all_ids = tuple(i for keys in missing.values() for ids in keys.values() for i in ids)
    steps = [
        ManualStep(
            id="dns.register-dc-records",
            title=f"Register every domain controller's locator records (SRV) of {domain} in DNS again",
            where=f"PowerShell (as a Domain Admin) on each domain controller of {domain}",
            commands=(ps(*bare("nltest /dsregdns")),),
            addresses=all_ids,
            note="Netlogon registers the records in the DNS servers the DC's network settings name; if the DNS "
            "servers you give AD Connector are others, add the records there (next steps).",
        )
    ]
    left: list[Leftover] = []
    for server, keys in missing.items():
        ids = tuple(i for key_ids in keys.values() for i in key_ids)
        if not hosts:
            left.extend(Leftover(i, Status.FAIL, f"SRV records missing on {server}",
                                 "No domain controller's host name is known from this report, so the records "
                                 "cannot be written out: run nltest /dsregdns on each DC.") for i in ids)  # fmt: skip
            continue
        pwsh: list[Command] = []
        samba: list[Command] = []
        for key in keys:
            name, port = _SRV_PORTS[key]
            for host in hosts:
                pwsh.append(
                    ps(
                        *bare("Add-DnsServerResourceRecord -ComputerName"),
                        server,
                        *bare("-ZoneName"),
                        domain,
                        *bare("-Srv -Name"),
                        name,
                        *bare("-DomainName"),
                        host,
                        *bare("-Priority 0 -Weight 100 -Port"),
                        port,
                    )
                )
                samba.append(
                    sh(
                        *bare("samba-tool dns add"),
                        server,
                        domain,
                        name,
                        Bare("SRV"),
                        f"{host} {port} 0 100",
                        Bare("-U"),
                        options.admin_user,
                    )
                )
        records = ", ".join(f"{_SRV_PORTS[k][0]}.{domain}" for k in keys)
        steps.append(
            ManualStep(
                id=f"dns.add-srv:{server}",
                title=f"Add {records} for {', '.join(hosts)} on the DNS server {server}",
                where=f"PowerShell (as a DNS administrator) on {server}, or on any host with the DnsServer module",
                commands=tuple(pwsh),
                addresses=ids,
            )
        )
        steps.append(
            ManualStep(
                id=f"dns.add-srv-samba:{server}",
                title=f"The same records when {server} is a Samba domain controller",
                where=f"A shell on a Samba DC of {domain} (samba-tool asks for the password, or reads PASSWD)",
                commands=tuple(samba),
                addresses=ids,
            )
        )
    return steps, left


# --- time -------------------------------------------------------------------------------------------


def _is_pdc(report: Report, address: str) -> bool | None:
    """From the DC's CLDAP reply (DS_PDC_FLAG), when one was seen."""
    for r in report.results:
        if r.base_id == f"ports.udp.{address}.389" and "flag_names" in r.facts:
            return "DS_PDC_FLAG" in fact_items(r.facts["flag_names"])
    return None


def time_steps(report: Report, options: ManualOptions) -> list[ManualStep]:
    """``w32tm`` on each DC whose clock is off: the PDC emulator from an external source, the
    others from the domain hierarchy."""
    steps: list[ManualStep] = []
    for r in report.results:
        if not r.base_id.startswith("directory.time_skew.") or r.status not in (Status.FAIL, Status.WARN):
            continue
        address = r.target or r.base_id.removeprefix("directory.time_skew.")
        host = options.dc_hosts.get(address)
        name = f"{address} ({host})" if host else address
        pdc = _is_pdc(report, address)
        external = (
            ps(
                *bare("w32tm /config"),
                f"/manualpeerlist:{options.ntp_server},0x8",
                *bare("/syncfromflags:manual /reliable:yes /update"),
            ),
            ps(*bare("Restart-Service w32time")),
            ps(*bare("w32tm /resync /rediscover")),
        )
        domhier = (
            ps(*bare("w32tm /config /syncfromflags:domhier /update")),
            ps(*bare("w32tm /resync /rediscover")),
        )
        commands: tuple[Command, ...]
        if pdc is True:
            where, commands = f"PowerShell (as an administrator) on {name}, the PDC emulator", external
        elif pdc is False:
            where, commands = f"PowerShell (as an administrator) on {name}", domhier
        else:
            where = (
                f"PowerShell (as an administrator) on {name}; if it is the PDC emulator ((Get-ADDomain)."
                "PDCEmulator), the first three commands, otherwise the last two"
            )
            commands = external + domhier
        steps.append(
            ManualStep(
                id=f"time.sync:{address}",
                title=f"Bring the clock of {name} in step ({r.title})",
                where=where,
                commands=commands,
                addresses=(r.id,),
                note="If this host's clock is the one that is off, fix its NTP client instead. A Samba DC keeps "
                "the time of its host's NTP client (e.g. chronyc makestep).",
            )
        )
    return steps


def manual_steps(report: Report, options: ManualOptions) -> tuple[list[ManualStep], list[Leftover]]:
    """Every command for what adprep cannot write, and the failures no command can fix."""
    fw, fw_left = firewall_steps(report, options)
    dns_steps, dns_left = srv_steps(report, options)
    return [*fw, *dns_steps, *time_steps(report, options)], [*fw_left, *dns_left]


def addressed_ids(steps: Iterable[ManualStep]) -> set[str]:
    """The check ids ``steps`` address."""
    return {i for s in steps for i in s.addresses}


def is_problem(result: CheckResult) -> bool:
    """Whether a manual step should address ``result``: it failed."""
    return result.status is Status.FAIL
