"""--via and [[vantage]] parsing: the forms adprep accepts, and one sentence for the others."""

from __future__ import annotations

import ipaddress

import pytest

from adprep.errors import InputError
from adprep.vantage import parse_vantage, vantages_from


def test_forms_and_defaults() -> None:
    assert parse_vantage("local").kind == "local"
    ssh = parse_vantage("ssh://ec2-user@10.1.1.23:2222")
    assert (ssh.kind, ssh.user, ssh.host, ssh.port, ssh.label) == (
        "ssh",
        "ec2-user",
        "10.1.1.23",
        2222,
        "10.1.1.23",
    )
    # No port: OpenSSH and ~/.ssh/config decide.
    assert parse_vantage("ssh://bastion-a").port is None
    assert parse_vantage("winrm://admin@win1").port == 5985
    assert parse_vantage("winrms://admin@win1").port == 5986
    assert parse_vantage("winrms://admin@win1").via == "winrms://admin@win1:5986"


def test_label_and_subnet() -> None:
    spec = parse_vantage("subnet-a=ssh://10.1.1.23?subnet=10.1.1.0/24")
    assert spec.label == "subnet-a"
    assert spec.subnet == ipaddress.ip_network("10.1.1.0/24")
    assert spec.via == "ssh://10.1.1.23"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("10.1.1.23", "not a vantage"),
        ("http://x", "not a vantage"),
        ("ssh://", "not a vantage"),
        ("ssh://h:99999", "port"),
        ("winrms://admin:hunter2@win1", "holds a password"),
        ("a b=ssh://h", "label"),
        ("ssh://h?subnet=10.1.1.0/33", "not a CIDR"),
        ("ssh://h?proxy=x", "unknown parameter"),
    ],
)
def test_bad_forms_are_one_sentence(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_vantage(text)
    assert fragment in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_flags_win_over_config_and_labels_are_unique() -> None:
    tables = [{"label": "subnet-a", "via": "ssh://10.1.1.23", "subnet": "10.1.1.0/24"}]
    assert [s.label for s in vantages_from([], tables)] == ["subnet-a"]
    assert [s.label for s in vantages_from(["local"], tables)] == ["local"]
    with pytest.raises(InputError, match="Two vantages"):
        vantages_from(["x=local", "x=ssh://h"])
    with pytest.raises(InputError, match="no 'via'"):
        vantages_from([], [{"label": "a"}])


def test_user_names_with_at_or_backslash_are_percent_encoded() -> None:
    assert parse_vantage("winrms://admin%40corp.example@win1").user == "admin@corp.example"
    assert parse_vantage("winrms://CORP%5Cadmin@win1").user == "CORP\\admin"
    assert parse_vantage("winrms://CORP\\admin@win1").user == "CORP\\admin"
