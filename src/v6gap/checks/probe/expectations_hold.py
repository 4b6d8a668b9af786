"""V6G-PROBE-02: every port given to ``--expect-open`` / ``--expect-closed`` is as expected."""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, skipped
from v6gap.checks.probe._evidence import REFERENCES, ProbeEvidence
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-PROBE-02",
    title="Every port is open or closed as expected",
    severity=Severity.HIGH,
    seed="Scan evasion",
    remediation="Open or close the listed ports on the listed addresses as expected.",
    needs_ipv6=False,
    references=REFERENCES,
)


def evaluate(evidence: ProbeEvidence) -> Result:
    checks = evidence.expectations
    if not checks:
        return skipped("no --expect-open or --expect-closed given")
    wrong = [c for c in checks if not c.passed]
    if not wrong:
        return passed(f"all {len(checks)} expectation(s) held")
    return failed(
        f"{len(wrong)} of {len(checks)} expectation(s) failed",
        [
            Subject(
                kind="port",
                family=evidence.run.targets.family_of(c.address),
                proto=c.proto,
                port=c.port,
                address=c.address,
                value=c.actual,
            )
            for c in wrong
        ],
        [f"{c.proto}/{c.port} on {c.address}: {c.actual}, expected {c.expected}" for c in wrong],
    )


CHECK = Check(META, evaluate)
