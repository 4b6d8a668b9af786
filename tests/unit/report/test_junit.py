"""JUnit mapping: one suite, one case per check, counts that add up."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from v6gap.model import Report, Severity, Status
from v6gap.report import OutputFormat, render

from ._sample import make_finding, make_report, mixed_report


def _root(report: Report) -> ET.Element:
    return ET.fromstring(render(report, OutputFormat.JUNIT).encode("utf-8"))


def test_declaration_and_one_suite() -> None:
    text = render(mixed_report(), OutputFormat.JUNIT)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    root = _root(mixed_report())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    assert suites[0].get("name") == "v6gap web-01.example.org (server)"
    assert suites[0].get("hostname") == "web-01.example.org"


def test_counts_match_the_cases() -> None:
    report = mixed_report()
    root = _root(report)
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(report.findings) == int(suite.get("tests", "-1"))
    failures = sum(len(c.findall("failure")) for c in cases)
    errors = sum(len(c.findall("error")) for c in cases)
    skipped = sum(len(c.findall("skipped")) for c in cases)
    assert (failures, errors, skipped) == (7, 2, 2)
    assert suite.get("failures") == str(failures) == root.get("failures")
    assert suite.get("errors") == str(errors) == root.get("errors")
    assert suite.get("skipped") == str(skipped)
    assert root.get("tests") == suite.get("tests")


def test_case_names_and_classes() -> None:
    suite = _root(mixed_report()).find("testsuite")
    assert suite is not None
    first = suite.findall("testcase")[0]
    assert first.get("classname") == "v6gap.STATE"
    assert first.get("name") == "V6G-STATE-01 IPv6 status"
    assert {c.get("classname") for c in suite.findall("testcase")} == {
        "v6gap.STATE",
        "v6gap.NDP",
        "v6gap.TUN",
        "v6gap.FW",
        "v6gap.EXP",
        "v6gap.K8S",
        "v6gap.L2",
    }


def _case(report: Report, check_id: str) -> ET.Element:
    suite = _root(report).find("testsuite")
    assert suite is not None
    return next(c for c in suite.findall("testcase") if str(c.get("name")).startswith(check_id))


def test_fail_is_a_failure_typed_with_the_severity() -> None:
    case = _case(mixed_report(), "V6G-FW-03")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "critical"
    assert failure.get("message") == "2 ports are open over IPv6 and closed over IPv4"
    body = failure.text or ""
    assert "  - port tcp/8080 ipv6 (python3)" in body
    # XML-special characters survive the round trip.
    assert "  - ip6 filter input: tcp dport 8080 accept comment \"dev <lab> & 'test'\"" in body
    assert "Remediation:\n  Mirror the IPv4 rules" in body


def test_unknown_is_an_error_skip_is_skipped_info_writes_system_out() -> None:
    report = mixed_report()
    error = _case(report, "V6G-NDP-05").find("error")
    assert error is not None and error.get("type") == "unknown"
    assert str(error.get("message")).startswith("sysctl: permission denied")
    skipped = _case(report, "V6G-K8S-01").find("skipped")
    assert skipped is not None and skipped.get("message") == "no Kubernetes node components found"
    out = _case(report, "V6G-EXP-01").find("system-out")
    assert out is not None and "tcp [::]:443 dual-stack (nginx: worker ☃)" in (out.text or "")
    assert list(_case(report, "V6G-NDP-02")) == []  # a pass is a bare test case


def test_properties_name_the_target_and_suggestions() -> None:
    suite = _root(mixed_report()).find("testsuite")
    assert suite is not None
    props = [(p.get("name"), p.get("value")) for p in suite.iter("property")]
    assert props[:4] == [
        ("v6gap.version", "0.1.0-test"),
        ("target.hostname", "web-01.example.org"),
        ("target.source", "live"),
        ("target.profile", "server"),
    ]
    assert [name for name, _ in props[4:]] == ["suggestion"]


def test_characters_xml_cannot_carry_are_escaped_visibly() -> None:
    finding = make_finding(
        "V6G-L2-01",
        Status.FAIL,
        Severity.LOW,
        reason="bell\x07 and\nnewline",
        evidence=("nul \x00, esc \x1b, ffff \uffff, byte \udcff, tab\tkept",),
    )
    text = render(make_report((finding,), hostname="h\x0c"), OutputFormat.JUNIT)
    text.encode("utf-8")
    root = ET.fromstring(text.encode("utf-8"))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("hostname") == "h\\x0c"
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "bell\\x07 and newline"
    assert "nul \\x00, esc \\x1b, ffff \\uffff, byte \\xff, tab\tkept" in (failure.text or "")


def test_empty_report_is_a_valid_empty_suite() -> None:
    root = _root(make_report(()))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "0" and suite.findall("testcase") == []
