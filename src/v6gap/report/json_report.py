"""The ``v6gap.report/1`` JSON document (PRODUCT.md, "JSON report contract").

Its JSON Schema ships as ``v6gap/schemas/report.schema.json``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from v6gap.model import Finding, Report
from v6gap.report._common import dump_json, subject_fields, summary_counts

SCHEMA_RESOURCE = "report.schema.json"


def finding_document(finding: Finding) -> dict[str, Any]:
    """One finding; list and text members are always present, ``reason`` only when set."""
    doc: dict[str, Any] = {
        "id": finding.id,
        "title": finding.title,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "subjects": [subject_fields(s) for s in finding.subjects],
        "evidence": list(finding.evidence),
        "remediation": finding.remediation,
        "references": list(finding.references),
    }
    if finding.reason:
        doc["reason"] = finding.reason
    return doc


def to_document(report: Report) -> dict[str, Any]:
    """The report as plain JSON data, keys in the contract's order."""
    doc: dict[str, Any] = {
        "schema": report.schema,
        "tool": {"name": report.tool.name, "version": report.tool.version},
        "target": {
            "hostname": report.target.hostname,
            "source": report.target.source,
            "profile": report.target.profile,
        },
        "summary": summary_counts(report),
        "findings": [finding_document(f) for f in report.findings],
    }
    if report.suggestions:
        doc["suggestions"] = list(report.suggestions)
    return doc


def render(report: Report) -> str:
    """The JSON report: 2-space indent, stable key order, one final newline."""
    return dump_json(to_document(report))


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every rendered report validates against."""
    # Through the ``v6gap`` package: ``schemas`` is package data, not a package of its own.
    path = resources.files("v6gap").joinpath("schemas").joinpath(SCHEMA_RESOURCE)
    text = path.read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
