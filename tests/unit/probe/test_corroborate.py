"""Packets confirm or contradict V6G-EXP-03 and V6G-FW-03 in the evidence, never the status."""

from __future__ import annotations

from typing import Dict, Tuple

from v6gap.checks.probe import ProbeEvidence
from v6gap.checks.probe._corroborate import corroborate, parse_span
from v6gap.model import Finding, Severity, Status, Subject
from v6gap.probe.model import Observation, ProbeRun
from v6gap.probe.targets import Targets

V4, V6 = "192.0.2.10", "2001:db8::10"
ORIGIN = "namespace v6g-attacker-t"
REASONS = {"open": "syn-ack", "closed": "refused", "filtered": "no-answer"}


def evidence(table: Dict[int, Tuple[str, str]]) -> ProbeEvidence:
    obs = []
    for port, (s4, s6) in table.items():
        obs.append(Observation(V4, "tcp", port, s4, REASONS[s4]))  # type: ignore[arg-type]
        obs.append(Observation(V6, "tcp", port, s6, REASONS[s6]))  # type: ignore[arg-type]
    return ProbeEvidence(ProbeRun(Targets((V4,), (V6,)), tuple(obs)), origin=ORIGIN)


def finding(check_id: str, status: Status, *subjects: Subject) -> Finding:
    return Finding(check_id, "t", status, Severity.CRITICAL, subjects, ("engine says so",))


GAP = {22: ("open", "open"), 80: ("filtered", "closed"), 8080: ("filtered", "open")}


def test_a_failing_exp03_is_confirmed_port_by_port() -> None:
    exp = finding(
        "V6G-EXP-03",
        Status.FAIL,
        Subject(kind="port", proto="tcp", port=8080),
        Subject(kind="port", proto="tcp", port=22),
        Subject(kind="port", proto="udp", port=5353),
    )
    (out,) = corroborate((exp,), evidence(GAP))
    assert out.status is Status.FAIL
    assert out.evidence == (
        "engine says so",
        f"confirmed by a connection from {ORIGIN}: tcp/8080 open over IPv6, filtered over IPv4",
        f"contradicted by a connection from {ORIGIN}: tcp/22 open over IPv6, open over IPv4",
        "udp/5353 was not probed: add it to --probe-ports",
    )


def test_a_passing_exp03_is_contradicted_by_a_port_ipv6_alone_reaches() -> None:
    exp = finding("V6G-EXP-03", Status.PASS)
    (out,) = corroborate((exp,), evidence(GAP))
    assert out.status is Status.PASS
    assert out.evidence[-1] == (
        f"contradicted by connections from {ORIGIN}: reachable over IPv6 but not over IPv4: "
        "tcp/8080 open over IPv6, filtered over IPv4"
    )
    (calm,) = corroborate((exp,), evidence({22: ("open", "open")}))
    assert calm.evidence[-1].startswith(f"confirmed by connections from {ORIGIN}: none of 1")


def test_fw03_ranges_are_confirmed_by_resets_and_connections_alike() -> None:
    fw = finding(
        "V6G-FW-03",
        Status.FAIL,
        Subject(kind="port", proto="tcp", port=23, name="tcp 23-65535"),
        Subject(kind="proto", proto="icmpv6", name="icmpv6 129"),
    )
    table = {**GAP, 21: ("filtered", "closed")}  # 21 lies outside every range
    (out,) = corroborate((fw,), evidence(table))
    assert out.evidence[1] == (
        f"confirmed by connections from {ORIGIN}: 2 probed port(s) in these ranges answered "
        "over IPv6 and not over IPv4: tcp/8080 open over IPv6, filtered over IPv4; "
        "tcp/80 closed over IPv6, filtered over IPv4"
    )
    assert out.evidence[2].startswith(f"contradicted by connections from {ORIGIN}: answered")
    assert out.evidence[2].endswith("outside every range above: tcp/21 closed over IPv6, "
                                    "filtered over IPv4")  # fmt: skip
    (quiet,) = corroborate((fw,), evidence({22: ("open", "open")}))
    assert quiet.evidence[-1].startswith(f"not confirmed by packets from {ORIGIN}: none of 0")


def test_an_icmp_port_unreachable_is_not_an_answer_of_the_stack() -> None:
    """A ``reject`` rule's port-unreachable ends a connect as "closed" too: not through."""
    obs = (
        Observation(V4, "tcp", 80, "closed", "refused", "icmp"),
        Observation(V6, "tcp", 80, "filtered", "no-answer"),
    )
    run = ProbeRun(Targets((V4,), (V6,)), obs)
    fw = finding("V6G-FW-03", Status.PASS)
    (out,) = corroborate((fw,), ProbeEvidence(run, origin=ORIGIN))
    assert out.evidence[-1].startswith(f"confirmed by connections from {ORIGIN}: none of 1")


def test_skipped_and_other_findings_and_one_family_runs_are_left_alone() -> None:
    skipped = finding("V6G-FW-03", Status.SKIP)
    other = finding("V6G-FW-01", Status.FAIL)
    assert corroborate((skipped, other), evidence(GAP)) == (skipped, other)
    one = ProbeEvidence(ProbeRun(Targets((), (V6,)), ()), origin=ORIGIN)
    exp = finding("V6G-EXP-03", Status.PASS)
    assert corroborate((exp,), one) == (exp,)


def test_parse_span_reads_the_fw03_subject_names() -> None:
    assert parse_span(Subject(kind="port", name="tcp 23-65535")) == ("tcp", 23, 65535)
    assert parse_span(Subject(kind="port", name="udp 53")) == ("udp", 53, 53)
    assert parse_span(Subject(kind="proto", name="other")) is None
