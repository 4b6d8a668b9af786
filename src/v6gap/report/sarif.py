"""SARIF 2.1.0: one run, one rule per check, results for the checks that failed or are unknown.

A failure is a result of kind ``fail`` with a level from the check's severity; an unknown is
kind ``review`` with level ``none`` (SARIF 3.27.9: a level other than ``none`` is for ``fail``
only). Evidence naming a file (``/etc/sysctl.d/60-x.conf:3 …``) becomes a physical location
with the line; otherwise the subjects (interface, port, key …) become logical locations.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Optional
from urllib.parse import quote

from v6gap.model import Finding, Report, Severity, Status
from v6gap.report._common import (
    describe_subject,
    dump_json,
    family,
    printable,
    subject_fields,
    summary_counts,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "v6gapFinding/v1"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning ranks security results by this property (CVSS-like, 0.1-10.0).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}

_PATH = r"/(?:[\w.@+~-]+/)*[\w.@+~-]+"
# A path with a line number anywhere, not inside an address ("2001:db8::/32") or a word.
_PATH_LINE = re.compile(rf"(?<![\w.:/~-])({_PATH}):([0-9]+)\b")
# A path that opens the evidence, with or without a line number.
_PATH_FIRST = re.compile(rf"^\s*({_PATH})(?::([0-9]+))?(?=$|[\s:,;)])")


def file_reference(evidence: str) -> Optional[tuple[str, Optional[int]]]:
    """The file (and line) a piece of evidence names, if it names one."""
    match = _PATH_LINE.search(evidence)
    if match:
        return match.group(1), int(match.group(2))
    match = _PATH_FIRST.match(evidence)
    if match:
        return match.group(1), int(match.group(2)) if match.group(2) else None
    return None


def _physical(path: str, line: Optional[int]) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": "file://" + quote(path)}}
    if line is not None and line >= 1:
        location["region"] = {"startLine": line}
    return location


def _file_locations(finding: Finding) -> list[dict[str, Any]]:
    """One location per file (and line) the evidence names, in evidence order."""
    seen: set[tuple[str, Optional[int]]] = set()
    locations: list[dict[str, Any]] = []
    for item in finding.evidence:
        ref = file_reference(item)
        if ref is None or ref in seen:
            continue
        seen.add(ref)
        message = {"text": printable(item)}
        locations.append({"physicalLocation": _physical(*ref), "message": message})
    return locations


def _logical_locations(finding: Finding, hostname: str) -> list[dict[str, Any]]:
    logical: list[dict[str, Any]] = []
    for subject in finding.subjects:
        entry: dict[str, Any] = {
            "name": subject.name or subject.address or describe_subject(subject),
            "fullyQualifiedName": describe_subject(subject),
            "kind": "resource",
            "properties": subject_fields(subject),
        }
        if entry not in logical:  # the schema wants unique items
            logical.append(entry)
    if not logical:
        # Code scanning services want a location on every result: the host itself.
        logical.append(
            {"name": hostname, "fullyQualifiedName": f"host {hostname}", "kind": "resource"}
        )
    return logical


def _message(finding: Finding) -> str:
    """Shown by viewers, so controls in host data are made visible (``properties`` keeps all)."""
    text = (finding.reason or finding.title).strip().rstrip(".")
    if finding.subjects:
        text += ". Subjects: " + "; ".join(describe_subject(s) for s in finding.subjects)
    return printable(text + ".")


def _fingerprint(finding: Finding) -> str:
    """Stable across runs while the same check fails for the same subjects."""
    parts = [finding.id, *sorted(describe_subject(s) for s in finding.subjects)]
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _result(finding: Finding, rule_index: int, hostname: str) -> dict[str, Any]:
    failed = finding.status is Status.FAIL
    location: dict[str, Any] = {}
    files = _file_locations(finding)
    if files:
        location["physicalLocation"] = files[0]["physicalLocation"]
        location["message"] = files[0]["message"]
    location["logicalLocations"] = _logical_locations(finding, hostname)
    result: dict[str, Any] = {
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "kind": "fail" if failed else "review",
        "level": _LEVEL[finding.severity] if failed else "none",
        "message": {"text": _message(finding)},
        "locations": [location],
    }
    if len(files) > 1:
        result["relatedLocations"] = [
            {"id": n, **related} for n, related in enumerate(files[1:], start=1)
        ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: _fingerprint(finding)}
    properties: dict[str, Any] = {
        "status": finding.status.value,
        "severity": finding.severity.value,
        "evidence": list(finding.evidence),
    }
    if finding.remediation:
        properties["remediation"] = finding.remediation
    result["properties"] = properties
    return result


def _rule(finding: Finding) -> dict[str, Any]:
    description = f"{finding.title} (severity {finding.severity.value})."
    if finding.references:
        description += " References: " + "; ".join(finding.references) + "."
    tags: list[str] = []
    for tag in ("security", "ipv6", family(finding.id).lower(), *finding.references):
        if tag not in tags:
            tags.append(tag)
    properties: dict[str, Any] = {"severity": finding.severity.value, "tags": tags}
    if finding.severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[finding.severity]
    rule: dict[str, Any] = {
        "id": finding.id,
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": description},
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
    }
    if finding.remediation.strip():
        rule["help"] = {"text": finding.remediation}
    rule["properties"] = properties
    return rule


def to_sarif(report: Report) -> dict[str, Any]:
    """The SARIF log as plain JSON data."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for finding in report.findings:
        if finding.id not in index:
            index[finding.id] = len(rules)
            rules.append(_rule(finding))
    hostname = report.target.hostname
    results = [
        _result(f, index[f.id], hostname)
        for f in report.findings
        if f.status in (Status.FAIL, Status.UNKNOWN)
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {"name": report.tool.name, "version": report.tool.version, "rules": rules}
        },
        "invocations": [{"executionSuccessful": True, "machine": hostname}],
        "automationDetails": {"id": f"{report.tool.name}/{hostname}/"},
        "results": results,
        "properties": {
            "target": {
                "hostname": hostname,
                "source": report.target.source,
                "profile": report.target.profile,
            },
            "summary": summary_counts(report),
        },
    }
    if report.suggestions:
        run["properties"]["suggestions"] = list(report.suggestions)
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report) -> str:
    """The SARIF log as deterministic JSON text."""
    return dump_json(to_sarif(report))
