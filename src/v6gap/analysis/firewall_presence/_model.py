"""The engine's ruleset model seen as the presence summary's chain graph.

Presence asks structural questions (is there a drop anywhere on the path, what does a packet no
conditional rule decided meet), so a rule keeps only its families, whether it has any condition,
its verdicts and whether it drops a loopback source. Families come from the table (ip, ip6,
inet; netdev's ingress sees both) narrowed by the rule's own matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Optional

from v6gap.analysis.firewall_presence._graph import BOTH
from v6gap.analysis.firewall_presence._graph import Chain as GraphChain
from v6gap.analysis.firewall_presence._graph import Rule as GraphRule
from v6gap.analysis.firewall_presence._graph import Verdict as GraphVerdict
from v6gap.firewall import _names
from v6gap.firewall.model import (
    TABLE_FAMILIES,
    AddrMatch,
    AnyOf,
    Chain,
    FamilyMatch,
    HopLimitMatch,
    IcmpTypeMatch,
    IfaceMatch,
    Match,
    ProtoMatch,
    Rule,
    Table,
    Unknown,
    Verdict,
)

# The engine's reader keeps an unreadable rule as this one Unknown match (with no verdict).
MALFORMED = "rule expression too large or malformed"
_ICMP_FAMILY = {frozenset({1}): "ipv4", frozenset({58}): "ipv6"}
_RAW_FAMILY = re.compile(r'"protocol":"(ip6?|icmp(?:v6)?)"')
_RAW_WORDS = {"ip": "ipv4", "icmp": "ipv4", "ip6": "ipv6", "icmpv6": "ipv6"}
_LOOPBACK = {
    family: _names.address_range(_names.LOOPBACK[family], family) for family in ("ipv4", "ipv6")
}


def table_families(table: Table) -> frozenset[str]:
    return BOTH if table.family == "netdev" else TABLE_FAMILIES.get(table.family, frozenset())


def chain_label(table: Table, chain: str, in_nft: bool) -> str:
    """How evidence names a chain: where it lives (nft, or the save dump it came from)."""
    if in_nft:
        return f"nft {table.family} {table.name} chain {chain}"
    return f"{table.source} *{table.name} {chain}"


def _families(match: Match) -> frozenset[str]:
    """The families a packet matching ``match`` can have."""
    if isinstance(match, FamilyMatch):
        return match.families
    if isinstance(match, (AddrMatch, IcmpTypeMatch, HopLimitMatch)):
        return frozenset({match.family})
    if isinstance(match, ProtoMatch) and not match.negate and match.protocols in _ICMP_FAMILY:
        return frozenset({_ICMP_FAMILY[match.protocols]})
    if isinstance(match, AnyOf):
        found: frozenset[str] = frozenset()
        for alternative in match.alternatives:
            found |= _all_families(alternative)
        return found
    if isinstance(match, Unknown):  # the raw JSON still names the header it reads
        words = {_RAW_WORDS[w] for w in _RAW_FAMILY.findall(match.raw)}
        return frozenset(words) if len(words) == 1 else BOTH
    return BOTH


def _all_families(matches: tuple[Match, ...]) -> frozenset[str]:
    found = BOTH
    for match in matches:
        found &= _families(match)
    return found


def _loopback_source(match: Match) -> Optional[str]:
    if not isinstance(match, AddrMatch) or match.field != "saddr" or match.negate:
        return None
    loopback = _LOOPBACK[match.family]
    inside = loopback is not None and all(
        loopback[0] <= a and b <= loopback[1] for a, b in match.ranges
    )
    return match.family if inside and match.ranges else None


def _verdicts(verdict: Verdict, table_key: str) -> Iterator[GraphVerdict]:
    if verdict.kind == "vmap":
        for _, inner in verdict.entries:
            yield from _verdicts(inner, table_key)
    elif verdict.kind in ("jump", "goto"):
        yield GraphVerdict(verdict.kind, f"{table_key}/{verdict.target}")
    else:
        yield GraphVerdict(verdict.kind)


def _ref(rule: Rule, table: Table, chain: Chain, verdicts: tuple[GraphVerdict, ...]) -> str:
    ref = rule.origin.ref
    prefix = f"{table.family} {table.name} chain {chain.name} "
    if ref.startswith(prefix):  # nft: "handle 7"; the chain is named beside it
        ref = ref[len(prefix) :]
    if not rule.origin.source.endswith("save"):  # a save line shows its comment already
        if rule.comment:
            ref += f' comment "{rule.comment[:80]}"'
        ref += f" [{','.join(v.kind for v in verdicts) or 'no verdict'}]"
    return ref


def graph_rule(rule: Rule, table: Table, chain: Chain, table_key: str) -> GraphRule:
    verdicts = tuple(_verdicts(rule.verdict, table_key))
    if rule.verdict.kind == "continue":
        verdicts = ()
    conditional = (
        rule.limit is not None
        or rule.verdict.kind == "vmap"
        or any(not isinstance(m, FamilyMatch) for m in rule.matches)
    )
    loopback = next((f for f in map(_loopback_source, rule.matches) if f), None)
    not_lo = any(
        isinstance(m, IfaceMatch) and m.field == "iif" and m.negate and m.names == ("lo",)
        for m in rule.matches
    )
    return GraphRule(
        _ref(rule, table, chain, verdicts),
        table_families(table) & _all_families(rule.matches),
        verdicts,
        conditional,
        loopback,
        not_lo,
    )


def malformed(table: Table) -> bool:
    """Whether the reader could not read some rule of the table at all."""
    return any(
        rule.matches and isinstance(rule.matches[0], Unknown) and rule.matches[0].raw == MALFORMED
        for chain in table.chains
        for rule in chain.rules
    )


def graph_chains(table: Table, table_key: str, in_nft: bool) -> dict[str, GraphChain]:
    """The table's chains, keyed ``<table_key>/<chain>``."""
    found: dict[str, GraphChain] = {}
    for chain in table.chains:
        key = f"{table_key}/{chain.name}"
        found[key] = GraphChain(
            key,
            chain_label(table, chain.name, in_nft),
            table_families(table),
            chain.hook,
            chain.policy if chain.hook is not None else None,
            [graph_rule(r, table, chain, table_key) for r in chain.rules],
        )
    return found
