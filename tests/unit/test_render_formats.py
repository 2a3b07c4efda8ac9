"""Markdown, HTML and OpenMetrics renderers: failures first, matrices per vantage, escaping. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from adprep.model import CheckResult, Report, Status, Vantage
from adprep.render import digest
from adprep.render.html import render_html
from adprep.render.markdown import render_markdown
from adprep.render.openmetrics import render_openmetrics

T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
HOSTILE = 'GPO "<script>alert(1)</script>" & a | pipe\nand a newline'


def one_vantage() -> Report:
    return Report(
        command="preflight", tool_version="0.0.0-test", started_at=T, finished_at=T,
        vantage=Vantage(host="probe-host", label="on-prem", source_addresses={"10.0.0.10": "10.0.0.5"}),
        targets=("corp.example.com", "10.0.0.10"),
        results=(
            CheckResult("ports.tcp.10.0.0.10.389", Status.PASS, "TCP 389 (LDAP) on 10.0.0.10: open",
                        {"verdict": "open", "elapsed_ms": 1.25}, target="10.0.0.10"),
            CheckResult("gpo.banner.x", Status.WARN, HOSTILE, {"text": HOSTILE}, remedy=HOSTILE),
            CheckResult("account.rights.create_computer", Status.FAIL, "The account may not create computers",
                        {"container": "CN=Computers,DC=corp,DC=example,DC=com"},
                        remedy="Delegate the rights to the account's group (adprep delegate).",
                        adc_error="An error occurred. There was an error with the service account."),
            CheckResult("directory.vlv.search", Status.ERROR, "VLV search could not run", {"reason": "timeout"},
                        remedy="Check the DC."),
            CheckResult("account.join_probe", Status.SKIP, "Join probe: not run", {}),
        ),
    )  # fmt: skip


def three_vantages() -> Report:
    def probe(label: str, verdict: str, status: Status) -> CheckResult:
        return CheckResult(f"ports.tcp.10.0.0.10.389@{label}", status, f"TCP 389 on 10.0.0.10: {verdict}",
                           {"verdict": verdict}, target="10.0.0.10", vantage=label)  # fmt: skip

    return Report(
        command="ports", tool_version="0.0.0-test", started_at=T, finished_at=T,
        vantage=Vantage(host="probe-host"), targets=("10.0.0.10",),
        vantages=tuple(Vantage(host="probe-host", label=x, via="local" if x == "on-prem" else f"ssh://{x}")
                       for x in ("on-prem", "subnet-a", "subnet-b")),
        results=(
            probe("on-prem", "open", Status.PASS), probe("subnet-a", "open", Status.PASS),
            probe("subnet-b", "filtered", Status.FAIL),
            CheckResult("paths.ports.tcp.10.0.0.10.389", Status.FAIL, "TCP 389 filtered from subnet-b", {},
                        target="10.0.0.10"),
        ),
    )  # fmt: skip


def from_subnets() -> Report:
    """LDAP filtered from subnet-b (10.1.2.0/24) to the DC 10.0.0.10 (dc1.corp.example), and the path."""
    ldap = {"verdict": "filtered", "protocol": "tcp", "port": 389}
    return Report(
        command="preflight", tool_version="0.0.0-test", started_at=T, finished_at=T,
        vantage=Vantage(host="probe-host"), targets=("corp.example", "10.0.0.10"),
        vantages=(Vantage(host="probe-host", label="on-prem"),
                  Vantage(host="probe-host", label="subnet-b", via="ssh://subnet-b", subnet="10.1.2.0/24",
                          source_addresses={"10.0.0.10": "10.1.2.7"})),
        results=(
            CheckResult("dcs.found", Status.PASS, "1 domain controller(s) to check",
                        {"dcs": ["dc1.corp.example (10.0.0.10)"]}),
            CheckResult("ports.tcp.10.0.0.10.389@on-prem", Status.PASS, "TCP 389 on 10.0.0.10: open",
                        {**ldap, "verdict": "open"}, target="10.0.0.10", vantage="on-prem"),
            CheckResult("ports.tcp.10.0.0.10.389@subnet-b", Status.FAIL, "TCP 389 on 10.0.0.10: filtered", ldap,
                        remedy="Allow TCP 389.", adc_error="Connectivity issues detected: LDAP unavailable",
                        target="10.0.0.10", vantage="subnet-b"),
            CheckResult("paths.ports.tcp.10.0.0.10.389", Status.FAIL, "TCP 389 filtered from subnet-b", {},
                        target="10.0.0.10"),
        ),
    )  # fmt: skip


def test_failures_carry_the_commands_adprep_fix_prints_once_each() -> None:
    # Given LDAP filtered from subnet-b, when the report is rendered for people
    page = render_html(from_subnets(), exit_status=1)
    failures = page[page.index('<section id="failures">') : page.index('<section id="matrix">')]
    # Then the first failure has the Windows Firewall rule and the security-group rules for that subnet
    first = failures[: failures.index('id="r-paths.')]
    assert "-RemoteAddress &#x27;10.1.2.0/24&#x27;" in first and "dc1.corp.example" in first
    assert "aws ec2 authorize-security-group-ingress" in first and "10.0.0.10/32" in first
    # And the path's failure points at them instead of repeating them, by an in-page link
    second = failures[failures.index('id="r-paths.') :]
    assert "New-NetFirewallRule" not in second
    assert '<a href="#r-ports.tcp.10.0.0.10.389@subnet-b">' in second
    assert all(ref.startswith("#") for ref in outline(page).refs)
    # And Markdown says the same
    text = render_markdown(from_subnets())
    assert "- **Run by hand:** Allow TCP 389 (LDAP) from the AD Connector subnets" in text
    assert text.count("New-NetFirewallRule -Name") == 1
    assert "the commands under `ports.tcp.10.0.0.10.389@subnet-b`" in text


def test_markdown_puts_the_summary_then_failures_first() -> None:
    text = render_markdown(one_vantage(), exit_status=1)
    # Then the summary table precedes the failures, which precede what could not run, the warnings, the rest
    order = [
        "| **FAIL** | 1 |",
        "## Failures (1)",
        "## Could not run (1)",
        "## Warnings (1)",
        "## All checks (5)",
    ]
    positions = [text.index(x) for x in order]
    assert positions == sorted(positions)
    assert text.startswith(
        "# adprep preflight report\n\n**1 failed, 1 could not run, 1 warnings, 1 passed, 1 skipped"
    )
    # And a failure carries the AD Connector error, the fix and the adprep command the fix names
    failure = text[text.index("## Failures") : text.index("## Could not run")]
    assert "- **AD Connector would report:** An error occurred." in failure
    assert "- **Fix:** Delegate the rights" in failure and "- **Command:** `adprep delegate`" in failure
    # And a single vantage has no matrix but the note on what a run from one host proves
    assert "Per-vantage matrix" not in text and "> A run from an on-premises host" in text


def test_markdown_escapes_text_so_it_cannot_become_markup_or_break_a_table() -> None:
    text = render_markdown(one_vantage())
    # Then outside code spans (where GFM shows text as it is) no tag survives
    prose = re.sub(r"``.*?``|`[^`]*`", "", text)
    assert "<script>" not in prose and "\\<script\\>" in prose
    row = next(line for line in text.splitlines() if line.startswith("| WARN | `gpo.banner.x`"))
    assert row.count(" | ") == 2 and "\\| pipe and a newline |" in row  # one cell, one line


def test_markdown_matrix_has_one_row_per_check_and_one_column_per_vantage() -> None:
    text = render_markdown(three_vantages())
    assert "| check | `on-prem` | `subnet-a` | `subnet-b` |" in text
    assert "| `ports.tcp.10.0.0.10.389` | pass (open) | pass (open) | **fail (filtered)** |" in text


class _Outline(HTMLParser):
    """Section ids, external references and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.refs: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "id" and value and tag in ("section", "header"):
                self.ids.append(value)
            if name in ("src", "href") and value:
                self.refs.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def test_html_is_one_file_with_summary_then_failures_first() -> None:
    page = render_html(one_vantage(), exit_status=1)
    o = outline(page)
    # Then the sections come in the order a person needs them
    assert o.ids == ["summary", "failures", "errors", "warnings", "all"]
    # And nothing is fetched: no script, no link, no image, and a policy that forbids loading any
    assert o.refs == [] and not {"script", "link", "img", "iframe"} & o.tags
    assert "default-src 'none'" in page and "@media print" in page
    failure = page[page.index('<section id="failures">') : page.index('<section id="errors">')]
    assert "AD Connector would report:</b> An error occurred." in failure
    assert '<pre class="command">adprep delegate</pre>' in failure


