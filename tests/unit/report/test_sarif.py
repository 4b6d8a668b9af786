"""SARIF mapping: rules, levels, kinds, locations."""

from __future__ import annotations

import json
from typing import Any, Optional
from urllib.parse import unquote, urlparse

import pytest

from v6gap.model import Report, Severity, Status, Subject
from v6gap.report import OutputFormat, render
from v6gap.report.sarif import FINGERPRINT_KEY, file_reference

from ._sample import make_finding, make_report, mixed_report


def _run(report: Report) -> dict[str, Any]:
    run: dict[str, Any] = json.loads(render(report, OutputFormat.SARIF))["runs"][0]
    return run


def _result(run: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in run["results"] if r["ruleId"] == check_id)
    return found


def test_one_run_with_the_tool_and_a_successful_invocation() -> None:
    log = json.loads(render(mixed_report(), OutputFormat.SARIF))
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "v6gap"
    assert run["tool"]["driver"]["version"] == "0.1.0-test"
    assert run["invocations"] == [{"executionSuccessful": True, "machine": "web-01.example.org"}]


def test_one_rule_per_check_in_report_order() -> None:
    report = mixed_report()
    rules = _run(report)["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [f.id for f in report.findings]


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "note"),
        (Severity.INFO, "note"),
    ],
)
def test_levels_follow_severity(severity: Severity, level: str) -> None:
    finding = make_finding("V6G-NDP-01", Status.FAIL, severity, reason="bad")
    run = _run(make_report((finding,)))
    assert run["tool"]["driver"]["rules"][0]["defaultConfiguration"] == {"level": level}
    assert run["results"][0]["level"] == level
    assert run["results"][0]["kind"] == "fail"


def test_rule_carries_descriptions_help_and_tags() -> None:
    rule = next(
        r for r in _run(mixed_report())["tool"]["driver"]["rules"] if r["id"] == "V6G-NDP-01"
    )
    assert rule["shortDescription"]["text"] == (
        "Router Advertisements are accepted where the profile forbids them"
    )
    assert (
        "References: seed: Rogue Router Advertisements; CIS Ubuntu"
        in (rule["fullDescription"]["text"])
    )
    assert rule["help"]["text"].startswith("cat <<'EOF' | sudo tee /etc/sysctl.d/60-v6gap-ndp.conf")
    assert rule["properties"]["severity"] == "high"
    assert rule["properties"]["security-severity"] == "8.0"
    assert rule["properties"]["tags"][:4] == [
        "security",
        "ipv6",
        "ndp",
        "seed: Rogue Router Advertisements",
    ]


