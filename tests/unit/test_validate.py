from __future__ import annotations

import pytest

from adprep.errors import InputError
from adprep.jobs.ports import ports_settings
from adprep.validate import check_timeout, parse_addresses, parse_port_list


def test_port_list_with_ranges_and_duplicates() -> None:
    assert parse_port_list("53, 88,88,1024-1026", option="--tcp") == (53, 88, 1024, 1025, 1026)


@pytest.mark.parametrize("text", ["0", "65536", "http", "10-5", "1-10000"])
def test_bad_port_lists_are_one_sentence(text: str) -> None:
    with pytest.raises(InputError) as e:
        parse_port_list(text, option="--tcp")
    assert "--tcp" in e.value.sentence()
    assert "\n" not in e.value.sentence()


def test_addresses_normalised_and_hostnames_refused() -> None:
    assert parse_addresses(["10.0.0.1,10.0.0.2", "10.0.0.1"]) == ("10.0.0.1", "10.0.0.2")
    with pytest.raises(InputError, match="not an IP address"):
        parse_addresses(["dc1.corp.example"])


def test_timeout_bounds() -> None:
    with pytest.raises(InputError):
        check_timeout(0)
    assert check_timeout(0.5) == 0.5


def test_profile_ports_and_explicit_lists() -> None:
    s = ports_settings(targets=["10.0.0.1"], profile="legacy-2016", tcp=None, udp=None, timeout=2, concurrency=10,
                       vantage=None)  # fmt: skip
    assert 9389 in s.tcp and 9389 in s.advisory_tcp and 138 in s.udp
    s = ports_settings(
        targets=["10.0.0.1"], profile=None, tcp=(636,), udp=None, timeout=2, concurrency=10, vantage=None
    )
    assert s.tcp == (636,) and s.udp == ()
    s = ports_settings(
        targets=["10.0.0.1"], profile=None, tcp=None, udp=None, timeout=2, concurrency=10, vantage=None
    )
    assert s.profile == "adc-minimum" and s.tcp == (53, 88, 389)
