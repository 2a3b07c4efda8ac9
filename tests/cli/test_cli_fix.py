"""``adprep fix``'s contract without a directory: a real preflight report (the routed lab's subnet-b, whose
security group drops TCP 389 and UDP 88) read with ``--from`` becomes commands, JSON that matches
``adprep/schema/fix-v1.json``; bad input is exit 2 with one sentence, before any connection."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from adprep.cli.main import main
from tests.conftest import FIXTURES, REPO

SCHEMA = json.loads((REPO / "adprep" / "schema" / "fix-v1.json").read_text())
PLAN_SCHEMA = json.loads((REPO / "adprep" / "schema" / "plan-v1.json").read_text())
REPORT = FIXTURES / "fix" / "preflight-subnet-b.json"
REDACTED = FIXTURES / "fix" / "preflight-redacted.json"


def validate_fix(data: object) -> None:
    """Against fix-v1.json, which refers to plan-v1.json by its $id."""
    registry: Registry[object] = Registry().with_resource(
        PLAN_SCHEMA["$id"], Resource.from_contents(PLAN_SCHEMA)
    )
    jsonschema.Draft202012Validator(SCHEMA, registry=registry).validate(data)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ADPREP_USER", "ADPREP_DC", "ADPREP_DOMAIN", "ADPREP_PASSWORD", "ADPREP_SERVICE_PASSWORD",
                 "ADPREP_CONFIG", "ADPREP_DNS_IP"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_a_report_without_an_admin_becomes_commands(capsys: pytest.CaptureFixture[str]) -> None:
    # When fix reads the report, with no account to write with
    code = main(
        ["fix", "--from", str(REPORT), "--security-group", "sg-0123456789abcdef0", "--format", "json"]
    )
    data = json.loads(capsys.readouterr().out)
    # Then nothing is planned over LDAP, and the JSON is fix-v1
    assert code == 0
    validate_fix(data)
    assert data["source"] == {"kind": "report", "report": str(REPORT), "domain": "lab.example",
                              "preflight_started_at": data["source"]["preflight_started_at"]}  # fmt: skip
    assert data["remedies"] == [] and data["plan"]["changes"] == []
    # The security groups: TCP 389 and UDP 88 to the DC from subnet-b's CIDR only
    steps = {s["id"]: s for s in data["commands"]}
    sg = steps["aws.security-groups:198.18.0.2"]
    assert sg["shell"] == "sh" and len(sg["commands"]) == 2
    egress, ingress = sg["commands"]
    assert egress.startswith("aws ec2 authorize-security-group-egress --group-id sg-0123456789abcdef0 ")
    assert ingress.startswith("aws ec2 authorize-security-group-ingress --group-id sg-DOMAINCONTROLLERS ")
    rules = json.loads(ingress.split(" --ip-permissions ", 1)[1].strip("'"))
    assert [
        (r["IpProtocol"], r["FromPort"], r["ToPort"], [x["CidrIp"] for x in r["IpRanges"]]) for r in rules
    ] == [
        ("tcp", 389, 389, ["198.18.2.0/24"]),
        ("udp", 88, 88, ["198.18.2.0/24"]),
    ]
    assert sorted(sg["addresses"]) == [
        "ports.tcp.198.18.0.2.389@subnet-b",
        "ports.udp.198.18.0.2.88@subnet-b",
    ]
    fw = steps["windows-firewall:198.18.0.2"]
    assert fw["shell"] == "powershell"
    assert fw["commands"][0].startswith("New-NetFirewallRule -Name 'adprep-adc-tcp-389-from-198.18.2.0_24' ")
    assert fw["commands"][0].endswith("-Protocol TCP -LocalPort 389 -RemoteAddress '198.18.2.0/24'")
    # The subnets the report found outside any site are left, saying an account that writes is needed
    left = {x["id"]: x for x in data["not_fixed"]}
    assert "--user" in left["sites.subnets"]["reason"]
    assert not any(i.startswith("paths.") for i in left)


def test_the_table_prints_each_command_on_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fix", "--from", str(REPORT), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "To do where adprep cannot write (2):" in out
    assert (
        "\n   aws ec2 authorize-security-group-ingress --group-id sg-DOMAINCONTROLLERS --ip-permissions '["
        in out
    )
    assert "\n   New-NetFirewallRule -Name 'adprep-adc-udp-88-from-198.18.2.0_24' " in out


def test_an_unreachable_writer_is_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used-1A")
    code = main(["fix", "--from", str(REPORT), "--user", "Administrator", "--dc", "127.0.0.99", "--ldap-mode",
                 "plain", "--dry-run"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def _not_json(tmp_path: Path) -> Path:
    path = tmp_path / "notes.json"
    path.write_text("not json\n")
    return path


@pytest.mark.parametrize(("args", "words"), [
    (["--from", "/nonexistent/preflight.json"], "does not exist"),
    (["--from", str(REDACTED)], "--redact"),
    (["--from", str(FIXTURES / "golden" / "ports-report.json")], "a report of 'adprep ports'"),
    (["--from", "NOTJSON"], "is not JSON"),
    (["--from", str(REPORT), "--subnet", "10.1.1.5/24"], "Did you mean 10.1.1.0/24?"),
    (["--from", str(REPORT), "--subnet", "10.1.1.0/33"], "is not a network in CIDR form"),
    (["--from", str(REPORT), "--subnet", "subnet-a"], "is not a network in CIDR form"),
    (["--from", str(REPORT), "--security-group", "web-servers"], "is not a security group id"),
    (["--from", str(REPORT), "--via", "local"], "--from reads a preflight report"),
    (["--from", str(REPORT), "--preauth-user", "CORP\\jdoe"], "is not a user logon name"),
    (["--from", str(REPORT), "--site", " "], "--site is empty"),
    (["--domain", "lab.example", "--dns-ip", "10.0.0.10", "--subnet", "300.1.1.0/24"], "is not a network"),
    ([], "No domain given"),
])  # fmt: skip
def test_bad_input_is_one_sentence_and_exit_2(
    args: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(_not_json(tmp_path)) if a == "NOTJSON" else a for a in args]
    code = main(["fix", *args, "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert words in err
    assert err.startswith("adprep: error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_preflight_refuses_a_bad_subnet_before_any_traffic(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["preflight", "--domain", "corp.example.com", "--dns-ip", "10.0.0.10", "--subnet", "10.1.1.7/24"]
    )
    assert code == 2 and "Did you mean 10.1.1.0/24?" in capsys.readouterr().err


def test_no_dc_to_write_to_is_said_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an account that may write, and DNS servers that do not answer (nothing listens on 127.0.0.99)
    monkeypatch.setenv("ADPREP_PASSWORD", "not-used-1A")
    code = main(["fix", "--domain", "lab.example", "--dns-ip", "127.0.0.99", "--user", "Administrator",
                 "--subnet", "10.9.9.0/24", "--timeout", "1", "--dry-run", "--format", "json"])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    validate_fix(data)
    # Then nothing is planned, and the subnet is left saying why: no DC to write to, not a missing --user
    assert code == 0 and data["plan"]["changes"] == []
    reason = {x["id"]: x["reason"] for x in data["not_fixed"]}["sites.subnets"]
    assert "--dc" in reason and "--user" not in reason
