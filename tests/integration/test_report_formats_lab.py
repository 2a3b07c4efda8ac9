"""Reports of a real run in every format: --redact leaves no name or address behind, the HTML page
loads in headless Chromium without a console message, the OpenMetrics text passes promtool and is
served by node_exporter's textfile collector and by a Pushgateway (Debian's packages, on 127.0.0.1).

The run is a preflight of the routed lab's dc4 (LAB.EXAMPLE on 198.18.0.2) from this host and from
both "AD Connector subnets" over SSH; subnet-b's security group drops TCP 389 and UDP 88, so the
report has failures, path differences and a per-vantage matrix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import REPO, LabDc, LabNet, _dc, missing_peer
from tests.loopback import unused_port

pytestmark = pytest.mark.lab

FORMATS = ("table", "json", "junit", "markdown", "html", "openmetrics")
SCHEMA = json.loads((REPO / "adprep" / "schema" / "report-v1.json").read_text())


@pytest.fixture(scope="module")
def dc4() -> LabDc:
    return _dc("dc4")


@pytest.fixture(scope="module")
def redacted(lab_net: LabNet, dc4: LabDc, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The same preflight, redacted, in every format: format -> text."""
    out = tmp_path_factory.mktemp("reports")
    a, b = lab_net.subnets["subnet-a"], lab_net.subnets["subnet-b"]
    argv = [
        "--quiet", "preflight", "--domain", dc4.domain, "--dns-ip", lab_net.dc, "--user", dc4.admin_user,
        "--ca-file", dc4.tls_ca, "--timeout", "1", "--ssh-config", lab_net.ssh_config,
        "--via", "on-prem=local", "--via", f"subnet-a=ssh://{a.ssh}?subnet={a.cidr}",
        "--via", f"subnet-b=ssh://{b.ssh}?subnet={b.cidr}", "--redact",
    ]  # fmt: skip
    # Six whole runs at once, each its own process (a run waits mostly on subnet-b's 1 s timeouts); each
    # run redacts on its own, so equal tokens across formats also prove that tokens are stable.
    env = {**os.environ, "ADPREP_PASSWORD": dc4.admin_password}
    run = "import sys; from adprep.cli.main import main; sys.exit(main(sys.argv[1:]))"
    procs = {
        fmt: subprocess.Popen(
            [sys.executable, "-c", run, *argv, "--format", fmt, "-o", str(out / f"preflight.{fmt}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for fmt in FORMATS
    }
    texts: dict[str, str] = {}
    for fmt, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        # subnet-b's dropped LDAP and Kerberos fail the run: exit 1
        assert proc.returncode == 1, f"{fmt}: {stdout}{stderr}"
        texts[fmt] = (out / f"preflight.{fmt}").read_text()
    (out / "preflight.html").rename(out / "report.html")
    texts["html_path"] = str(out / "report.html")
    return texts


def originals(net: LabNet, dc: LabDc) -> list[tuple[str, re.Pattern[str]]]:
    """Every value of the lab that --redact must replace, each with how to find it in text."""

    def word(value: str, *, case: bool = False) -> re.Pattern[str]:
        return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(value)}(?![A-Za-z0-9_-])", 0 if case else re.I)

    values = [
        ("any IPv4 address", re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d])")),
        ("the DC address", word(net.dc)),
        ("the domain", word(dc.domain)),
        ("the realm", word(dc.realm)),
        ("the NetBIOS domain", word(dc.raw["netbios_domain"], case=True)),
        ("the DC's host name", word(dc.fqdn.split(".")[0])),
        ("the base DN", re.compile(re.escape(dc.base_dn).replace(",", r",\s*"), re.I)),
        ("the account's DN", re.compile(rf"CN={dc.admin_user}\b", re.I)),
        ("the user name", word(dc.admin_user)),
    ]
    for s in net.subnets.values():
        values.append((f"{s.key}'s address", word(s.address)))
        values.append((f"{s.key}'s network", word(s.cidr.split("/")[0])))
    host = socket.gethostname()
    if host.lower() != "localhost":  # adprep's vocabulary: nothing to hide in it
        values.append(("this host's name", word(host)))
    return values


def test_no_original_value_survives_in_any_format(
    redacted: dict[str, str], lab_net: LabNet, dc4: LabDc
) -> None:
    # Then, in every format, none of the lab's addresses, names, DNs or user names is left
    for fmt in FORMATS:
        for what, pattern in originals(lab_net, dc4):
            found = pattern.search(redacted[fmt])
            assert found is None, f"{what} survives in {fmt}: {found.group(0) if found else ''!r}"
    # And the tokens say what the values were, the same in every format
    data = json.loads(redacted["json"])
    jsonschema.validate(data, SCHEMA)
    assert data["redacted"] is True and data["exit_status"] == 1
    ids = {r["id"] for r in data["results"]}
    assert "ports.tcp.DC-1.389@subnet-b" in ids and "paths.ports.tcp.DC-1.389" in ids
    paths = next(r for r in data["results"] if r["id"] == "paths.ports.tcp.DC-1.389")
    assert "filtered from subnet-b (source SRC-" in paths["title"]
    assert "between subnet-b and DC-1 drops it" in paths["title"]
    bind = next(r for r in data["results"] if r["id"] == "account.bind")
    assert re.fullmatch(r"USER-\d+@DOMAIN-1", bind["facts"]["bind_name"])
    for fmt in ("junit", "markdown", "html", "openmetrics"):
        assert "ports.tcp.DC-1.389" in redacted[fmt], fmt
    assert "DC-1" in redacted["table"]


def test_html_loads_in_chromium_without_console_messages(redacted: dict[str, str], tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        missing_peer("chromium is needed to load the HTML report (apt-get install chromium)")
    assert chromium is not None

    def load(page: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
             "--hide-scrollbars", "--window-size=1100,1400", f"--user-data-dir={tmp_path / 'profile'}",
             *extra, "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc, [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]

    # When headless Chromium loads the page (one launch: the DOM and a screenshot)
    shot = tmp_path / "report.png"
    report = Path(redacted["html_path"])
    proc, console = load(report, f"--screenshot={shot}")
    # Then the page logged nothing to the console: no error, and no load its policy had to block
    assert console == []
    # (while the same page with one external image and one script logs both, blocked: the check can fail)
    control = tmp_path / "control.html"
    control.write_text(
        report.read_text().replace("</body>", '<img src="http://192.0.2.1/x.png"><script>1</script></body>')
    )
    _, blocked = load(control)
    assert len(blocked) == 2 and all("Content Security Policy" in line for line in blocked), blocked
    # And the failures section is there, first after the summary, with subnet-b's filtered LDAP
    dom = proc.stdout
    assert dom.index('id="summary"') < dom.index('<section id="failures">') < dom.index('id="matrix"')
    failures = dom[dom.index('<section id="failures">') : dom.index("</section>", dom.index('id="failures"'))]
    assert "ports.tcp.DC-1.389@subnet-b" in failures and "AD Connector would report:" in failures
    # with the commands to run where adprep cannot write: subnet-b's rule, in the report's tokens
    assert "Run by hand:" in failures and "aws ec2 authorize-security-group-ingress" in failures
    assert re.search(r"New-NetFirewallRule -Name [^<]*-RemoteAddress 'NET-\d+/24'", failures)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_openmetrics_of_a_real_run_passes_promtool(redacted: dict[str, str]) -> None:
    exe = shutil.which("promtool")
    if exe is None:
        missing_peer("promtool is needed to validate OpenMetrics output (apt-get install prometheus)")
    assert exe is not None
    text = redacted["openmetrics"]
    proc = subprocess.run([exe, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr
    assert re.search(
        r'^adprep_check_status\{command="preflight",id="ports\.tcp\.DC-1\.389",category="ports",'
        r'vantage="subnet-b",target="DC-1",status="fail"\} 1$',
        text,
        re.M,
    )


def _scrape(url: str, proc: subprocess.Popen[bytes]) -> str:
    """GET ``url`` once the server ``proc`` listens (a few seconds at most)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _server(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_openmetrics_is_read_by_node_exporter_and_the_pushgateway(
    redacted: dict[str, str], tmp_path: Path
) -> None:
    exporter = shutil.which("prometheus-node-exporter")
    gateway = shutil.which("prometheus-pushgateway")
    if exporter is None or gateway is None:
        missing_peer("node_exporter and the Pushgateway are needed (apt-get install prometheus-node-exporter "
                     "prometheus-pushgateway)")  # fmt: skip
    assert exporter is not None and gateway is not None
    text = redacted["openmetrics"]
    # Given the report in a textfile collector's directory, and a Pushgateway, both on 127.0.0.1
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    (textfiles / "adprep.prom").write_text(text)
    e_port, g_port = unused_port(), unused_port()
    node = _server([exporter, f"--web.listen-address=127.0.0.1:{e_port}", "--collector.disable-defaults",
                    "--collector.textfile", f"--collector.textfile.directory={textfiles}"])  # fmt: skip
    push = _server([gateway, f"--web.listen-address=127.0.0.1:{g_port}"])
    try:
        # When node_exporter is scraped, then it serves adprep's series and read the file without error
        scraped = _scrape(f"http://127.0.0.1:{e_port}/metrics", node)
        assert "node_textfile_scrape_error 0" in scraped
        failed = (
            'adprep_check_status{category="ports",command="preflight",id="ports.tcp.DC-1.389",'
            'status="fail",target="DC-1",vantage="subnet-b"} 1'
        )
        assert failed in scraped
        assert scraped.count("\nadprep_check_status{") == text.count("\nadprep_check_status{")
        # When the same text is pushed to the Pushgateway, then it accepts it and serves it under the job
        _scrape(f"http://127.0.0.1:{g_port}/metrics", push)  # listening
        request = urllib.request.Request(
            f"http://127.0.0.1:{g_port}/metrics/job/adprep", data=text.encode(), method="PUT"
        )
        with urllib.request.urlopen(request, timeout=5) as reply:
            assert reply.status == 200
        served = _scrape(f"http://127.0.0.1:{g_port}/metrics", push)
        assert re.search(
            r'^adprep_run_exit_status\{command="preflight",instance="",job="adprep"\} 1$', served, re.M
        )
        assert re.search(
            r'^adprep_check_status\{[^}]*id="ports\.tcp\.DC-1\.389",instance="",job="adprep",status="fail",[^}]*'
            r'vantage="subnet-b"\} 1$',
            served,
            re.M,
        )
        assert served.count("\nadprep_check_status{") == text.count("\nadprep_check_status{")
    finally:
        _stop(node)
        _stop(push)
