"""Redaction (``--redact``): a report whose names and addresses are replaced by stable tokens. Pure.

A support engineer must still be able to read "DC-1: TCP 389 filtered from subnet-b", so each value
is replaced by a token that says what it is, and the same value gets the same token everywhere in the
report: check ids, titles, facts (keys too), remedies, AD Connector error texts, targets and vantages.
The report is redacted once, before any renderer runs, so every format shows the same tokens.

What is replaced:

- IP addresses (v4 and v6), named by role: ``DC-n`` (domain controllers), ``DNS-n`` (DNS servers
  that are not DCs), ``RADIUS-n``, ``SRC-n`` (the addresses probes left from), ``NET-n`` (the network
  address of a vantage's subnet), else ``ADDR-n``;
- domain names and Kerberos realms (``DOMAIN-n``; a NetBIOS domain name gets its DNS domain's token),
  host names label by label (``dc1.corp.example`` becomes ``HOST-1.DOMAIN-1``);
- distinguished names component by component: ``DC=`` runs become ``DC=DOMAIN-n``, ``OU=`` values
  ``OU-n``, ``CN=`` values ``USER-n`` for accounts or ``NAME-n``, except the containers every
  domain has (``CN=Users``, ``CN=Computers``…);
- user names (``USER-n``) and AD site names (``SITE-n``, except ``Default-First-Site-Name``).

What stays: vantage labels the user chose (``subnet-a``), ports, statuses, times, counts, GPO names.
Tokens are numbered in a sorted order of the values, so two runs over the same directory get the
same tokens.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

from adprep.ad.dn import escape_rdn_value, parse_dn
from adprep.errors import InputError
from adprep.model import CheckResult, FactValue, Report, Vantage

#: Address roles, most telling first: an address that is both a DNS server and a DC is a DC.
_ROLES: Final = ("DC", "DNS", "RADIUS", "SRC", "NET", "ADDR")

#: Words of adprep's own vocabulary: never taken for a host, user or NetBIOS name, so a host called
#: "dns" cannot turn every "DNS" in a title into a token.
_VOCABULARY: Final = frozenset(
    {
        "local", "localhost", "dns", "ldap", "ldaps", "cldap", "tcp", "udp", "kerberos", "krbtgt", "kpasswd",
        "radius", "ports", "port", "dc", "dcs", "gc", "pdc", "site", "sites", "domain", "domains", "directory",
        "account", "accounts", "users", "user", "computers", "computer", "group", "groups", "none", "null",
        "true", "false", "self", "pass", "warn", "fail", "error", "skip", "open", "closed", "filtered",
        "unverifiable", "python", "python3", "powershell", "ssh", "winrm", "winrms", "http", "https", "com",
        "net", "org", "lan", "home", "internal", "default", "vantage", "paths", "drift", "gpo", "gpos", "ou",
        "cn", "rpc", "ntp", "smb", "samba",
    }
)  # fmt: skip

#: ``CN=`` values every domain has: keeping them keeps a redacted DN readable.
_WELL_KNOWN_CN: Final = frozenset(
    s.casefold()
    for s in (
        "Users", "Computers", "Builtin", "System", "Configuration", "Schema", "Services", "Windows NT",
        "Directory Service", "Policies", "Machine", "User", "Sites", "ForeignSecurityPrincipals",
        "Managed Service Accounts", "Program Data", "Microsoft", "Partitions", "Extended-Rights",
        "WellKnown Security Principals", "Infrastructure", "LostAndFound", "NTDS Quotas", "Keys",
        "Deleted Objects", "Domain Controllers", "Default-First-Site-Name", "Servers", "NTDS Settings",
        "Subnets", "Inter-Site Transports", "IP", "Domain Admins", "Domain Users", "Domain Computers",
        "Enterprise Admins", "Schema Admins", "Account Operators", "WorkSpaces_Connectors",
    )
)  # fmt: skip

_DEFAULT_SITE: Final = "default-first-site-name"
#: AWS's fixed probe user name (the Access-Request on MFA enablement): not a customer's user.
_NOT_USERS: Final = frozenset({"fakeusername"})

# Fact keys whose string values (or list items) hold one kind of value.
_DOMAIN_KEYS: Final = frozenset({"domain", "dns_domain_name", "dns_forest_name", "forest", "realm"})
_HOST_KEYS: Final = frozenset(
    {"dns_host_name", "host", "fqdn", "dc_name", "hostname", "ldap_targets", "kerberos_targets", "common"}
)
_USER_KEYS: Final = frozenset(
    {"user", "username", "user_name", "bind_name", "principal", "samaccountname", "accounts", "member",
     "members", "service_account", "users", "account"}
)  # fmt: skip
_SITE_KEYS: Final = frozenset(
    {"dc_site_name", "client_site_name", "next_closest_site_name", "client_site", "dc_site", "site"}
)
_DC_ADDRESS_KEYS: Final = frozenset({"kdc", "dc"})
_SOURCE_KEYS: Final = frozenset({"client_address", "source_address", "source", "source_addresses"})
_RADIUS_KEYS: Final = frozenset({"servers"})

_IPV4: Final = re.compile(r"(?<![\d])(?:\d{1,3}\.){3}\d{1,3}(?![\d])")
# An IPv6 address ends where no hex digit follows, nor a colon that goes on with one ("fd00::1: open").
_V6_END: Final = r"(?![0-9A-Fa-f]|:[0-9A-Fa-f:])"
_IPV6: Final = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}" + _V6_END)
_DC_RUN: Final = re.compile(r"(?i)(?<![\w])DC=[A-Za-z0-9-]+(?:\s*,\s*DC=[A-Za-z0-9-]+)*")
# A CN= or OU= value followed by another RDN: the value's end is certain even inside a sentence.
_INNER_RDN: Final = re.compile(r"(?i)(?<![\w])(CN|OU)=((?:\\.|[^,=+\\\n])+?)(?=\s*,\s*(?:CN|OU|DC|O|L)=)")
_URL_HOST: Final = re.compile(r"^[a-z]+://(?:(?P<user>[^@/]+)@)?(?P<host>\[[^\]]+\]|[^:/?]+)")
_NAME_CHARS: Final = re.compile(r"^[\w.-]+$")


def redact_report(report: Report) -> Report:
    """The report with its names and addresses replaced by tokens (see the module docstring)."""
    redactor = Redactor()
    redactor.learn(report)
    return redactor.apply(report)


class Redactor:
    """Learns the sensitive values of a report, then replaces them consistently.

    ``learn`` may be called for several reports before ``apply``: they then share one token table.
    """

    def __init__(self) -> None:
        self._addresses: dict[str, set[str]] = {}  # address (canonical) -> roles seen
        self._spellings: dict[str, set[str]] = {}  # address (canonical) -> as written ("fd00:0::1")
        self._domains: dict[str, str] = {}  # casefolded -> as first seen
        self._netbios: dict[str, str | None] = {}  # NetBIOS domain (casefolded) -> its DNS domain
        self._hosts: dict[str, str] = {}
        self._users: dict[str, str] = {}
        self._sites: dict[str, str] = {}
        self._ous: dict[str, str] = {}
        self._names: dict[str, str] = {}  # other CN= values
        self._pattern: re.Pattern[str] | None = None
        self._tokens: dict[str, str] = {}  # regex group name -> token

    # -- learning ------------------------------------------------------------------------------

    def learn(self, report: Report) -> None:
        """Collect the values to replace from where the report's structure says what they are, then
        from the text itself (addresses, DNs, host names under a known domain)."""
        self._pattern = None
        # What a report's targets are: preflight's are the domain and the DNS IPs, radius's the servers.
        role = {"preflight": "DNS", "radius": "RADIUS", "ports": "DC", "gpo scan": "DC"}.get(
            report.command, "ADDR"
        )
        for target in report.targets:
            self._learn_target(target, role)
        for vantage in (report.vantage, *report.vantages):
            self._learn_vantage(vantage)
        for result in report.results:
            self._learn_result(result)
        texts = list(_report_strings(report))
        for text in texts:
            for match in _DC_RUN.finditer(text):
                self._learn_domain(_dc_run_domain(match.group(0)))
            for match in _INNER_RDN.finditer(text):
                self._learn_rdn(match.group(1), _unescape(match.group(2)))
            for address in _addresses_in(text):
                self._learn_address(address, "ADDR")
        # Host names under a known domain, wherever they appear ("DC dc1.corp.example answered").
        if self._domains:
            under = re.compile(
                r"(?i)(?<![\w.-])((?:[A-Za-z0-9-]+\.)+)("
                + "|".join(re.escape(d) for d in sorted(self._domains, key=len, reverse=True))
                + r")(?![\w-])"
            )
            for text in texts:
                for match in under.finditer(text):
                    self._learn_host(match.group(1) + match.group(2))

    def _learn_target(self, target: str, role: str) -> None:
        if _is_address(target):
            self._learn_address(target, role)
        elif "=" in target:
            self._learn_dn(target)
        elif "." in target:
            self._learn_domain(target)

    def _learn_vantage(self, v: Vantage) -> None:
        self._learn_host(v.host)
        for target, source in v.source_addresses.items():
            self._learn_address(source, "SRC")
            self._learn_target(target, "ADDR")
        if v.subnet:
            self._learn_address(v.subnet.split("/", 1)[0], "NET")
        if v.relay.get("host"):
            self._learn_host(v.relay["host"])
        match = _URL_HOST.match(v.via)
        if match:
            host = match.group("host").strip("[]")
            if match.group("user"):
                self._learn_user(match.group("user"))
            # A via host that is the vantage's own label (an ssh_config alias) is a name the user chose.
            if host != v.label:
                if _is_address(host):
                    self._learn_address(host, "SRC")
                else:
                    self._learn_host(host)

    def _learn_result(self, r: CheckResult) -> None:
        if r.target:
            role = {"radius": "RADIUS", "dns": "DNS"}.get(r.category, "DC")
            if r.category in ("ports", "dcs", "directory", "account", "radius", "dns"):
                self._learn_target(r.target, role)
            else:
                self._learn_target(r.target, "ADDR")
        cldap_domain = r.facts.get("dns_domain_name")
        for key, value in _walk_facts(r.facts):
            self._learn_fact(r, key, value, cldap_domain if isinstance(cldap_domain, str) else None)

    def _learn_fact(self, r: CheckResult, key: str, value: str, cldap_domain: str | None) -> None:
        k = key.casefold()
        if k in _DOMAIN_KEYS:
            self._learn_domain(value)
        elif k == "netbios_domain_name":
            self._learn_netbios(value, cldap_domain)
        elif k in ("netbios_computer_name", *_HOST_KEYS):
            self._learn_host(value)
        elif k in _USER_KEYS:
            self._learn_user(value)
        elif k in _SITE_KEYS:
            self._learn_site(value)
        elif k == "qname" or k == "question":
            # "_ldap._tcp.dc._msdcs.corp.example" or "corp.example. SOA": the domain after the service labels.
            labels = value.split()[0].rstrip(".").split(".") if value.split() else []
            while labels and (labels[0].startswith("_") or any(x.startswith("_") for x in labels[1:])):
                labels = labels[1:]
            if len(labels) > 1:
                self._learn_domain(".".join(labels))
        elif k == "records":
            # An SRV record's text: "priority weight port target".
            parts = value.split()
            if len(parts) == 4:
                self._learn_host(parts[3])
        elif k == "dcs":
            self._learn_host(value.split(" ", 1)[0])
        if k in _DC_ADDRESS_KEYS:
            self._learn_address(value, "DC") if _is_address(value) else self._learn_host(value)
        elif k in _SOURCE_KEYS:
            self._learn_address(value, "SRC")
        elif k in _RADIUS_KEYS or (k == "address" and r.category == "radius"):
            self._learn_address(value, "RADIUS")
        if "=" in value and not value.startswith("="):
            self._learn_dn(value)

    def _learn_address(self, value: str, role: str) -> None:
        text = value.strip().strip("[]")
        if _is_address(text):
            canonical = str(ipaddress.ip_address(text))
            self._addresses.setdefault(canonical, set()).add(role)
            self._spellings.setdefault(canonical, {canonical}).add(text)

    def _learn_domain(self, value: str) -> None:
        name = value.strip().rstrip(".")
        if _is_address(name) or not _NAME_CHARS.match(name) or name.casefold() in _VOCABULARY:
            return
        if "@" in name:
            return
        self._domains.setdefault(name.casefold(), name)

    def _learn_netbios(self, value: str, dns_domain: str | None) -> None:
        name = value.strip()
        if len(name) < 2 or name.casefold() in _VOCABULARY or not _NAME_CHARS.match(name):
            return
        if dns_domain:
            self._learn_domain(dns_domain)
        self._netbios.setdefault(name.casefold(), dns_domain.casefold().rstrip(".") if dns_domain else None)

    def _learn_host(self, value: str) -> None:
        name = value.strip().rstrip(".")
        if not name or _is_address(name) or not _NAME_CHARS.match(name):
            if _is_address(name):
                self._learn_address(name, "ADDR")
            return
        first, _, rest = name.partition(".")
        if rest:
            self._learn_domain(rest)
        if len(first) >= 2 and first.casefold() not in _VOCABULARY and not first.isdigit():
            self._hosts.setdefault(first.casefold(), first)

    def _learn_user(self, value: str) -> None:
        name = value.strip()
        if "\\" in name:  # DOMAIN\user
            netbios, _, name = name.partition("\\")
            self._learn_netbios(netbios, None)
        if "@" in name:  # user@domain (UPN) or principal@REALM
            name, _, domain = name.partition("@")
            self._learn_domain(domain)
        if "/" in name:  # a service principal (krbtgt/REALM): not a user
            return
        if name.startswith(("CN=", "cn=")):
            self._learn_dn(name)
            return
        if len(name) < 2 or name.casefold() in _VOCABULARY or name.casefold() in _NOT_USERS or name.isdigit():
            return
        self._users.setdefault(name.casefold(), name)

    def _learn_site(self, value: str) -> None:
        name = value.strip()
        if name and name.casefold() != _DEFAULT_SITE and name.casefold() not in _VOCABULARY:
            self._sites.setdefault(name.casefold(), name)

    def _learn_dn(self, value: str) -> None:
        try:
            rdns = parse_dn(value)
        except InputError:
            return
        dc_labels = [r.value for r in rdns if r.attr.casefold() == "dc"]
        if dc_labels:
            self._learn_domain(".".join(dc_labels))
        for r in rdns:
            self._learn_rdn(r.attr, r.value)

    def _learn_rdn(self, attr: str, value: str) -> None:
        a, v = attr.casefold(), value.strip()
        if not v:
            return
        if a == "ou":
            self._ous.setdefault(v.casefold(), v)
        elif a == "cn" and v.casefold() not in (*_WELL_KNOWN_CN, *self._users) and not _is_guid(v):
            self._names.setdefault(v.casefold(), v)

    # -- replacing -----------------------------------------------------------------------------

    def _compile(self) -> re.Pattern[str]:
        """One alternation of every learned value, longest first, each with its own boundaries."""
        entries: list[tuple[str, str, str]] = []  # (literal for ordering, regex, token)

        def add(literal: str, regex: str, token: str) -> None:
            entries.append((literal, regex, token))

        for role_token, address in self._address_tokens():
            for form in self._spellings[address]:
                if ":" in form:
                    add(form, rf"(?i:(?<![0-9A-Fa-f:]){re.escape(form)}{_V6_END})", role_token)
                else:
                    add(form, rf"(?<![\d]){re.escape(form)}(?![\d])", role_token)
        domain_token = _numbered("DOMAIN", self._domains)
        for key, token in domain_token.items():
            name = self._domains[key]
            add(name, _name_regex(name), token)
            dn_form = r"\s*,\s*".join("DC=" + re.escape(label) for label in name.split("."))
            add("DC=" + name, rf"(?i:(?<![\w]){dn_form}(?![\w-]))", "DC=" + token)
        for key, dns_domain in self._netbios.items():
            same = domain_token.get(dns_domain) if dns_domain else None
            if key not in self._domains and key not in self._hosts:
                add(key, _name_regex(key), same or f"NETBIOS-{sorted(self._netbios).index(key) + 1}")
        for kind, table in (("HOST", self._hosts), ("USER", self._users), ("SITE", self._sites)):
            for key, token in _numbered(kind, table).items():
                add(table[key], _name_regex(table[key]), token)
        for kind, table in (("OU", self._ous), ("NAME", self._names)):
            for key, token in _numbered(kind, table).items():
                for form in {table[key], escape_rdn_value(table[key])}:
                    # Only inside a DN: an OU called "WorkSpaces" must not eat the product's name.
                    add(form, rf"(?i:(?:(?<=OU=)|(?<=CN=)){re.escape(form)}(?=\s*(?:[,+;)\"']|$)))", token)
        entries.sort(key=lambda e: (-len(e[0]), e[0]))
        parts = []
        self._tokens = {}
        for i, (_, regex, token) in enumerate(entries):
            self._tokens[f"g{i}"] = token
            parts.append(f"(?P<g{i}>{regex})")
        return re.compile("|".join(parts) or r"(?!x)x")

    def _address_tokens(self) -> Iterator[tuple[str, str]]:
        by_role: dict[str, list[str]] = {role: [] for role in _ROLES}
        for address, roles in self._addresses.items():
            role = next(r for r in _ROLES if r in roles or r == "ADDR")
            by_role[role].append(address)
        for role in _ROLES:
            ordered = sorted(
                by_role[role], key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a))
            )
            for n, address in enumerate(ordered, 1):
                yield f"{role}-{n}", address

    def text(self, value: str) -> str:
        """``value`` with every learned value replaced by its token."""
        if self._pattern is None:
            self._pattern = self._compile()
        tokens = self._tokens

        def token(m: re.Match[str]) -> str:
            assert m.lastgroup is not None
            return tokens[m.lastgroup]

        return self._pattern.sub(token, value)

    def apply(self, report: Report) -> Report:
        """The report with every string passed through :meth:`text`; ``redacted`` is set."""
        t = self.text
        return dataclasses.replace(
            report,
            vantage=self._vantage(report.vantage),
            vantages=tuple(self._vantage(v) for v in report.vantages),
            targets=tuple(t(x) for x in report.targets),
            results=tuple(self._result(r) for r in report.results),
            redacted=True,
        )

    def check_id(self, check_id: str) -> str:
        """A check id as :meth:`apply` writes it."""
        category, dot, rest = check_id.partition(".")  # the category is adprep's word, never a value
        return category + dot + self.text(rest)

    def _result(self, r: CheckResult) -> CheckResult:
        t = self.text
        return dataclasses.replace(  # every other field (status, reason…) is kept as it is
            r,
            id=self.check_id(r.id),
            title=t(r.title),
            facts={t(k): self._fact(v) for k, v in r.facts.items()},
            remedy=t(r.remedy) if r.remedy is not None else None,
            adc_error=t(r.adc_error) if r.adc_error is not None else None,
            target=t(r.target) if r.target is not None else None,
            vantage=t(r.vantage) if r.vantage is not None else None,
        )

    def _fact(self, value: FactValue) -> FactValue:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(k): self._fact(v) for k, v in value.items()}
        if isinstance(value, Sequence):
            return [self._fact(v) for v in value]
        return value

    def _vantage(self, v: Vantage) -> Vantage:
        t = self.text
        return dataclasses.replace(
            v,
            host=t(v.host),
            label=t(v.label) if v.label is not None else None,
            source_addresses={t(k): t(s) for k, s in v.source_addresses.items()},
            via=t(v.via),
            subnet=t(v.subnet) if v.subnet is not None else None,
            relay={k: t(s) for k, s in v.relay.items()},
            error=t(v.error) if v.error is not None else None,
        )


def _numbered(kind: str, table: Mapping[str, str]) -> dict[str, str]:
    """``{casefolded value: "KIND-n"}``, numbered in sorted order (stable across runs)."""
    return {key: f"{kind}-{n}" for n, key in enumerate(sorted(table), 1)}


def _name_regex(name: str) -> str:
    # Case-insensitive (DNS, NetBIOS and sAMAccountName all are); a name is whole when no name
    # character touches it: "lab.example" inside "dc1.lab.example" is whole, inside "xlab.example" not.
    return rf"(?i:(?<![A-Za-z0-9_-]){re.escape(name)}(?![A-Za-z0-9_-]))"


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_guid(text: str) -> bool:
    return re.fullmatch(r"\{?[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}?", text) is not None


def _addresses_in(text: str) -> Iterator[str]:
    for match in _IPV4.finditer(text):
        if _is_address(match.group(0)):
            yield match.group(0)
    if text.count(":") >= 2:
        for match in _IPV6.finditer(text):
            if _is_address(match.group(0)):
                yield match.group(0)


def _dc_run_domain(run: str) -> str:
    return ".".join(part.strip()[3:] for part in run.split(","))


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value).strip()


def _walk_facts(facts: Mapping[str, FactValue]) -> Iterator[tuple[str, str]]:
    """Every string in the facts with the key it sits under: list items under their list's key; a
    nested mapping's keys under no key (they are data: hosts, addresses, attribute names) and its
    values under their own key, except ``source_addresses``, whose values are all sources."""
    for k, v in facts.items():
        yield from _walk_value(k, v)


def _walk_value(key: str, value: FactValue) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield "", k
            yield from _walk_value(key if key in _SOURCE_KEYS else k, v)
    elif isinstance(value, Sequence):
        for v in value:
            yield from _walk_value(key, v)


def _report_strings(report: Report) -> Iterator[str]:
    yield from report.targets
    for v in (report.vantage, *report.vantages):
        yield from (v.host, v.via, *v.source_addresses, *v.source_addresses.values(), *v.relay.values())
        yield from (x for x in (v.label, v.subnet, v.error) if x)
    for r in report.results:
        yield from (r.id, r.title)
        yield from (x for x in (r.remedy, r.adc_error, r.target, r.vantage) if x)
        for _, s in _walk_facts(r.facts):
            yield s
