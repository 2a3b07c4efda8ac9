"""The catalogue of checks (adprep/catalogue.py): well formed, unambiguous, listed by ``adprep checks`` and
in the README. That every emitted id is declared, and every declared check emitted, is proven over the
whole test session (tests/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from adprep.catalogue import CATALOGUE, PLACEHOLDERS, check_id, lookup, render_markdown, spec
from adprep.cli.main import main
from tests.conftest import REPO

SAMPLE = {
    "address": "10.0.0.10",
    "port": 389,
    "interface": "lsa",
    "proto": "tcp",
    "record": "gc_tcp",
    "guid": "{AAAAAAAA-1111-1111-1111-111111111111}",
    "label": "subnet-a",
    "cidr": "10.1.1.0/24",
    "server": "radius.example.com",
    "area": "dns",
    "id": "ports.tcp.10.0.0.10.389",
}
SOURCES = (REPO / "docs" / "sources.md").read_text()


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda s: s.id)
def test_each_entry_is_well_formed_and_matches_only_its_own_ids(entry: object) -> None:
    from adprep.catalogue import CheckSpec

    assert isinstance(entry, CheckSpec)
    # Given a sample id of the entry
    assert set(entry.placeholders) <= set(PLACEHOLDERS)
    sample = entry.format(**{name: SAMPLE[name] for name in entry.placeholders})
    # Then it, and the same id from a vantage, are this entry's and no other's
    assert lookup(sample) is entry and lookup(f"{sample}@subnet-b") is entry
    assert [s.id for s in CATALOGUE if s.matches(sample)] == [entry.id]
    # and the entry says what it proves, what to do and, for a failure AD Connector reports, its text
    assert entry.title and entry.remedy and set(entry.statuses) <= {"pass", "warn", "fail", "skip"}
    assert entry.category == sample.split(".", 1)[0] or entry.id == "<area>.run"


def test_ids_are_declared_once() -> None:
    ids = [s.id for s in CATALOGUE]
    assert len(ids) == len(set(ids))


def _document(source: str) -> str:
    """The document a source cites: ``MS-ADTS``, ``RFC 4120``, ``CVE-2024-3596`` or an AWS guide's title."""
    if source.startswith("["):
        return source[1 : source.index("]")]
    if source.startswith(("RFC", "CVE")):
        return " ".join(source.split()[:2]) if source.startswith("RFC") else source.split()[0]
    return source.split(", '")[0]


def test_every_source_is_a_public_document_listed_in_docs_sources() -> None:
    for entry in CATALOGUE:
        for source in entry.sources:
            assert "REQUIREMENTS" not in source and "seed" not in source.lower()
            assert _document(source) in SOURCES, (entry.id, source)


def test_check_id_builds_only_declared_ids() -> None:
    assert check_id("ports.tcp.<address>.<port>", address="10.0.0.10", port=389) == "ports.tcp.10.0.0.10.389"
    assert check_id("drift.fixed.<id>", id="account.bind") == "drift.fixed.account.bind"
    with pytest.raises(KeyError):
        check_id("ports.sctp.<address>.<port>", address="10.0.0.10", port=1)
    with pytest.raises(KeyError):
        check_id("ports.tcp.<address>.<port>", address="10.0.0.10")
    with pytest.raises(ValueError):
        check_id("ports.tcp.<address>.<port>", address="10.0.0.10", port="http")
    with pytest.raises(ValueError):  # <id> must itself be a catalogued id
        check_id("paths.<id>", id="no.such.check")
    assert spec("account.bind").adc_error is not None


def test_unknown_ids_are_not_in_the_catalogue() -> None:
    for unknown in (
        "ports.sctp.10.0.0.10.1",
        "account.bnd",
        "paths.no.such",
        "drift.fixed.x.y",
        "dns.srv.x.1.tcp",
    ):
        assert lookup(unknown) is None, unknown


def test_readme_lists_the_catalogue() -> None:
    # The README's block is what scripts/gen-readme-checks writes from the catalogue
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "gen-readme-checks"), "--check"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    readme = (REPO / "README.md").read_text()
    assert render_markdown() in readme and "### Adding a check" in readme


def test_adprep_checks_lists_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == 0
    table = capsys.readouterr().out
    assert all(s.id in table for s in CATALOGUE)
    assert main(["checks", "--format", "json", "--category", "ports"]) == 0
    rows = json.loads(capsys.readouterr().out)["checks"]
    assert {r["id"] for r in rows} == {s.id for s in CATALOGUE if s.category == "ports"}
    tcp = next(r for r in rows if r["id"] == "ports.tcp.<address>.<port>")
    assert tcp["sources"] and "error" in tcp["statuses"] and "DNS unavailable" in tcp["adc_error"]
    assert main(["checks", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == render_markdown()


def test_adprep_checks_refuses_an_unknown_category(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--category", "nope"]) == 2
    err = capsys.readouterr().err
    assert "the categories: input, dns" in err and err.count("\n") == 1


def test_a_capped_concurrency_is_a_warning_and_an_uncapped_one_nothing() -> None:
    # (The CLI test of the real limit runs adprep in a child process, where this session cannot see it.)
    from adprep.jobs.ports import concurrency_notes

    (note,) = concurrency_notes([(100, 256), (256, 256)])
    assert note.id == "ports.concurrency" and note.status.value == "warn"
    assert note.facts == {"concurrency": 100, "wanted": 256}
    assert concurrency_notes([(256, 256)]) == []
