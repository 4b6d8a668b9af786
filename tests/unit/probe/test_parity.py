"""Verdicts, ordering, expectations, the JSON shape and the text table, from recorded runs."""

from __future__ import annotations

import json
from typing import Dict, Tuple

import pytest

from v6gap.probe.model import Echo, Observation, ProbeRun, Reason
from v6gap.probe.parity import (
    SCHEMA,
    build_rows,
    check_expectations,
    ipv6_wider,
    to_json_data,
    verdict_of,
)
from v6gap.probe.targets import Targets
from v6gap.probe.text import render_text

V4, V6 = "192.0.2.10", "2001:db8::10"
TARGETS = Targets((V4,), (V6,))


REASONS: Dict[str, Reason] = {
    "open": "syn-ack",
    "closed": "refused",
    "filtered": "no-answer",
    "open|filtered": "no-answer",
}


def run_of(table: Dict[Tuple[str, int], Tuple[str, str]], **echo: bool) -> ProbeRun:
    observations = []
    for (proto, port), (s4, s6) in table.items():
        for address, state in ((V4, s4), (V6, s6)):
            reject = state.endswith("!")
            observations.append(
                Observation(
                    address,
                    proto,  # type: ignore[arg-type]
                    port,
                    state.rstrip("!"),  # type: ignore[arg-type]
                    "reject" if reject else REASONS[state],
                    "EACCES" if reject else "",
                )
            )
    echoes = {V4: Echo(echo.get("v4", True), 0.1), V6: Echo(echo.get("v6", True), 0.1)}
    return ProbeRun(TARGETS, tuple(observations), echoes, 1.5)


@pytest.mark.parametrize(
    ("s4", "s6", "verdict"),
    [
        ("open", "open", "parity"),
        ("closed", "filtered", "parity"),  # neither exposes
        ("filtered", "open", "ipv6-wider"),
        ("closed", "open|filtered", "ipv6-wider"),
        ("open|filtered", "open", "ipv6-wider"),
        ("open", "filtered", "ipv4-wider"),
        ("open|filtered", "closed", "ipv4-wider"),
    ],
)
def test_verdicts(s4: str, s6: str, verdict: str) -> None:
    assert verdict_of({V4: s4, V6: s6}, [V4], [V6]) == verdict  # type: ignore[dict-item]


def test_widest_address_of_a_family_counts_and_one_family_alone_is_parity() -> None:
    states = {V4: "filtered", "192.0.2.11": "open", V6: "open"}
    assert verdict_of(states, [V4, "192.0.2.11"], [V6]) == "parity"  # type: ignore[arg-type]
    assert verdict_of({V6: "open"}, [], [V6]) == "parity"


TABLE = {
    ("tcp", 22): ("open", "open"),
    ("tcp", 80): ("open", "filtered!"),
    ("tcp", 443): ("filtered", "open"),
    ("tcp", 3306): ("closed", "filtered"),
    ("tcp", 5432): ("filtered", "filtered"),
    ("udp", 53): ("open|filtered", "open|filtered"),
}


def test_rows_put_ipv6_wider_first_then_ipv4_wider_then_differences() -> None:
    rows = build_rows(run_of(TABLE))
    order = [(r.proto, r.port, r.verdict) for r in rows]
    assert order[:3] == [
        ("tcp", 443, "ipv6-wider"),
        ("tcp", 80, "ipv4-wider"),
        ("tcp", 3306, "parity"),  # states differ, exposure does not
    ]
    assert ipv6_wider(rows)
    assert not ipv6_wider(build_rows(run_of({("tcp", 22): ("open", "open")})))


def test_json_document_has_exactly_the_promised_shape() -> None:
    run = run_of(TABLE, v6=False)
    doc = json.loads(json.dumps(to_json_data(run, build_rows(run))))
    assert set(doc) == {"schema", "targets", "results", "icmp"}
    assert doc["schema"] == SCHEMA == "v6gap.probe/1"
    assert doc["targets"] == {"ipv4": [V4], "ipv6": [V6]}
    assert doc["results"][0] == {
        "proto": "tcp",
        "port": 443,
        "states": {V4: "filtered", V6: "open"},
        "verdict": "ipv6-wider",
    }
    for result in doc["results"]:
        assert set(result) == {"proto", "port", "states", "verdict"}
        assert set(result["states"].values()) <= {"open", "closed", "filtered", "open|filtered"}
        assert result["verdict"] in ("parity", "ipv6-wider", "ipv4-wider")
    assert doc["icmp"]["echo"][V6] == {"answered": False, "rtt_ms": 0.1}
    assert doc["icmp"]["verdict"] == "ipv4-wider"


def test_expectations_reproduce_the_seed_check_list() -> None:
    checks = check_expectations(run_of(TABLE), [22, 80], [443, 3306])
    failed = {(c.port, c.address, c.expected) for c in checks if not c.passed}
    assert failed == {(80, V6, "open"), (443, V6, "closed")}
    assert len(checks) == 8


def test_round_trip_through_the_namespace_pipe() -> None:
    run = run_of(TABLE)
    assert ProbeRun.from_data(json.loads(json.dumps(run.to_data()))) == run


def test_text_table_marks_rejects_and_summarises_quiet_ports() -> None:
    run = run_of(TABLE)
    rows = build_rows(run)
    text = render_text(run, rows, check_expectations(run, [80], []))
    lines = text.splitlines()
    assert lines[2].split() == ["PROTO/PORT", V4, V6, "VERDICT"]
    assert lines[3].split() == ["tcp/443", "filtered", "open", "IPv6", "wider"]
    assert "filtered (reject)" in lines[4]
    assert "(1 more port(s) closed or filtered alike on every address)" in text
    assert f"FAIL tcp/80 on {V6}: filtered, expected open" in text


def test_an_address_that_answers_nothing_is_called_broken_not_filtered() -> None:
    run = run_of({("tcp", 22): ("open", "filtered")}, v6=False)
    text = render_text(run, build_rows(run))
    assert f"{V6} answered nothing at all" in text and "V6G-FW-04" in text
    assert f"{V4} answered nothing" not in text


def test_one_family_alone_says_there_is_nothing_to_compare() -> None:
    run = ProbeRun(Targets((), (V6,)), (Observation(V6, "tcp", 22, "open", "syn-ack"),), {}, 0.2)
    text = render_text(run, build_rows(run))
    assert "no ipv4 address named" in text
