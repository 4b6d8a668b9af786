"""V6G-FW-03: nothing is accepted from the network over IPv6 that IPv4 refuses.

Asked of the firewall engine for the whole space, not only the listeners: every TCP/UDP port
interval the ruleset distinguishes, ICMP types with the same meaning in both families, and the
other protocols, for new connections from the network on the input hook.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Severity, Subject

MAX_LISTED = 20
_RANK = {"accept": 3, "conditional": 2, "unknown": 1, "drop": 0}

META = CheckMeta(
    id="V6G-FW-03",
    title="IPv6 accepts nothing that IPv4 refuses (parity)",
    severity=Severity.CRITICAL,
    seed="Firewall gaps",
    remediation=(
        "Refuse over IPv6 what IPv4 refuses: mirror each IPv4 restriction in ip6tables, or "
        "move both families into one inet table (nft) so each rule covers both. "
        "See each range with: v6gap firewall parity --snapshot FILE; one port's rule trace "
        "with: v6gap firewall explain --family 6 --proto tcp --dport PORT"
    ),
)


def _span(proto: str, low: object, high: object) -> str:
    if low is None:
        return proto
    return f"{proto} {low}" if low == high else f"{proto} {low}-{high}"


def evaluate(ctx: Context) -> Result:
    from v6gap.firewall.parity import parity

    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot evaluate the ruleset ({ctx.ruleset_problem})")
    differences = parity(ruleset)
    wider6 = [d for d in differences if _RANK[d.ipv6] > _RANK[d.ipv4] and d.ipv6 != "unknown"]
    unsure = [d for d in differences if d.ipv6 == "unknown" and d.ipv4 == "drop"]
    wider4 = [d for d in differences if _RANK[d.ipv4] > _RANK[d.ipv6]]
    lines = [
        f"{_span(d.proto, d.from_port, d.to_port)}: IPv4 {d.ipv4}, IPv6 {d.ipv6}"
        for d in (*wider6, *unsure, *wider4)
    ]
    evidence = lines[:MAX_LISTED] + (
        [f"… and {len(lines) - MAX_LISTED} more ranges"] if len(lines) > MAX_LISTED else []
    )
    if wider6:
        subjects = [
            Subject(
                kind="port" if d.from_port is not None and d.proto in ("tcp", "udp") else "proto",
                family="ipv6",
                proto=d.proto,
                port=d.from_port,
                name=_span(d.proto, d.from_port, d.to_port),
                value=f"IPv4 {d.ipv4}, IPv6 {d.ipv6}",
            )
            for d in wider6
        ]
        return failed(
            f"{len(wider6)} range(s) accepted over IPv6 but refused over IPv4: "
            + ", ".join(_span(d.proto, d.from_port, d.to_port) for d in wider6[:6])
            + (" …" if len(wider6) > 6 else ""),
            subjects,
            evidence,
        )
    if unsure:
        return unknown(
            f"{len(unsure)} range(s) refused over IPv4 whose IPv6 verdict the engine cannot "
            "decide (rules it does not understand)",
            evidence,
        )
    return passed("IPv6 accepts nothing from the network that IPv4 refuses", evidence)


CHECK = Check(META, evaluate)
