"""V6G-EXP-03: no listener is reachable over IPv6 while IPv4 access to it is refused.

For each network-facing IPv6 socket, the firewall engine judges a new connection to its port
from the network over each family; the finding names the port, the process and the rules that
decided both verdicts.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.exp._listeners import describe, network_facing_v6, sockets_missing, subject
from v6gap.checks.fw._fixes import ipv6_input_fix
from v6gap.firewall.model import REWRITES_DESTINATIONS
from v6gap.model import Severity

PROTOCOLS = {"tcp": 6, "udp": 17}
OPEN = ("accept", "conditional")

META = CheckMeta(
    id="V6G-EXP-03",
    title="No listener is reachable over IPv6 but refused over IPv4",
    severity=Severity.CRITICAL,
    seed="Scan evasion",
    remediation=ipv6_input_fix(),
)


def _trace(steps: tuple[str, ...]) -> str:
    return " -> ".join(steps) if steps else "no rule"


def evaluate(ctx: Context) -> Result:
    from v6gap.firewall.parity import explain

    missing = sockets_missing(ctx)
    if missing:
        return unknown(missing)
    exposed = network_facing_v6(ctx.snapshot.sockets)
    if not exposed:
        return passed("no network-facing IPv6 listener")
    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(
            f"cannot evaluate the ruleset ({ctx.ruleset_problem})", [describe(s) for s in exposed]
        )
    bypass, undecided, evidence = [], [], []
    for sock in exposed:
        proto = PROTOCOLS[sock.proto]
        v6 = explain(ruleset, "ipv6", proto, dport=sock.port)
        v4 = explain(ruleset, "ipv4", proto, dport=sock.port)
        evidence.append(f"{describe(sock)}: IPv6 {v6.verdict}, IPv4 {v4.verdict}")
        if v6.verdict in OPEN and v4.verdict == "drop":
            bypass.append(sock)
            evidence.append(f"  IPv6 decided by: {_trace(v6.trace)}")
            evidence.append(f"  IPv4 decided by: {_trace(v4.trace)}")
        elif v6.verdict == "unknown" and v4.verdict == "drop":
            undecided.append(sock)
    # Destination NAT is not followed (Docker's published ports, NodePorts): say so beside the
    # verdicts, since a rewritten port is reached through the forward path instead.
    evidence += [f"note: {n}" for n in ruleset.notes if REWRITES_DESTINATIONS in n]
    if bypass:
        ports = ", ".join(f"{s.proto}/{s.port} ({s.process or 'unknown process'})" for s in bypass)
        return failed(
            f"reachable over IPv6 but refused over IPv4: {ports}",
            [subject(s) for s in bypass],
            evidence,
            ipv6_input_fix(ctx.firewall),
        )
    if undecided:
        return unknown(
            f"{len(undecided)} listener(s) refused over IPv4 whose IPv6 verdict the engine "
            "cannot decide (rules it does not understand)",
            evidence,
        )
    return passed("every IPv6 listener is refused over IPv6 wherever IPv4 refuses it", evidence)


CHECK = Check(META, evaluate)
