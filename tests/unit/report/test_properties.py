"""Any report, however odd its text, renders to valid, writable output in every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Optional

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v6gap.model import Finding, Profile, Report, Severity, Status, Subject
from v6gap.report import OutputFormat, render
from v6gap.report.json_report import load_schema

from ._helpers import junit_violations, sarif_schema
from ._sample import make_report

# Every code point, surrogates (undecodable bytes) and controls included.
_ANY_CHAR = st.characters(codec=None, categories=None) | st.sampled_from(
    ["\x1b", "\udcff", "\u202e", "\r", "\x00", "&", "<", "]"]
)
_TEXT = st.text(_ANY_CHAR, max_size=40)
_NAME = st.text(_ANY_CHAR, min_size=1, max_size=20)
_PATHY = st.from_regex(r"\A/(etc|usr/lib)/[a-z0-9.-]{1,12}(:[0-9]{1,3})? [ -~]{0,20}\Z")


def _maybe(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Optional[str]]:
    return st.none() | strategy


subjects = st.builds(
    Subject,
    kind=_NAME,
    name=_maybe(_TEXT),
    family=_maybe(st.sampled_from(["ipv4", "ipv6"])),
    proto=_maybe(st.sampled_from(["tcp", "udp"])),
    port=st.none() | st.integers(0, 65535),
    address=_maybe(_TEXT),
    process=_maybe(_TEXT),
    value=_maybe(_TEXT),
)

findings = st.builds(
    Finding,
    id=st.from_regex(r"\AV6G-[A-Z][A-Z0-9]{0,4}-[0-9]{2}\Z"),
    title=_NAME,
    status=st.sampled_from(Status),
    severity=st.sampled_from(Severity),
    subjects=st.lists(subjects, max_size=3).map(tuple),
    evidence=st.lists(_TEXT | _PATHY, max_size=4).map(tuple),
    remediation=_TEXT,
    references=st.lists(_TEXT, max_size=3).map(tuple),
    reason=_TEXT,
)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    return make_report(
        tuple(draw(st.lists(findings, max_size=6))),
        hostname=draw(_TEXT),
        source=draw(st.sampled_from(["live", "root", "snapshot", "netns"])),
        profile=draw(st.sampled_from([p.value for p in Profile])),
        suggestions=tuple(draw(st.lists(_NAME, max_size=2))),
    )


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(reports())
def test_json_is_valid_against_our_schema(report: Report) -> None:
    out = render(report, OutputFormat.JSON)
    out.encode("utf-8")
    jsonschema.validate(json.loads(out), load_schema(), cls=jsonschema.Draft202012Validator)


@_SETTINGS
@given(reports())
def test_sarif_is_valid_against_the_official_schema(report: Report) -> None:
    out = render(report, OutputFormat.SARIF)
    out.encode("utf-8")
    jsonschema.validate(json.loads(out), sarif_schema(), cls=jsonschema.Draft7Validator)


@_SETTINGS
@given(reports())
def test_junit_is_well_formed_and_follows_the_xsd(report: Report) -> None:
    out = render(report, OutputFormat.JUNIT)
    root = ET.fromstring(out.encode("utf-8"))
    assert junit_violations(out) == []
    suite = root.find("testsuite")
    assert suite is not None
    assert int(suite.get("tests", "-1")) == len(report.findings)
    assert int(suite.get("failures", "-1")) == len(root.findall("testsuite/testcase/failure"))
    assert int(suite.get("errors", "-1")) == len(root.findall("testsuite/testcase/error"))
    assert int(suite.get("skipped", "-1")) == len(root.findall("testsuite/testcase/skipped"))


@_SETTINGS
@given(reports())
def test_text_has_no_escape_codes_unless_coloured(report: Report) -> None:
    plain = render(report, OutputFormat.TEXT)
    plain.encode("utf-8")
    assert "\x1b" not in plain and "\x00" not in plain and "\r" not in plain
