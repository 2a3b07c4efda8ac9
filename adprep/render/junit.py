"""The report as JUnit XML: one testsuite per check category, one testcase per check.

fail → <failure>, error → <error>, skip → <skipped>; warn passes with the warning in <system-out>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from adprep.model import CheckResult, Report, Status, Summary


def _text(result: CheckResult) -> str:
    lines = [result.title]
    if result.adc_error:
        lines.append(f"AD Connector would report: {result.adc_error}")
    if result.remedy:
        lines.append(f"Fix: {result.remedy}")
    lines.extend(f"{k}: {v}" for k, v in result.facts.items())
    return "\n".join(lines)


def render_junit(report: Report) -> str:
    by_category: dict[str, list[CheckResult]] = defaultdict(list)
    for result in report.results:
        by_category[result.category].append(result)
    total = report.summary
    root = ET.Element(
        "testsuites",
        name=f"adprep {report.command}",
        tests=str(len(report.results)),
        failures=str(total.failed),
        errors=str(total.errors),
        skipped=str(total.skipped),
        time=f"{report.duration_s:.3f}",
    )
    for category, results in by_category.items():
        counts = Summary.of(results)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"adprep.{category}",
            tests=str(len(results)),
            failures=str(counts.failed),
            errors=str(counts.errors),
            skipped=str(counts.skipped),
            timestamp=report.started_at.isoformat(),
            hostname=report.vantage.host,
        )
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=f"adprep.{category}", name=result.id)
            if result.status is Status.FAIL:
                ET.SubElement(case, "failure", message=result.title, type="fail").text = _text(result)
            elif result.status is Status.ERROR:
                ET.SubElement(case, "error", message=result.title, type="error").text = _text(result)
            elif result.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=result.title)
            elif result.status is Status.WARN:
                ET.SubElement(case, "system-out").text = "WARNING: " + _text(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
