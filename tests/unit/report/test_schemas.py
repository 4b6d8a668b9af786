"""Rendered reports validate against their schemas: ours, the official SARIF 2.1.0 one, and
Jenkins' junit-10.xsd."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Callable

import jsonschema
import pytest

from v6gap.model import Report
from v6gap.report import OutputFormat, render
from v6gap.report.json_report import load_schema

from ._helpers import GOLDEN, JUNIT_XSD, junit_violations, sarif_schema
from ._sample import clean_report, empty_report, mixed_report

REPORTS: dict[str, Callable[[], Report]] = {
    "mixed": mixed_report,
    "clean": clean_report,
    "empty": empty_report,
}


def report_validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def sarif_validator() -> jsonschema.protocols.Validator:
    schema = sarif_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


# --------------------------------------------------------------------------- our report schema


def test_report_schema_is_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"]["const"] == "v6gap.report/1"


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_json_report_validates(name: str) -> None:
    document = json.loads(render(REPORTS[name](), OutputFormat.JSON))
    assert _errors(report_validator(), document) == []


def test_golden_json_validates() -> None:
    document = json.loads((GOLDEN / "mixed.json").read_text(encoding="utf-8"))
    assert _errors(report_validator(), document) == []


def _mixed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render(mixed_report(), OutputFormat.JSON))
    return document


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda d: d["summary"].pop("skip"), id="summary-without-a-status"),
        pytest.param(lambda d: d["summary"].update(later=1), id="summary-unknown-status"),
        pytest.param(lambda d: d["findings"][0].update(status="warn"), id="bad-status"),
        pytest.param(lambda d: d["findings"][0].update(severity="severe"), id="bad-severity"),
        pytest.param(lambda d: d["findings"][0].pop("evidence"), id="finding-without-evidence"),
        pytest.param(lambda d: d["findings"][0].update(reason=""), id="empty-reason"),
        pytest.param(lambda d: d["findings"][0].update(id="NDP-1"), id="bad-id"),
        pytest.param(lambda d: d["findings"][0]["subjects"][0].pop("kind"), id="subject-kind"),
        pytest.param(lambda d: d["findings"][0]["subjects"][0].update(port=70000), id="port"),
        pytest.param(lambda d: d["target"].update(source="cloud"), id="bad-source"),
        pytest.param(lambda d: d.update(schema="v6gap.report/2"), id="other-version"),
        pytest.param(lambda d: d.update(extra=True), id="unknown-member"),
        pytest.param(lambda d: d.update(suggestions=[]), id="empty-suggestions"),
    ],
)
def test_report_schema_rejects(spoil: Callable[[dict[str, Any]], object]) -> None:
    document = _mixed_document()
    spoil(document)
    assert _errors(report_validator(), document) != []


# --------------------------------------------------------------------------- SARIF 2.1.0


def test_sarif_schema_fixture_is_the_official_one() -> None:
    schema = sarif_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_sarif_validates_against_the_official_schema(name: str) -> None:
    document = json.loads(render(REPORTS[name](), OutputFormat.SARIF))
    assert _errors(sarif_validator(), document) == []


def test_golden_sarif_validates() -> None:
    document = json.loads((GOLDEN / "mixed.sarif").read_text(encoding="utf-8"))
    assert _errors(sarif_validator(), document) == []


def test_the_sarif_validator_catches_a_broken_log() -> None:
    document = json.loads(render(mixed_report(), OutputFormat.SARIF))
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert _errors(sarif_validator(), document) != []


# --------------------------------------------------------------------------- JUnit


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_junit_follows_jenkins_junit_10_xsd(name: str) -> None:
    assert junit_violations(render(REPORTS[name](), OutputFormat.JUNIT)) == []


def test_golden_junit_follows_the_xsd() -> None:
    assert junit_violations((GOLDEN / "mixed.junit.xml").read_text(encoding="utf-8")) == []


def test_the_xsd_reader_catches_what_the_xsd_forbids() -> None:
    bad = (
        '<testsuites skipped="1"><testsuite name="x"><testcase classname="c">'
        "<failure/><bogus/></testcase>text</testsuite></testsuites>"
    )
    problems = junit_violations(bad)
    assert "testsuites: attribute 'skipped' is not allowed" in problems
    assert "testsuites/testsuite: required attribute 'tests' is missing" in problems
    assert "testsuites/testsuite/testcase: required attribute 'name' is missing" in problems
    assert "testsuites/testsuite/testcase: <bogus> is not allowed in <testcase>" in problems


def test_junit_validates_with_a_full_xsd_validator_where_lxml_exists() -> None:
    etree: Any = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(JUNIT_XSD)))
    for name, make in sorted(REPORTS.items()):
        document = etree.fromstring(render(make(), OutputFormat.JUNIT).encode("utf-8"))
        assert schema.validate(document), (name, schema.error_log)


def test_junit_xsd_fixture_parses() -> None:
    root = ET.parse(JUNIT_XSD).getroot()
    names = {e.get("name") for e in root}
    assert {"testsuites", "testsuite", "testcase", "failure", "error", "skipped"} <= names
