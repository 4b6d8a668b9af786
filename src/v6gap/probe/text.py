"""The text table: mismatches first, uniform closed/filtered ports summarised in one line."""

from __future__ import annotations

from typing import Collection, List, Sequence

from v6gap.probe.model import ProbeRun
from v6gap.probe.parity import Expectation, Row, echo_verdict

_VERDICT_TEXT = {"parity": "parity", "ipv6-wider": "IPv6 wider", "ipv4-wider": "IPv4 wider"}


def _cell(row: Row, address: str, broken: Collection[str] = ()) -> str:
    state = row.states.get(address, "-")
    if address in broken:  # the "reject" was this side's own "address unreachable"
        return f"{state} (no link)"
    reason = row.reasons.get(address, "")
    return f"{state} (reject)" if reason.startswith("reject") else state


def render_text(
    run: ProbeRun,
    rows: Sequence[Row],
    checks: Sequence[Expectation] = (),
    ports_note: str = "",
    origin: str = "",
) -> str:
    addresses = list(run.targets.addresses)
    sent = f" from {origin}" if origin else ""
    lines: List[str] = [
        f"probed {', '.join(addresses)}{sent}: {len(rows)} port(s) in {run.elapsed_s:.1f}s",
    ]
    if ports_note:
        lines.append(ports_note)
    missing = [f for f in ("ipv4", "ipv6") if not getattr(run.targets, f)]
    if missing:
        lines.append(
            f"note: no {missing[0]} address named: nothing to compare, verdicts are parity"
        )
    lines.append("")
    shown = [r for r in rows if r.verdict != "parity" or not r.uniform or r.exposed]
    quiet = len(rows) - len(shown)
    header = ["PROTO/PORT", *addresses, "VERDICT"]
    broken = {a for a, d in run.diagnosis.items() if d.verdict == "broken-at-link"}
    table = [header] + [
        [f"{r.proto}/{r.port}", *(_cell(r, a, broken) for a in addresses), _VERDICT_TEXT[r.verdict]]
        for r in shown
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]
    if quiet:
        lines.append(f"({quiet} more port(s) closed or filtered alike on every address)")
    lines.append("")
    for address, echo in run.echo.items():
        said = f"reply, {echo.rtt_ms:g} ms" if echo.answered and echo.rtt_ms else "no reply"
        lines.append(f"echo {address}: {said}{' (' + echo.error + ')' if echo.error else ''}")
    if run.echo:
        lines.append(f"echo verdict: {_VERDICT_TEXT[echo_verdict(run)]}")
    lines += _silent_notes(run, rows)
    if checks:
        failed = [c for c in checks if not c.passed]
        lines.append("")
        lines.append(f"expectations: {len(checks) - len(failed)}/{len(checks)} passed")
        for c in failed:
            lines.append(
                f"  FAIL {c.proto}/{c.port} on {c.address}: {c.actual}, expected {c.expected}"
            )
    return "\n".join(lines) + "\n"


def _rate_limit_notes(run: ProbeRun) -> List[str]:
    """ICMP answers are rate-limited by the target's kernel: silence next to them is ambiguous."""
    notes = []
    for address in run.targets.addresses:
        mine = [o for o in run.observations if o.address == address]
        icmp = sum(1 for o in mine if o.reason == "reject" or o.detail == "icmp")
        silent = sum(1 for o in mine if o.reason == "no-answer")
        if icmp and silent:
            notes.append(
                f"note: {address} answered {icmp} probe(s) with ICMP errors, which its kernel "
                f"rate-limits: some of the {silent} unanswered may be rejected, not dropped"
            )
    return notes


def _silent_notes(run: ProbeRun, rows: Sequence[Row]) -> List[str]:
    """An address that answered nothing at all is down or broken, not firewalled."""
    notes = _rate_limit_notes(run)
    for address in run.targets.addresses:
        diagnosis = run.diagnosis.get(address)
        if diagnosis is not None:
            notes.append(f"note: {address} answered nothing at all: {diagnosis.message}")
            continue
        echo = run.echo.get(address)
        answered = any(
            not r.reasons.get(address, "no-answer").startswith("no-answer") for r in rows
        )
        if not answered and not (echo and echo.answered):
            family = run.targets.family_of(address)
            cause = (
                " (an input policy that drops neighbour solicitations breaks IPv6 at the link:"
                " see V6G-FW-04)"
                if family == "ipv6"
                else ""
            )
            notes.append(f"note: {address} answered nothing at all: down or unreachable{cause}")
    return notes
