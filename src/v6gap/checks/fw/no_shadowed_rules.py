"""V6G-FW-07: no rule is shadowed: an earlier rule of the same chain decides every packet it
would match, so it can never match.

Decided soundly and conservatively: an earlier rule shadows a later one when it ends the
chain's evaluation (accept, drop, reject; no rate limit) and each of its conditions is implied
by a condition of the later rule (same kind, same field, a narrower or equal set of values).
Conditions the engine does not understand never imply anything, so a shadowing they hide is
missed rather than invented.

Comparing every pair is quadratic (kube-proxy's chains hold thousands of rules), so earlier rules
that require one of a few exact destination addresses or ports are filed under them: only a later
rule whose own destination lies among them can be shadowed by such a rule, so a later rule is
compared with the unfiled rules and those filed under its first destination value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

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
MAX_POINTS = 64  # a match with more exact values than this is not filed
Key = tuple[str, Union[int, str]]  # ("daddr ipv4", address) or ("dport", port)

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


def _destinations(rule: Rule) -> list[tuple[Key, list[int]]]:
    """The destination matches a rule requires: (kind, their exact values or [] when a range)."""
    found: list[tuple[Key, list[int]]] = []
    for m in rule.matches:
        if isinstance(m, AddrMatch) and m.field == "daddr" and not m.negate:
            kind = f"daddr {m.family}"
        elif isinstance(m, PortMatch) and m.field == "dport" and not m.negate:
            kind = "dport"  # the protocols are compared by shadows()
        else:
            continue
        points = [a for a, b in m.ranges if a == b]
        found.append(((kind, m.ranges[0][0] if m.ranges else -1), points))
        if len(points) != len(m.ranges):
            found[-1] = (found[-1][0], [])
    return found


def _filing(rule: Rule) -> Optional[list[Key]]:
    """Where an earlier rule is filed: under each exact destination of its most selective
    destination match (None: compared with every later rule)."""
    best: Optional[list[Key]] = None
    for (kind, _), points in _destinations(rule):
        if points and len(points) <= MAX_POINTS and (best is None or kind.startswith("daddr")):
            best = [(kind, p) for p in points]
    return best


def _shadowed(rules: Sequence[Rule]) -> list[tuple[Rule, Rule]]:
    found: list[tuple[Rule, Rule]] = []
    general: list[int] = []
    filed: dict[Key, list[int]] = {}
    for i, later in enumerate(rules):
        # A rule filed under exact destinations needs the later rule's destination match of
        # that kind to lie among them, so to hold the later rule's first value of that kind.
        keys = [key for key, _ in _destinations(later)]
        candidates = sorted({*general, *(j for key in keys for j in filed.get(key, ()))})
        earlier = next((rules[j] for j in candidates if shadows(rules[j], later)), None)
        if earlier is not None:
            found.append((earlier, later))
        if later.limit is None and later.verdict.terminal:
            filing = _filing(later)
            if filing is None:
                general.append(i)
            for key in filing or ():
                filed.setdefault(key, []).append(i)
    return found


def evaluate(ctx: Context) -> Result:
    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot read the ruleset ({ctx.ruleset_problem})")
    found: list[tuple[Rule, Rule]] = []
    for table in ruleset.tables:
        if table.xt:
            continue
        for chain in table.chains:
            found.extend(_shadowed(chain.rules))
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
