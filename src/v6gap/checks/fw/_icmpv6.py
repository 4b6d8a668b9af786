"""Asking the engine whether the ICMPv6 messages IPv6 cannot work without get in.

Each message is judged as conntrack sees it: neighbour discovery and MLD are never tracked
(``untracked``, so ``ct state new`` rules do not let them in and ``ct state invalid`` rules do
not drop them); the error messages that matter are about the host's own flows (``related``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from v6gap.checks.base import Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Subject

ICMPV6 = 58
LINK_LOCAL = "fe80::/10"


@dataclass(frozen=True)
class Needed:
    type: int
    name: str
    ct_state: str
    saddr: Optional[str] = None  # judged from these sources only (None: every network source)
    hop_limit: Optional[int] = None  # as sent: 255 for neighbour discovery, 1 for MLD


def judge_icmpv6(ctx: Context, needed: list[Needed], what: str) -> Result:
    """Fail naming each needed message the input path drops; unknown where it cannot tell."""
    from v6gap.firewall.parity import explain

    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot read the ruleset ({ctx.ruleset_problem})")
    dropped: list[Needed] = []
    undecided: list[Needed] = []
    evidence: list[str] = []
    for n in needed:
        d = explain(
            ruleset,
            "ipv6",
            ICMPV6,
            icmp_type=n.type,
            saddr=n.saddr,
            ct_state=n.ct_state,
            hop_limit=n.hop_limit,
        )
        source = f" from {n.saddr}" if n.saddr else ""
        decided_by = d.trace[-1] if d.trace else "no rule"
        evidence.append(
            f"icmpv6 {n.type} {n.name} ({n.ct_state}){source}: {d.verdict}, {decided_by}"
        )
        if d.verdict == "drop":
            dropped.append(n)
        elif d.verdict == "unknown":
            undecided.append(n)
    if dropped:
        return failed(
            f"{what} dropped: " + ", ".join(f"{n.name} ({n.type})" for n in dropped),
            [Subject(kind="icmpv6", name=n.name, proto="icmpv6", port=n.type) for n in dropped],
            evidence,
        )
    if undecided:
        return unknown(
            "the engine cannot decide: " + ", ".join(f"{n.name} ({n.type})" for n in undecided),
            evidence,
        )
    return passed(f"{what} get in", evidence)
