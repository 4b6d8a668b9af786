"""Packets against the ruleset: a probe's answers confirm or contradict V6G-EXP-03 and V6G-FW-03.

The engine judges what the rules *should* let in; the probe shows what came back. A port
"answered" over a family when some address of it gave an answer only the target's own stack
gives: a TCP connection or reset (open / closed by RST), or a UDP reply. Silence and ICMP
rejects mean the packet did not get through. Only the evidence changes: the status stays the
engine's (V6G-PROBE-01 carries what packets alone prove).
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import msgspec

from v6gap.checks.probe._evidence import ProbeEvidence
from v6gap.model import Finding, Status, Subject
from v6gap.probe.parity import Row

MAX_LISTED = 8
Span = Tuple[str, int, int]  # proto, first port, last port


def answered(row: Row, addresses: Sequence[str]) -> bool:
    """Whether the target's stack itself answered ``row``'s port on one of ``addresses``."""
    for address in addresses:
        state = row.states.get(address)
        if state == "open" or (
            state == "closed" and row.proto == "tcp" and row.reasons.get(address) == "refused"
        ):
            return True
    return False


def _cell(row: Row, addresses: Sequence[str]) -> str:
    return "/".join(sorted({row.states[a] for a in addresses if a in row.states})) or "-"


def describe(row: Row, evidence: ProbeEvidence) -> str:
    targets = evidence.run.targets
    return (
        f"{row.proto}/{row.port} {_cell(row, targets.ipv6)} over IPv6, "
        f"{_cell(row, targets.ipv4)} over IPv4"
    )


def ipv6_only_rows(evidence: ProbeEvidence) -> List[Row]:
    """Ports the target's stack answered over IPv6 while IPv4 got no such answer."""
    targets = evidence.run.targets
    return [r for r in evidence.rows if answered(r, targets.ipv6) and not answered(r, targets.ipv4)]


def _listed(rows: Sequence[Row], evidence: ProbeEvidence) -> str:
    shown = "; ".join(describe(r, evidence) for r in rows[:MAX_LISTED])
    more = f"; … and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
    return shown + more


def _beyond(finding: Finding, evidence: ProbeEvidence, rows: Sequence[Row], what: str) -> List[str]:
    """The packets' word on ports the finding does not name: ``rows`` contradict it (or, when
    the engine could not decide, are simply shown); none at all confirms a pass."""
    origin = evidence.origin
    if rows:
        word = "seen in" if finding.status is Status.UNKNOWN else "contradicted by"
        return [f"{word} connections from {origin}: {what}: " + _listed(rows, evidence)]
    if finding.status is Status.PASS:
        count = len(evidence.rows)
        return [f"confirmed by connections from {origin}: none of {count} probed port(s) {what}"]
    return []


def _listener_lines(finding: Finding, evidence: ProbeEvidence) -> List[str]:
    """V6G-EXP-03: each failing listener's port, and any port the packets add."""
    by_port: Dict[Tuple[str, int], Row] = {(r.proto, r.port): r for r in evidence.rows}
    wider = {(r.proto, r.port) for r in evidence.rows if r.verdict == "ipv6-wider"}
    origin = evidence.origin
    lines: List[str] = []
    claimed = (
        [(s.proto or "", s.port or 0) for s in finding.subjects if s.port is not None]
        if finding.status is Status.FAIL
        else []
    )
    for key in dict.fromkeys(claimed):
        row = by_port.get(key)
        if row is None:
            lines.append(f"{key[0]}/{key[1]} was not probed: add it to --probe-ports")
            continue
        word = "confirmed" if key in wider else "contradicted"
        lines.append(f"{word} by a connection from {origin}: {describe(row, evidence)}")
    extra = [by_port[k] for k in sorted(wider - set(claimed))]
    return lines + _beyond(finding, evidence, extra, "reachable over IPv6 but not over IPv4")


def parse_span(subject: Subject) -> Optional[Span]:
    """(proto, first, last) of a V6G-FW-03 subject named ``tcp 23-65535`` or ``udp 53``."""
    proto, _, ports = (subject.name or "").partition(" ")
    first, _, last = ports.partition("-")
    try:
        return proto, int(first), int(last or first)
    except ValueError:
        return None


def _in(row: Row, spans: Iterable[Span]) -> bool:
    return any(row.proto == p and lo <= row.port <= hi for p, lo, hi in spans)


def _parity_lines(finding: Finding, evidence: ProbeEvidence) -> List[str]:
    """V6G-FW-03: probed ports inside the ranges it names, and outside them."""
    spans = [s for s in map(parse_span, finding.subjects) if s is not None]
    origin = evidence.origin
    differing = ipv6_only_rows(evidence)
    inside = [r for r in differing if _in(r, spans)]
    outside = [r for r in differing if not _in(r, spans)]
    lines: List[str] = []
    if finding.status is Status.FAIL:
        if inside:
            lines.append(
                f"confirmed by connections from {origin}: {len(inside)} probed port(s) in these "
                "ranges answered over IPv6 and not over IPv4: " + _listed(inside, evidence)
            )
        else:
            probed = [r for r in evidence.rows if _in(r, spans)]
            lines.append(
                f"not confirmed by packets from {origin}: none of {len(probed)} probed port(s) "
                "in these ranges answered over IPv6 and not over IPv4"
            )
    what = "answered over IPv6 and not over IPv4"
    where = " outside every range above" if finding.status is Status.FAIL else ""
    return lines + _beyond(finding, evidence, outside, what + where)


CORROBORATED: Dict[str, Callable[[Finding, ProbeEvidence], List[str]]] = {
    "V6G-EXP-03": _listener_lines,
    "V6G-FW-03": _parity_lines,
}


def corroborate(findings: Sequence[Finding], evidence: ProbeEvidence) -> Tuple[Finding, ...]:
    """``findings`` with the packets' word added to the evidence of EXP-03 and FW-03; a finding
    that was skipped (profile, IPv6 off) is left alone."""
    out = []
    for finding in findings:
        judge = CORROBORATED.get(finding.id)
        if judge is None or finding.status is Status.SKIP or not evidence.both_families:
            out.append(finding)
            continue
        added = tuple(judge(finding, evidence))
        out.append(msgspec.structs.replace(finding, evidence=finding.evidence + added))
    return tuple(out)
