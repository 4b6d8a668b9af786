"""V6G-PROBE-01 (a port reachable over IPv6 but not IPv4) and V6G-PROBE-05 (the other way
round, for information): both read the parity rows' verdicts, one family against the other."""

from __future__ import annotations

from typing import List

from v6gap.checks.base import Check, CheckMeta, Result, failed, info, passed, unknown
from v6gap.checks.fw._fixes import ipv6_input_fix
from v6gap.checks.probe._evidence import (
    REFERENCES,
    ProbeEvidence,
    exposed_subjects,
    states_text,
)
from v6gap.model import Severity

IPV6_WIDER_META = CheckMeta(
    id="V6G-PROBE-01",
    title="No port is reachable over IPv6 but not over IPv4",
    severity=Severity.CRITICAL,
    seed="Scan evasion",
    remediation=(
        "Filter IPv6 input as IPv4 is filtered (an inet-family nftables table covers both), "
        "or bind the service to IPv4 only; then probe again.\n" + ipv6_input_fix()
    ),
    needs_ipv6=False,
    references=(*REFERENCES, "V6G-FW-03", "V6G-EXP-03"),
)
IPV4_WIDER_META = CheckMeta(
    id="V6G-PROBE-05",
    title="Ports reachable over IPv4 but not over IPv6",
    severity=Severity.INFO,
    seed="Scan evasion",
    remediation="",
    needs_ipv6=False,
    references=REFERENCES,
)


def _wider(evidence: ProbeEvidence, verdict: str) -> List[str]:
    return [f"{r.proto}/{r.port}: {states_text(r)}" for r in evidence.rows if r.verdict == verdict]


def ipv6_wider(evidence: ProbeEvidence) -> Result:
    lines = _wider(evidence, "ipv6-wider")
    targets = evidence.run.targets
    lines.append(
        f"probed {len(evidence.rows)} port(s) on {', '.join(targets.addresses)} "
        f"from {evidence.origin}"
    )
    if evidence.ports_note:
        lines.append(evidence.ports_note)
    if not evidence.both_families:
        return unknown("only one family was probed: nothing to compare", lines)
    wider = [r for r in evidence.rows if r.verdict == "ipv6-wider"]
    if not wider:
        return passed("no port is reachable over IPv6 that IPv4 refuses", lines)
    return failed(
        f"{len(wider)} port(s) reachable over IPv6 but not over IPv4",
        [s for r in wider for s in exposed_subjects(evidence, r, "ipv6")],
        lines,
    )


def ipv4_wider(evidence: ProbeEvidence) -> Result:
    wider = [r for r in evidence.rows if r.verdict == "ipv4-wider"]
    return info(
        f"{len(wider)} port(s) reachable over IPv4 but not over IPv6",
        [s for r in wider for s in exposed_subjects(evidence, r, "ipv4")],
        _wider(evidence, "ipv4-wider"),
    )


CHECKS = (Check(IPV6_WIDER_META, ipv6_wider), Check(IPV4_WIDER_META, ipv4_wider))
