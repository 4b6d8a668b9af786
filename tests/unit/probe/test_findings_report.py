"""The probe as a v6gap report: findings by the contract, rendered by the shared sarif/junit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Dict, Sequence, Tuple

from v6gap.checks.probe import ProbeEvidence
from v6gap.checks.registry import all_checks, probe_checks
from v6gap.checks.run import run_probe_checks
from v6gap.model import REPORT_SCHEMA, Report, Status
from v6gap.probe.model import Echo, LinkDiagnosis, Observation, ProbeRun
from v6gap.probe.parity import Expectation, build_rows, check_expectations
from v6gap.probe.targets import Targets
from v6gap.report import OutputFormat, render

V4, V6 = "192.0.2.10", "2001:db8::10"


def run_of(
    table: Dict[int, Tuple[str, str]], echo6: bool = True, diagnosis: bool = False, v4: bool = True
) -> ProbeRun:
    reasons = {"open": "syn-ack", "closed": "refused", "filtered": "no-answer"}
    obs = []
    for port, (s4, s6) in table.items():
        if v4:
            obs.append(Observation(V4, "tcp", port, s4, reasons[s4]))  # type: ignore[arg-type]
        obs.append(Observation(V6, "tcp", port, s6, reasons[s6]))  # type: ignore[arg-type]
    echo = {V6: Echo(echo6, 0.1)}
    if v4:
        echo[V4] = Echo(True, 0.1)
    diag = {}
    if diagnosis:
        diag = {V6: LinkDiagnosis("broken-at-link", "ipv6", "failed", "IPv6 broken at the link")}
    targets = Targets((V4,) if v4 else (), (V6,))
    return ProbeRun(targets, tuple(obs), echo, 1.0, diag)


def build_report(
    run: ProbeRun, rows: object = None, checks: Sequence[Expectation] = (), ports_note: str = ""
) -> Report:
    return run_probe_checks(ProbeEvidence(run, tuple(checks), ports_note, "namespace v6g-x-1"))


TABLE = {22: ("open", "open"), 80: ("open", "filtered"), 8080: ("closed", "open")}


def statuses(run: ProbeRun, **kw: object) -> Dict[str, Status]:
    report = build_report(run, build_rows(run), **kw)  # type: ignore[arg-type]
    return {f.id: f.status for f in report.findings}


def test_one_finding_per_check_and_the_summary_counts_them() -> None:
    run = run_of(TABLE)
    rows = build_rows(run)
    report = build_report(run, rows, check_expectations(run, [22], [8080]), ports_note="ports: x")
    assert report.schema == REPORT_SCHEMA and report.target.profile == "probe"
    assert report.target.hostname == f"{V4} {V6}"
    ids = [f.id for f in report.findings]
    assert ids == [f"V6G-PROBE-0{n}" for n in range(1, 6)]
    got = {f.id: f for f in report.findings}
    assert got["V6G-PROBE-01"].status is Status.FAIL
    assert [(s.port, s.address, s.family) for s in got["V6G-PROBE-01"].subjects] == [
        (8080, V6, "ipv6")
    ]
    assert "ports: x" in got["V6G-PROBE-01"].evidence
    assert f"probed 3 port(s) on {V4}, {V6} from namespace v6g-x-1" in got["V6G-PROBE-01"].evidence
    assert got["V6G-PROBE-01"].references[-2:] == ("V6G-FW-03", "V6G-EXP-03")
    assert got["V6G-PROBE-02"].status is Status.FAIL
    assert [(s.port, s.address, s.value) for s in got["V6G-PROBE-02"].subjects] == [
        (8080, V6, "open")
    ]
    assert got["V6G-PROBE-03"].status is Status.PASS
    assert got["V6G-PROBE-04"].status is Status.PASS
    assert [s.port for s in got["V6G-PROBE-05"].subjects] == [80]
    assert sum(report.summary.values()) == 5 and report.summary["fail"] == 2


def test_statuses_for_quiet_and_partial_runs() -> None:
    calm = run_of({22: ("open", "open")})
    assert statuses(calm) == {
        "V6G-PROBE-01": Status.PASS,
        "V6G-PROBE-02": Status.SKIP,  # no expectations given
        "V6G-PROBE-03": Status.PASS,
        "V6G-PROBE-04": Status.PASS,
        "V6G-PROBE-05": Status.INFO,
    }
    only6 = statuses(run_of({22: ("open", "open")}, v4=False))
    assert only6["V6G-PROBE-01"] is Status.UNKNOWN  # nothing to compare: never a pass
    broken = statuses(run_of({22: ("open", "filtered")}, echo6=False, diagnosis=True))
    assert broken["V6G-PROBE-04"] is Status.FAIL
    no_icmp = ProbeRun(calm.targets, calm.observations, {}, 1.0)
    assert statuses(no_icmp)["V6G-PROBE-03"] is Status.SKIP


def test_sarif_and_junit_render_through_the_shared_reporters() -> None:
    run = run_of(TABLE, diagnosis=True, echo6=False)
    report = build_report(run, build_rows(run))
    sarif = json.loads(render(report, OutputFormat.SARIF))
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    assert set(results) == {"V6G-PROBE-01", "V6G-PROBE-04"}
    assert results["V6G-PROBE-01"]["level"] == "error"
    logical = results["V6G-PROBE-01"]["locations"][0]["logicalLocations"]
    assert logical[0]["properties"] == {
        "kind": "port", "family": "ipv6", "proto": "tcp", "port": 8080, "address": V6,
    }  # fmt: skip
    root = ET.fromstring(render(report, OutputFormat.JUNIT))
    cases = root.iter("testcase")
    failed = {c.get("name", "").split()[0] for c in cases if c.find("failure") is not None}
    assert failed == {"V6G-PROBE-01", "V6G-PROBE-04"}


def test_probe_checks_are_one_definition_each_outside_the_host_catalogue() -> None:
    ids = [c.meta.id for c in probe_checks()]
    assert ids == [f"V6G-PROBE-0{n}" for n in range(1, 6)]
    assert not set(ids) & {c.meta.id for c in all_checks()}
    assert len({c.evaluate for c in probe_checks()}) == 5


def test_a_check_that_crashes_is_unknown_never_pass() -> None:
    broken = ProbeRun(Targets((V4,), (V6,)), (), {V6: None}, 1.0)  # type: ignore[dict-item]
    got = {f.id: f for f in run_probe_checks(ProbeEvidence(broken)).findings}
    assert got["V6G-PROBE-03"].status is Status.UNKNOWN
    assert "failed internally" in got["V6G-PROBE-03"].reason
