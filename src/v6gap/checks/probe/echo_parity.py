"""V6G-PROBE-03: ICMPv6 echo is not answered where ICMP echo is not."""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, skipped
from v6gap.checks.probe._evidence import REFERENCES, ProbeEvidence
from v6gap.model import Severity, Subject
from v6gap.probe.parity import echo_verdict

META = CheckMeta(
    id="V6G-PROBE-03",
    title="ICMPv6 echo is not answered where ICMP echo is not",
    severity=Severity.LOW,
    seed="Scan evasion",
    remediation="Treat echo alike in both families (rate-limited echo in both is fine).",
    needs_ipv6=False,
    references=REFERENCES,
)


def evaluate(evidence: ProbeEvidence) -> Result:
    run = evidence.run
    if not run.echo:
        return skipped("no echo sent (--no-icmp)")
    lines = [f"echo {a}: {'reply' if e.answered else 'no reply'}" for a, e in run.echo.items()]
    verdict = echo_verdict(run)
    if verdict != "ipv6-wider":
        return passed(f"echo verdict: {verdict}", lines)
    return failed(
        "ICMPv6 echo answered where ICMP echo is not",
        [
            Subject(kind="address", family="ipv6", address=a)
            for a in run.targets.ipv6
            if a in run.echo and run.echo[a].answered
        ],
        lines,
    )


CHECK = Check(META, evaluate)