def test_results_only_for_fail_and_unknown() -> None:
    report = mixed_report()
    run = _run(report)
    expected = [f.id for f in report.findings if f.status in (Status.FAIL, Status.UNKNOWN)]
    assert [r["ruleId"] for r in run["results"]] == expected
    for result in run["results"]:
        rules = run["tool"]["driver"]["rules"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_unknown_is_a_review_with_no_level() -> None:
    result = _result(_run(mixed_report()), "V6G-FW-04")
    assert result["kind"] == "review" and result["level"] == "none"
    assert result["message"]["text"] == (
        "no ruleset could be read: nft missing, ip6tables-save needs root."
    )


def test_message_has_reason_and_subjects() -> None:
    result = _result(_run(mixed_report()), "V6G-FW-03")
    assert result["message"]["text"] == (
        "2 ports are open over IPv6 and closed over IPv4. "
        "Subjects: port tcp/8080 ipv6 (python3); port udp/5353 ipv6 (avahi-daemon)."
    )


def test_file_evidence_becomes_a_physical_location_with_its_line() -> None:
    result = _result(_run(mixed_report()), "V6G-NDP-01")
    location = result["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "file:///etc/sysctl.d/10-network-security.conf"},
        "region": {"startLine": 12},
    }
    assert [x["name"] for x in location["logicalLocations"]] == [
        "eth0",
        "net.ipv6.conf.default.accept_ra",
    ]
    related = result["relatedLocations"]
    assert related[0]["id"] == 1
    assert related[0]["physicalLocation"] == {
        "artifactLocation": {"uri": "file:///usr/lib/sysctl.d/50-default.conf"}
    }


def test_the_same_file_and_line_is_one_location() -> None:
    result = _result(_run(mixed_report()), "V6G-STATE-02")
    assert "relatedLocations" not in result


def test_without_files_the_subjects_are_logical_locations() -> None:
    result = _result(_run(mixed_report()), "V6G-FW-04")
    assert result["locations"] == [
        {
            "logicalLocations": [
                {
                    "name": "web-01.example.org",
                    "fullyQualifiedName": "host web-01.example.org",
                    "kind": "resource",
                }
            ]
        }
    ]
    port = _result(_run(mixed_report()), "V6G-FW-03")["locations"][0]["logicalLocations"][0]
    assert port["properties"] == {
        "kind": "port",
        "family": "ipv6",
        "proto": "tcp",
        "port": 8080,
        "process": "python3",
    }


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (
            "/etc/sysctl.d/99-x.conf:3 net.ipv6.conf.all.accept_ra = 1",
            ("/etc/sysctl.d/99-x.conf", 3),
        ),
        ("accept_ra = 1 (/etc/sysctl.d/99-x.conf:3)", ("/etc/sysctl.d/99-x.conf", 3)),
        ("/etc/hosts:2: ::1 localhost", ("/etc/hosts", 2)),
        ("/etc/modprobe.d/ipv6.conf masks the vendor file", ("/etc/modprobe.d/ipv6.conf", None)),
        ("  /etc/ufw/ufw.conf: IPV6=no", ("/etc/ufw/ufw.conf", None)),
        ("eth0: 2001:db8::1/64", None),
        ("2002::/16 6to4 address", None),
        ("prefix fe80::/10 and ::ffff:0:0/96", None),
        ("install sit /bin/true is missing", None),
        ("tcp [::]:8080 (python3)", None),
        ("/", None),
    ],
)
def test_file_reference(evidence: str, expected: Optional[tuple[str, Optional[int]]]) -> None:
    assert file_reference(evidence) == expected


def test_file_uris_are_percent_encoded_and_line_0_has_no_region() -> None:
    finding = make_finding(
        "V6G-STATE-02",
        Status.FAIL,
        Severity.MEDIUM,
        evidence=("/etc/sysctl.d/99-x.conf:0 x", "/etc/sysctl.d/ünï.conf:4 y"),
    )
    result = _run(make_report((finding,)))["results"][0]
    first = result["locations"][0]["physicalLocation"]
    assert first == {"artifactLocation": {"uri": "file:///etc/sysctl.d/99-x.conf"}}  # no line 0
    second = result["relatedLocations"][0]["physicalLocation"]
    uri = second["artifactLocation"]["uri"]
    assert uri == "file:///etc/sysctl.d/%C3%BCn%C3%AF.conf"
    assert unquote(urlparse(uri).path) == "/etc/sysctl.d/ünï.conf"
    assert second["region"] == {"startLine": 4}


def test_fingerprint_is_stable_and_depends_on_check_and_subjects() -> None:
    def fingerprint(*subjects: Subject, check_id: str = "V6G-NDP-01") -> str:
        finding = make_finding(
            check_id, Status.FAIL, Severity.HIGH, subjects=subjects, evidence=("changes every run",)
        )
        value: str = _run(make_report((finding,)))["results"][0]["partialFingerprints"][
            FINGERPRINT_KEY
        ]
        return value

    eth0, eth1 = Subject(kind="interface", name="eth0"), Subject(kind="interface", name="eth1")
    assert fingerprint(eth0, eth1) == fingerprint(eth1, eth0)
    assert fingerprint(eth0) != fingerprint(eth1)
    assert fingerprint(eth0) != fingerprint(eth0, check_id="V6G-NDP-02")


def test_no_results_when_nothing_fails() -> None:
    finding = make_finding("V6G-NDP-02", Status.PASS, Severity.HIGH)
    run = _run(make_report((finding,)))
    assert run["results"] == []
    assert len(run["tool"]["driver"]["rules"]) == 1


def test_run_properties_carry_target_summary_and_suggestions() -> None:
    props = _run(mixed_report())["properties"]
    assert props["target"] == {
        "hostname": "web-01.example.org",
        "source": "live",
        "profile": "server",
    }
    assert props["summary"] == {"pass": 3, "fail": 7, "unknown": 2, "skip": 2, "info": 2}
    assert len(props["suggestions"]) == 1
