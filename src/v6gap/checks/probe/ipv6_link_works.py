"""V6G-PROBE-04: IPv6 is not broken at the link (a silent address that never answered a
neighbour solicitation: the target's firewall most likely drops NDP, V6G-FW-04)."""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, skipped
from v6gap.checks.probe._evidence import REFERENCES, ProbeEvidence
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-PROBE-04",
    title="IPv6 is not broken at the link (neighbour advertisements come back)",
    severity=Severity.HIGH,
    seed="Firewall gaps",
    remediation=(
        "Accept ICMPv6 neighbour solicitation and advertisement (types 135, 136) in the "
        "target's input chain before any drop: meta l4proto ipv6-icmp icmpv6 type "
        "{ nd-neighbor-solicit, nd-neighbor-advert } accept"
    ),
    needs_ipv6=False,
    references=(*REFERENCES, "V6G-FW-04"),
)


def evaluate(evidence: ProbeEvidence) -> Result:
    run = evidence.run
    if not run.targets.ipv6:
        return skipped("no IPv6 address probed")
    lines = [d.message for d in run.diagnosis.values()]
    broken = [
        (a, d)
        for a, d in run.diagnosis.items()
        if d.verdict == "broken-at-link" and d.family == "ipv6"
    ]
    if not broken:
        return passed("every IPv6 address answered, or resolved at the link", lines)
    return failed(
        broken[0][1].message,
        [Subject(kind="address", family="ipv6", address=a, value=d.neighbour) for a, d in broken],
        lines,
    )


CHECK = Check(META, evaluate)
