"""Finding a DC from a host name or the domain alone: the pure parts (SRV order, input checks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adprep.collect.dc_locator import order_srv
from adprep.errors import InputError
from adprep.facts.dns import SrvRecord
from adprep.jobs.directory_session import directory_settings
from adprep.validate import is_address


def test_srv_targets_are_tried_by_priority_then_heaviest_weight() -> None:
    # Given the DC locator records of three DCs, one listed twice
    records = [
        SrvRecord(10, 100, 389, "dc-backup.corp.example"),
        SrvRecord(0, 10, 389, "dc-light.corp.example"),
        SrvRecord(0, 90, 389, "dc-heavy.corp.example"),
        SrvRecord(0, 90, 389, "dc-heavy.corp.example"),
    ]
    # Then the lowest priority comes first, the heaviest weight first within it, each target once
    assert [r.target for r in order_srv(records)] == [
        "dc-heavy.corp.example",
        "dc-light.corp.example",
        "dc-backup.corp.example",
    ]


@pytest.mark.parametrize(
    ("text", "expected"), [("10.0.0.10", True), ("::1", True), ("dc1.corp.example", False)]
)
def test_addresses_and_host_names_are_told_apart(text: str, expected: bool) -> None:
    assert is_address(text) is expected


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"dc": "dc 1.corp.example"}, "neither an IP address nor a host name"),
        ({"dc": "-dc1"}, "neither an IP address nor a host name"),
        ({"dc": None, "dns_ips": ["dns1"]}, "not an IP address"),
        ({"dc": None, "domain": None}, "No domain given"),
    ],
)
def test_bad_dc_inputs_are_one_sentence_before_any_password_or_traffic(
    kw: dict[str, object], needle: str, tmp_path: Path
) -> None:
    # Given no password anywhere (reading one would fail with another sentence)
    args: dict[str, object] = {
        "domain": "corp.example.com",
        "user": "admin",
        "password_file": tmp_path / "none",
    }
    args.update(kw)
    # When the DC inputs are bad, then that is what is reported
    with pytest.raises(InputError) as e:
        directory_settings(**args)  # type: ignore[arg-type]
    assert needle in str(e.value) and "\n" not in str(e.value)
