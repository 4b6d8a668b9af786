"""Golden files, and the external schemas the reports are validated against."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GOLDEN = FIXTURES / "golden"
SCHEMAS = FIXTURES / "schemas"
SARIF_SCHEMA = SCHEMAS / "sarif-schema-2.1.0.json"
JUNIT_XSD = SCHEMAS / "junit-10.xsd"
UPDATE_ENV = "V6GAP_UPDATE_GOLDEN"


def assert_golden(name: str, actual: str, directory: Path = GOLDEN) -> None:
    """``actual`` equals the golden file exactly; with V6GAP_UPDATE_GOLDEN=1 it rewrites it."""
    path = directory / name
    if os.environ.get(UPDATE_ENV) == "1":
        directory.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(actual)
    if not path.exists():
        raise AssertionError(f"{path} is missing: run the tests with {UPDATE_ENV}=1 to create it")
    with open(path, encoding="utf-8", newline="") as fh:
        expected = fh.read()
    assert actual == expected, f"{name} differs from its golden file; if intended: {UPDATE_ENV}=1"


@cache
def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return schema


# --------------------------------------------------------------------------- junit-10.xsd

_XS = "{http://www.w3.org/2001/XMLSchema}"


@dataclass(frozen=True)
class ElementRule:
    """What junit-10.xsd allows in one element (the XSD uses only these constructs)."""

    attributes: frozenset[str]
    required: frozenset[str]
    children: frozenset[str]
    text: bool


@cache
def junit_rules() -> dict[str, ElementRule]:
    """The XSD's global elements read with the stdlib (no XSD validator in the test deps)."""
    rules: dict[str, ElementRule] = {}
    for element in ET.parse(JUNIT_XSD).getroot().findall(f"{_XS}element"):
        name = element.get("name")
        assert name
        if element.get("type") == "xs:string":
            rules[name] = ElementRule(frozenset(), frozenset(), frozenset(), text=True)
            continue
        complex_type = element.find(f"{_XS}complexType")
        assert complex_type is not None, name
        attributes = complex_type.findall(f"{_XS}attribute")
        rules[name] = ElementRule(
            attributes=frozenset(str(a.get("name")) for a in attributes),
            required=frozenset(
                str(a.get("name")) for a in attributes if a.get("use") == "required"
            ),
            children=frozenset(str(e.get("ref")) for e in complex_type.iter(f"{_XS}element")),
            text=complex_type.get("mixed") == "true",
        )
    return rules


def junit_violations(document: str) -> list[str]:
    """Everything in ``document`` that junit-10.xsd does not allow (empty: valid)."""
    rules = junit_rules()
    problems: list[str] = []

    def visit(element: ET.Element, path: str) -> None:
        rule = rules.get(element.tag)
        if rule is None:
            problems.append(f"{path}: element <{element.tag}> is not declared")
            return
        for attribute in sorted(set(element.attrib) - rule.attributes):
            problems.append(f"{path}: attribute {attribute!r} is not allowed")
        for attribute in sorted(rule.required - set(element.attrib)):
            problems.append(f"{path}: required attribute {attribute!r} is missing")
        if not rule.text and (element.text or "").strip():
            problems.append(f"{path}: character data is not allowed")
        for child in element:
            if child.tail and child.tail.strip() and not rule.text:
                problems.append(f"{path}: character data is not allowed")
            if child.tag not in rule.children:
                problems.append(f"{path}: <{child.tag}> is not allowed in <{element.tag}>")
            visit(child, f"{path}/{child.tag}")

    root = ET.fromstring(document.encode("utf-8"))
    visit(root, root.tag)
    return problems
