"""V6G-FW-07: no rule is shadowed: an earlier rule of the same chain decides every packet it
would match, so it can never match.

Decided soundly and conservatively: an earlier rule shadows a later one when it ends the
chain's evaluation (accept, drop, reject; no rate limit) and each of its conditions is implied
by a condition of the later rule (same kind, same field, a narrower or equal set of values).
Conditions the engine does not understand never imply anything, so a shadowing they hide is
missed rather than invented.
"""

from __future__ import annotations

from typing import Optional

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.firewall.model import (
    AddrMatch,
    CtStateMatch,
    FamilyMatch,
    IcmpTypeMatch,
    IfaceMatch,
    Interval,
    Match,
    PortMatch,
    ProtoMatch,
    Rule,
)
from v6gap.model import Severity, Subject

ICMP_PROTO = {"ipv4": 1, "ipv6": 58}
MAX_LISTED = 20

META = CheckMeta(
    id="V6G-FW-07",
    title="No shadowed rules",
    severity=Severity.MEDIUM,
    seed="Option 2: Dual-Stack nftables Firewall",
    remediation=(
        "Delete or reorder each rule that earlier rules always pre-empt: nft -a list ruleset "
        "shows the handles; sudo nft delete rule FAMILY TABLE CHAIN handle N"
    ),
)


def _inside(inner: tuple[Interval, ...], outer: tuple[Interval, ...]) -> bool:
    return all(any(o[0] <= lo and hi <= o[1] for o in outer) for lo, hi in inner)


def _protocols(m: Match) -> Optional[frozenset[int]]:
    """The protocols a (non-negated) match confines packets to, if it does."""
    if isinstance(m, ProtoMatch) and not m.negate:
        return m.protocols
    if isinstance(m, PortMatch):
        return m.protocols
    if isinstance(m, IcmpTypeMatch):
        return frozenset({ICMP_PROTO[m.family]}) if m.family in ICMP_PROTO else None
    return None


def _families(m: Match) -> Optional[frozenset[str]]:
    if isinstance(m, FamilyMatch):
        return m.families
    if isinstance(m, (AddrMatch, IcmpTypeMatch)) and not m.negate:
        return frozenset({m.family})
    return None


def _implies(r: Match, e: Match) -> bool:
    """Every packet that matches ``r`` matches ``e``."""
    if r == e:
        return True
    if isinstance(e, FamilyMatch):
        fams = _families(r)
        return fams is not None and fams <= e.families
    if isinstance(e, ProtoMatch) and not e.negate:
        protos = _protocols(r)
        return protos is not None and protos <= e.protocols
    if isinstance(e, PortMatch) and isinstance(r, PortMatch):
        return (
            not e.negate
            and not r.negate
            and r.field == e.field
            and r.protocols <= e.protocols
            and _inside(r.ranges, e.ranges)
        )
    if isinstance(e, IcmpTypeMatch) and isinstance(r, IcmpTypeMatch):
        return (
            not e.negate and not r.negate and r.family == e.family and _inside(r.ranges, e.ranges)
        )
    if isinstance(e, AddrMatch) and isinstance(r, AddrMatch):
        return (
            not e.negate
            and not r.negate
            and (r.field, r.family) == (e.field, e.family)
            and _inside(r.ranges, e.ranges)
        )
    if isinstance(e, CtStateMatch) and isinstance(r, CtStateMatch):
        return not e.negate and not r.negate and r.states <= e.states
    if isinstance(e, IfaceMatch) and isinstance(r, IfaceMatch):
        return (
            not e.negate
            and not r.negate
            and r.field == e.field
            and "*" not in "".join(r.names + e.names)
            and set(r.names) <= set(e.names)
        )
    return False


def shadows(earlier: Rule, later: Rule) -> bool:
    if earlier.limit is not None or not earlier.verdict.terminal:
        return False
    return all(any(_implies(r, e) for r in later.matches) for e in earlier.matches)


def evaluate(ctx: Context) -> Result:
    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot read the ruleset ({ctx.ruleset_problem})")
    found: list[tuple[Rule, Rule]] = []
    for table in ruleset.tables:
        if table.xt:
            continue
        for chain in table.chains:
            for i, later in enumerate(chain.rules):
                earlier = next((e for e in chain.rules[:i] if shadows(e, later)), None)
                if earlier is not None:
                    found.append((earlier, later))
    if not found:
        return passed(f"no rule is shadowed by an earlier one ({ruleset.rule_count} rules read)")
    lines = [
        f"{later.origin} never matches: {earlier.origin} decides first" for earlier, later in found
    ]
    return failed(
        f"{len(found)} rule(s) can never match",
        [Subject(kind="rule", name=str(later.origin)) for _, later in found],
        lines[:MAX_LISTED]
        + ([f"… and {len(lines) - MAX_LISTED} more"] if len(lines) > MAX_LISTED else []),
    )


CHECK = Check(META, evaluate)