def test_html_escapes_every_text() -> None:
    page = render_html(one_vantage())
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "alert(1)" in " ".join(outline(page).text)  # shown as text
    assert "&quot;&lt;script&gt;" in page  # quotes inside text and attributes are escaped too


def test_html_has_a_failures_section_even_when_nothing_failed() -> None:
    report = one_vantage()
    passing = Report(**{**report.__dict__, "results": report.results[:1]})
    page = render_html(passing)
    assert '<section id="failures">' in page and "No check failed." in page
    assert '<section id="errors">' not in page


def test_html_matrix_for_several_vantages() -> None:
    page = render_html(three_vantages())
    matrix = page[page.index('<section id="matrix">') : page.index('<section id="all">')]
    assert "<th>on-prem</th><th>subnet-a</th><th>subnet-b</th>" in matrix.replace("\n", "")
    assert '<td class="c-fail">fail (filtered)</td>' in matrix
    assert digest.vantage_matrix(one_vantage()) is None


def test_openmetrics_state_set_per_check_with_escaped_labels() -> None:
    text = render_openmetrics(one_vantage(), exit_status=1)
    lines = text.splitlines()
    # Then the output ends with # EOF and every family has HELP and TYPE gauge
    assert lines[-1] == "# EOF" and text.endswith("# EOF\n")
    families = {m.group(1) for m in re.finditer(r"^# TYPE (\S+) gauge$", text, re.M)}
    assert families == {
        "adprep_check_status", "adprep_check_duration_seconds", "adprep_checks",
        "adprep_run_timestamp_seconds", "adprep_run_duration_seconds", "adprep_run_exit_status",
    }  # fmt: skip
    # And each check has one sample per status, 1 for the status it got
    ldap = [x for x in lines if x.startswith("adprep_check_status{") and 'id="ports.tcp.10.0.0.10.389"' in x]
    assert len(ldap) == 5
    assert [x.rsplit(" ", 1)[1] for x in ldap] == ["1", "0", "0", "0", "0"]
    assert ldap[0] == (
        'adprep_check_status{command="preflight",id="ports.tcp.10.0.0.10.389",category="ports",'
        'vantage="on-prem",target="10.0.0.10",status="pass"} 1'
    )
    assert 'adprep_check_duration_seconds{command="preflight",id="ports.tcp.10.0.0.10.389"' in text
    assert text.count("adprep_check_duration_seconds{") == 1  # only facts with elapsed_ms
    assert f'adprep_run_timestamp_seconds{{command="preflight"}} {int(T.timestamp())}' in lines
    assert 'adprep_checks{command="preflight",status="fail"} 1' in lines
    assert 'adprep_run_exit_status{command="preflight"} 1' in lines


def test_openmetrics_label_values_are_escaped() -> None:
    report = one_vantage()
    odd = CheckResult("gpo.x", Status.PASS, "t", {}, target='a "quoted"\\path\nnext')
    text = render_openmetrics(Report(**{**report.__dict__, "results": (odd,)}))
    assert 'target="a \\"quoted\\"\\\\path\\nnext"' in text


def test_openmetrics_vantages_are_a_label_and_ids_lose_only_their_suffix() -> None:
    text = render_openmetrics(three_vantages())
    assert (
        'id="ports.tcp.10.0.0.10.389",category="ports",vantage="subnet-b",target="10.0.0.10",status="fail"} 1'
        in text
    )
    series = re.findall(r"^(adprep_check_status\{[^}]*\})", text, re.M)
    assert len(series) == len(set(series))  # no duplicate series
