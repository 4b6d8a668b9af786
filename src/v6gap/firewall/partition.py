"""Cutting the spaces a ruleset distinguishes: ports, ICMP types, sources.

The port space 0..65535 (per protocol), the ICMP types 0..255 and each family's source
addresses are cut only where some rule's range starts or ends. Inside one interval every port,
type or source match of the ruleset answers the same way, so one evaluation per interval is
exact (parity, the forward default and loopback spoofing all ask this way).
"""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Iterable, Iterator

from v6gap.firewall import _names
from v6gap.firewall.evaluate import hook_chains
from v6gap.firewall.model import (
    ADDRESS_BITS,
    BOTH,
    ICMP,
    ICMPV6,
    PORT_PROTOCOLS,
    TCP,
    UDP,
    AddrMatch,
    AnyOf,
    Chain,
    Interval,
    Match,
    PortMatch,
    ProtoMatch,
    Rule,
    Ruleset,
    Table,
    Verdict,
)


def _of_all(matches: tuple[Match, ...]) -> Iterator[Match]:
    for match in matches:
        yield match
        if isinstance(match, AnyOf):
            for alternative in match.alternatives:
                yield from _of_all(alternative)


def _of_verdict(verdict: Verdict) -> Iterator[Match]:
    for when, inner in verdict.entries:
        yield from _of_all(when)
        yield from _of_verdict(inner)


def _of_rule(rule: Rule) -> Iterator[Match]:
    """Every match in a rule, its concatenations and its verdict map included."""
    yield from _of_all(rule.matches)
    yield from _of_verdict(rule.verdict)


def _matches(ruleset: Ruleset) -> Iterator[Match]:
    for table in ruleset.tables:
        for chain in table.chains:
            for rule in chain.rules:
                yield from _of_rule(rule)


def named_protocols(matches: Iterable[Match]) -> set[int]:
    """The protocols ``matches`` name (the rules a question can reach: ``judged_matches``).
    A protocol named only elsewhere (a nat chain) gets the verdict of every unnamed one."""
    return {p for m in matches if isinstance(m, ProtoMatch) for p in m.protocols}


def cut(spans: Iterator[Interval], low: int, high: int) -> list[Interval]:
    cuts = {low, high + 1}
    for a, b in spans:
        cuts.update(c for c in (a, b + 1) if low <= c <= high + 1)
    ordered = sorted(cuts)
    return [(a, b - 1) for a, b in zip(ordered, ordered[1:])]


def port_atoms(ruleset: Ruleset, protocol: int) -> list[Interval]:
    return _port_atoms(_matches(ruleset), protocol)


def port_spans(matches: Iterable[Match], protocol: int) -> list[Interval]:
    return [
        span
        for m in matches
        if isinstance(m, PortMatch) and m.field == "dport" and protocol in m.protocols
        for span in m.ranges
    ]


def _port_atoms(matches: Iterable[Match], protocol: int) -> list[Interval]:
    return cut(iter(port_spans(matches, protocol)), 0, 65535)


def signatures(atoms: list[Interval], spans: list[Interval]) -> list[frozenset[Interval]]:
    """For each atom (in order), the spans that contain it.

    Two atoms cut from ``spans`` with the same signature get the same verdicts: every port match
    of a reachable rule answers the same for both (no span cuts an atom), and the rule index
    hands both the same rules (a port it files rules under is a one-port span, so an atom whose
    signature holds one is that port alone and unlike any other). Parity judges one of them."""
    ordered = sorted(set(spans))
    ending: list[tuple[int, Interval]] = []
    active: set[Interval] = set()
    found: list[frozenset[Interval]] = []
    j = 0
    for low, _ in atoms:
        while j < len(ordered) and ordered[j][0] <= low:
            active.add(ordered[j])
            heapq.heappush(ending, (ordered[j][1], ordered[j]))
            j += 1
        while ending and ending[0][0] < low:
            active.discard(heapq.heappop(ending)[1])
        found.append(frozenset(active))
    return found


def judged_matches(ruleset: Ruleset, hook: str = "input") -> list[Match]:
    """Every match of the rules ``judge`` can reach: those of the filter chains on ``hook``'s
    path (either family) and of the chains they jump or go to. Rules elsewhere (nat, output,
    unreachable chains) are never evaluated, so their port ranges need not cut the space: inside
    an interval that no reachable rule cuts, every evaluated match answers the same."""
    found: list[Match] = []
    seen: set[tuple[int, str]] = set()
    todo: list[tuple[Table, Chain]] = []

    def visit(table: Table, chain: Chain) -> None:
        key = (id(table), chain.name)
        if key not in seen:
            seen.add(key)
            todo.append((table, chain))

    for family in sorted(BOTH):
        for table, chain in hook_chains(ruleset, family, hook):
            visit(table, chain)
    while todo:
        table, chain = todo.pop()
        for rule in chain.rules:
            found.extend(_of_rule(rule))
            for target in _targets(rule.verdict):
                reached = table.chain(target)
                if reached is not None:
                    visit(table, reached)
    return found


def _targets(verdict: Verdict) -> Iterator[str]:
    if verdict.kind in ("jump", "goto"):
        yield verdict.target or ""
    for _, inner in verdict.entries:
        yield from _targets(inner)


def source_cuts(family: str, spans: list[Interval]) -> list[Interval]:
    loopback = _names.address_range(_names.LOOPBACK[family], family)
    assert loopback is not None
    atoms = cut(iter([*spans, loopback]), 0, (1 << ADDRESS_BITS[family]) - 1)
    return [a for a in atoms if not (loopback[0] <= a[0] and a[1] <= loopback[1])]


def _saddr_spans(matches: Iterator[Match], family: str) -> list[Interval]:
    return [
        span
        for m in matches
        if isinstance(m, AddrMatch) and m.field == "saddr" and m.family == family
        for span in m.ranges
    ]


def source_atoms(ruleset: Ruleset, family: str) -> list[Interval]:
    """The network sources (loopback left out) cut wherever any rule's source range is."""
    return source_cuts(family, _saddr_spans(_matches(ruleset), family))


def prefixes(span: Interval, family: str) -> str:
    make = ipaddress.IPv4Address if family == "ipv4" else ipaddress.IPv6Address
    nets = list(ipaddress.summarize_address_range(make(span[0]), make(span[1])))
    text = ", ".join(str(n) for n in nets[:2])
    return text + (f" … ({len(nets)} prefixes)" if len(nets) > 2 else "")


def other_protocols(named: set[int]) -> list[tuple[int, str]]:
    """Protocols the ruleset names (beyond tcp/udp/icmp), and one standing for all the rest."""
    found = [
        (p, _names.PROTOCOL_NAMES.get(p, str(p)))
        for p in sorted(named - {TCP, UDP, ICMP, ICMPV6} - PORT_PROTOCOLS)
    ]
    unnamed = next(p for p in range(253, 0, -1) if p not in named)
    return [*found, (unnamed, "other")]
