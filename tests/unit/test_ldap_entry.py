"""transport.ldap.Entry: the typed readers collectors use."""

from __future__ import annotations

from datetime import UTC, datetime

from adprep.transport.ldap import Entry


def test_integer_reads_the_first_value_and_is_none_when_absent_or_not_a_number() -> None:
    e = Entry(
        "CN=x", {"a": ["512"], "b": [7, 8], "c": ["n/a"], "d": [datetime(2026, 1, 1, tzinfo=UTC)], "e": []}
    )
    assert (e.integer("a"), e.integer("b")) == (512, 7)
    assert e.integer("c") is None and e.integer("d") is None
    assert e.integer("e") is None and e.integer("missing") is None
