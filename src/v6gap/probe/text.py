"""The text table: mismatches first, uniform closed/filtered ports summarised in one line."""

from __future__ import annotations

from typing import Collection, List, Optional, Sequence

from v6gap.probe.icmp import ERROR_PORT, UNTESTABLE
from v6gap.probe.model import Echo, IcmpTest, ProbeRun
from v6gap.probe.parity import Expectation, Row, echo_verdict

_ERRORS = ("port-unreachable", "reject")
_NONE = IcmpTest("-")
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
    lines += _icmp_table(run, addresses)
    if run.echo:
        lines.append(f"echo verdict: {_VERDICT_TEXT[echo_verdict(run)]}")
    lines += _silent_notes(run, rows)
    lines += _icmp_notes(run)
    if checks:
        failed = [c for c in checks if not c.passed]
        lines.append("")
        lines.append(f"expectations: {len(checks) - len(failed)}/{len(checks)} passed")
        for c in failed:
            lines.append(
                f"  FAIL {c.proto}/{c.port} on {c.address}: {c.actual}, expected {c.expected}"
            )
    return "\n".join(lines) + "\n"


def _echo_cell(echo: Optional[Echo]) -> str:
    if echo is None:
        return "-"
    if echo.answered:
        return f"reply, {echo.rtt_ms:g} ms" if echo.rtt_ms else "reply"
    return f"no reply ({echo.error})" if echo.error else "no reply"


def _icmp_table(run: ProbeRun, addresses: Sequence[str]) -> List[str]:
    """Echo, neighbour solicitation and an error back, one column per address."""
    if not (run.echo or run.errors or run.neighbour):
        return [""]
    table = [
        ["ICMP / ICMPv6", *addresses],
        ["echo", *(_echo_cell(run.echo.get(a)) for a in addresses)],
    ]
    if run.neighbour:
        cells = (run.neighbour[a].result if a in run.neighbour else "-" for a in addresses)
        table.append(["neighbour solicitation", *cells])
    if run.errors:
        cells = (run.errors[a].result if a in run.errors else "-" for a in addresses)
        table.append([f"error from udp/{ERROR_PORT}", *cells])
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    rows = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]
    return ["", *rows]


def _icmp_notes(run: ProbeRun) -> List[str]:
    """What the ICMPv6 tests mean beyond their cells, and what they cannot show."""
    notes = []
    for address, test in run.neighbour.items():
        echo = run.echo.get(address)
        if test.result == "answered" and echo is not None and not echo.answered:
            notes.append(
                f"note: {address} answers neighbour solicitations but not echo: it is up at the "
                "link and filters echo"
            )
        elif test.result in ("off-link", "unknown"):
            notes.append(f"note: neighbour solicitation to {address}: {test.detail}")
    came_back = [a for a in run.targets.ipv4 if run.errors.get(a, _NONE).result in _ERRORS]
    for address in run.targets.ipv6:
        if came_back and run.errors.get(address, _NONE).result == "no-answer":
            notes.append(
                f"note: no ICMPv6 error came back from {address} for udp/{ERROR_PORT} where "
                f"{came_back[0]} sent one: its firewall may drop its outgoing ICMPv6 errors "
                "(path MTU discovery through it then breaks alike), or drop this probe on the "
                "way in; the two are not told apart from outside"
            )
    if run.echo or run.errors:
        notes.append("not testable from outside:")
        notes += [f"  - {line}" for line in UNTESTABLE]
    return notes


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
