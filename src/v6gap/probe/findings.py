"""The probe as a v6gap ``Report``: one finding per probe check, for the sarif and junit formats.

The ``v6gap.probe/1`` JSON stays the probe's own document; these findings follow the report
contract (``v6gap.model``) so the shared reporters render them like an audit's.

V6G-PROBE-01  critical  a port reachable over IPv6 but not over IPv4 (the issue's exit 1)
V6G-PROBE-02  high      ``--expect-open`` / ``--expect-closed`` failed
V6G-PROBE-03  low       ICMPv6 echo answered where ICMP echo is not
V6G-PROBE-04  high      IPv6 broken at the link: no neighbour advertisement (likely V6G-FW-04)
V6G-PROBE-05  info      ports reachable over IPv4 but not over IPv6
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from v6gap import __version__
from v6gap.model import (
    REPORT_SCHEMA,
    Finding,
    Report,
    Severity,
    Source,
    Status,
    Subject,
    Target,
    Tool,
)
from v6gap.probe.model import ProbeRun
from v6gap.probe.parity import Expectation, Row, echo_verdict

PROFILE = "probe"
REFERENCES = ("seed: Scan evasion", "issue 6: v6gap probe")


def _states(row: Row) -> str:
    return ", ".join(f"{a} {s}" for a, s in row.states.items())


def _port_subjects(run: ProbeRun, row: Row, family: str) -> Tuple[Subject, ...]:
    addresses = run.targets.ipv6 if family == "ipv6" else run.targets.ipv4
    return tuple(
        Subject(kind="port", family=family, proto=row.proto, port=row.port, address=a)
        for a in addresses
        if row.states.get(a) in ("open", "open|filtered")
    )


def _wider(rows: Sequence[Row], verdict: str) -> List[Row]:
    return [r for r in rows if r.verdict == verdict]


def _probe01(run: ProbeRun, rows: Sequence[Row], ports_note: str) -> Finding:
    wider = _wider(rows, "ipv6-wider")
    evidence = [f"{r.proto}/{r.port}: {_states(r)}" for r in wider]
    evidence.append(f"probed {len(rows)} port(s) on {', '.join(run.targets.addresses)}")
    if ports_note:
        evidence.append(ports_note)
    one_family = not run.targets.ipv4 or not run.targets.ipv6
    if one_family:
        status, reason = Status.UNKNOWN, "only one family was probed: nothing to compare"
    elif wider:
        status = Status.FAIL
        reason = f"{len(wider)} port(s) reachable over IPv6 but not over IPv4"
    else:
        status, reason = Status.PASS, "no port is reachable over IPv6 that IPv4 refuses"
    return Finding(
        id="V6G-PROBE-01",
        title="port reachable over IPv6 but not IPv4",
        status=status,
        severity=Severity.CRITICAL,
        subjects=tuple(s for r in wider for s in _port_subjects(run, r, "ipv6")),
        evidence=tuple(evidence),
        remediation=(
            "Filter IPv6 input as IPv4 is filtered (an inet-family nftables table covers both), "
            "or bind the service to IPv4 only; then probe again."
        ),
        references=(*REFERENCES, "V6G-FW-03", "V6G-EXP-03"),
        reason=reason,
    )


def _probe02(checks: Sequence[Expectation]) -> Finding:
    failed = [c for c in checks if not c.passed]
    if not checks:
        status, reason = Status.SKIP, "no --expect-open or --expect-closed given"
    elif failed:
        status, reason = Status.FAIL, f"{len(failed)} of {len(checks)} expectation(s) failed"
    else:
        status, reason = Status.PASS, f"all {len(checks)} expectation(s) held"
    return Finding(
        id="V6G-PROBE-02",
        title="port state differs from the expectation",
        status=status,
        severity=Severity.HIGH,
        subjects=tuple(
            Subject(
                kind="port",
                family="ipv6" if ":" in c.address else "ipv4",
                proto=c.proto,
                port=c.port,
                address=c.address,
                value=c.actual,
            )
            for c in failed
        ),
        evidence=tuple(
            f"{c.proto}/{c.port} on {c.address}: {c.actual}, expected {c.expected}" for c in failed
        ),
        remediation="Open or close the listed ports on the listed addresses as expected.",
        references=REFERENCES,
        reason=reason,
    )


def _probe03(run: ProbeRun) -> Finding:
    evidence = tuple(
        f"echo {a}: {'reply' if e.answered else 'no reply'}" for a, e in run.echo.items()
    )
    if not run.echo:
        status, reason = Status.SKIP, "no echo sent (--no-icmp)"
    else:
        verdict = echo_verdict(run)
        if verdict == "ipv6-wider":
            status, reason = Status.FAIL, "ICMPv6 echo answered where ICMP echo is not"
        else:
            status, reason = Status.PASS, f"echo verdict: {verdict}"
    return Finding(
        id="V6G-PROBE-03",
        title="ICMPv6 echo answered where ICMP echo is not",
        status=status,
        severity=Severity.LOW,
        subjects=tuple(
            Subject(kind="address", family="ipv6", address=a)
            for a in run.targets.ipv6
            if status is Status.FAIL and run.echo.get(a) and run.echo[a].answered
        ),
        evidence=evidence,
        remediation="Treat echo alike in both families (rate-limited echo in both is fine).",
        references=REFERENCES,
        reason=reason,
    )


def _probe04(run: ProbeRun) -> Finding:
    broken = [
        (a, d)
        for a, d in run.diagnosis.items()
        if d.verdict == "broken-at-link" and d.family == "ipv6"
    ]
    if not run.targets.ipv6:
        status, reason = Status.SKIP, "no IPv6 address probed"
    elif broken:
        status, reason = Status.FAIL, broken[0][1].message
    else:
        status, reason = Status.PASS, "every IPv6 address answered, or resolved at the link"
    return Finding(
        id="V6G-PROBE-04",
        title="IPv6 broken at the link: no neighbour advertisement",
        status=status,
        severity=Severity.HIGH,
        subjects=tuple(
            Subject(kind="address", family="ipv6", address=a, value=d.neighbour) for a, d in broken
        ),
        evidence=tuple(d.message for d in run.diagnosis.values()),
        remediation=(
            "Accept ICMPv6 neighbour solicitation and advertisement (types 135, 136) in the "
            "target's input chain before any drop: meta l4proto ipv6-icmp icmpv6 type "
            "{ nd-neighbor-solicit, nd-neighbor-advert } accept"
        ),
        references=(*REFERENCES, "V6G-FW-04"),
        reason=reason,
    )


def _probe05(run: ProbeRun, rows: Sequence[Row]) -> Finding:
    wider = _wider(rows, "ipv4-wider")
    return Finding(
        id="V6G-PROBE-05",
        title="port reachable over IPv4 but not IPv6",
        status=Status.INFO,
        severity=Severity.INFO,
        subjects=tuple(s for r in wider for s in _port_subjects(run, r, "ipv4")),
        evidence=tuple(f"{r.proto}/{r.port}: {_states(r)}" for r in wider),
        references=REFERENCES,
        reason=f"{len(wider)} port(s) reachable over IPv4 but not over IPv6",
    )


def build_report(
    run: ProbeRun,
    rows: Sequence[Row],
    checks: Sequence[Expectation] = (),
    *,
    hostname: Optional[str] = None,
    source: Source = "live",
    ports_note: str = "",
) -> Report:
    """The probe's findings as a ``v6gap.report/1`` report."""
    findings = (
        _probe01(run, rows, ports_note),
        _probe02(checks),
        _probe03(run),
        _probe04(run),
        _probe05(run, rows),
    )
    summary = {s.value: 0 for s in Status}
    for f in findings:
        summary[f.status.value] += 1
    return Report(
        schema=REPORT_SCHEMA,
        tool=Tool(name="v6gap", version=__version__),
        target=Target(
            hostname=hostname or " ".join(run.targets.addresses), source=source, profile=PROFILE
        ),
        summary=summary,
        findings=findings,
    )
