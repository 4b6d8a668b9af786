"""The JSON report follows the contract in PRODUCT.md."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from v6gap.model import Severity, Status, Subject
from v6gap.report import OutputFormat, render
from v6gap.report.json_report import to_document

from ._sample import clean_report, make_finding, make_report, mixed_report


def _doc(report: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render(report, OutputFormat.JSON))
    return document


def test_top_level_keys_in_contract_order() -> None:
    assert list(_doc(mixed_report())) == [
        "schema",
        "tool",
        "target",
        "summary",
        "findings",
        "suggestions",
    ]


def test_summary_has_all_five_statuses_even_when_zero() -> None:
    report = make_report((make_finding("V6G-NDP-02", Status.PASS, Severity.HIGH),))
    assert _doc(report)["summary"] == {"pass": 1, "fail": 0, "unknown": 0, "skip": 0, "info": 0}


def test_a_summary_missing_statuses_is_completed() -> None:
    report = msgspec.structs.replace(make_report(()), summary={"fail": 2})
    assert _doc(report)["summary"] == {"pass": 0, "fail": 2, "unknown": 0, "skip": 0, "info": 0}


def test_empty_members_are_present_and_reason_only_when_set() -> None:
    finding = make_finding("V6G-NDP-04", Status.PASS, Severity.MEDIUM, "forwarding off")
    entry = _doc(make_report((finding,)))["findings"][0]
    assert entry == {
        "id": "V6G-NDP-04",
        "title": "forwarding off",
        "status": "pass",
        "severity": "medium",
        "subjects": [],
        "evidence": [],
        "remediation": "",
        "references": [],
    }


def test_subjects_keep_only_set_fields_in_model_order() -> None:
    subject = Subject(kind="port", family="ipv6", proto="tcp", port=8080, process="python3")
    finding = make_finding(
        "V6G-EXP-03", Status.FAIL, Severity.CRITICAL, subjects=(subject,), reason="open"
    )
    entry = _doc(make_report((finding,)))["findings"][0]
    assert entry["subjects"] == [
        {"kind": "port", "family": "ipv6", "proto": "tcp", "port": 8080, "process": "python3"}
    ]
    assert list(entry)[-1] == "reason"


def test_no_suggestions_member_when_there_are_none() -> None:
    assert "suggestions" not in _doc(make_report(()))


def test_findings_keep_the_report_order() -> None:
    report = mixed_report()
    assert [f["id"] for f in _doc(report)["findings"]] == [f.id for f in report.findings]


def test_two_space_indent_and_unicode_kept() -> None:
    out = render(mixed_report(), OutputFormat.JSON)
    assert out.startswith('{\n  "schema": "v6gap.report/1",\n')
    assert "nginx: worker ☃" in out


def test_undecodable_bytes_become_visible_escapes() -> None:
    finding = make_finding("V6G-L2-01", Status.FAIL, Severity.LOW, evidence=("byte \udcff",))
    out = render(make_report((finding,)), OutputFormat.JSON)
    assert json.loads(out)["findings"][0]["evidence"] == ["byte \\xff"]


def test_rendered_text_is_the_document() -> None:
    report = clean_report()
    assert json.loads(render(report, OutputFormat.JSON)) == to_document(report)
