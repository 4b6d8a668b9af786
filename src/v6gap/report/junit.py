"""JUnit XML for CI dashboards: one test suite for the host, one test case per check.

``fail`` is a ``<failure>`` typed with the severity, ``unknown`` an ``<error type="unknown">``
(the check could not decide), ``skip`` a ``<skipped>``; ``pass`` and ``info`` pass, ``info``
with its evidence in ``<system-out>``. The layout follows Jenkins' junit-10.xsd, which allows
no ``skipped`` count on ``<testsuites>``: the skips are counted on the ``<testsuite>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from v6gap.model import Finding, Report, Status
from v6gap.report._common import describe_subject, family, one_line, printable

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _text(text: str) -> str:
    """Element text that XML 1.0 can carry, controls and undecodable bytes made visible."""
    return printable(text, tab="\t")


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    lines = [f"{title}:"]
    for item in items:
        first, *rest = item.split("\n")
        lines.append(f"  - {first}")
        lines.extend(f"    {line}" for line in rest)
    return lines


def _body(finding: Finding) -> str:
    lines: list[str] = []
    if finding.reason:
        lines.append(finding.reason)
    lines.append(f"Severity: {finding.severity.value}")
    lines.extend(_section("Subjects", [describe_subject(s) for s in finding.subjects]))
    lines.extend(_section("Evidence", list(finding.evidence)))
    if finding.remediation.strip():
        lines.append("Remediation:")
        lines.extend(f"  {line}".rstrip() for line in finding.remediation.strip().split("\n"))
    lines.extend(_section("References", list(finding.references)))
    return _text("\n".join(lines))


def _testcase(parent: ET.Element, finding: Finding) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        {
            "classname": f"v6gap.{one_line(family(finding.id))}",
            "name": one_line(f"{finding.id} {finding.title}"),
            "time": "0",
        },
    )
    message = one_line(finding.reason or finding.title)
    if finding.status is Status.FAIL:
        failure = ET.SubElement(
            case, "failure", {"message": message, "type": finding.severity.value}
        )
        failure.text = _body(finding)
    elif finding.status is Status.UNKNOWN:
        error = ET.SubElement(case, "error", {"message": message, "type": "unknown"})
        error.text = _body(finding)
    elif finding.status is Status.SKIP:
        ET.SubElement(case, "skipped", {"message": message})
    elif finding.status is Status.INFO:
        out = ET.SubElement(case, "system-out")
        out.text = _body(finding)


def render(report: Report) -> str:
    """The JUnit XML document, UTF-8, indented, deterministic (no timestamps)."""
    findings = report.findings
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    target = report.target
    root = ET.Element(
        "testsuites",
        {
            "name": one_line(report.tool.name),
            "tests": str(len(findings)),
            "failures": str(counts[Status.FAIL]),
            "errors": str(counts[Status.UNKNOWN]),
            "time": "0",
        },
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": one_line(f"{report.tool.name} {target.hostname} ({target.profile})"),
            "tests": str(len(findings)),
            "failures": str(counts[Status.FAIL]),
            "errors": str(counts[Status.UNKNOWN]),
            "skipped": str(counts[Status.SKIP]),
            "time": "0",
            "hostname": one_line(target.hostname),
        },
    )
    properties = ET.SubElement(suite, "properties")
    pairs = [
        ("v6gap.version", report.tool.version),
        ("target.hostname", target.hostname),
        ("target.source", target.source),
        ("target.profile", target.profile),
        *(("suggestion", s) for s in report.suggestions),
    ]
    for name, value in pairs:
        ET.SubElement(properties, "property", {"name": name, "value": one_line(value)})
    for finding in findings:
        _testcase(suite, finding)
    ET.indent(root, space="  ")
    return XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
