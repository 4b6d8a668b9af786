"""The forward path's default: what routed traffic meets when no rule singles it out.

FW-12 asks whether forwarding "defaults to deny". A forward chain that accepts only flows from
or to named interfaces and addresses (Docker's bridges, a router's LAN) does; a chain whose
policy accepts, with drops for a few named interfaces, does not. So every protocol/port (and
ICMP type) class is judged for new connections between interfaces no rule names, from and to
addresses no rule names: every interface and address match then answers definitely.

A class accepted there is *allowed* when some base chain accepted it with a rule that singles
packets out (a protocol, port, type, interface or address: ``tcp dport 443 accept``,
``meta l4proto ipv6-icmp accept``), and *defaulted* when every accept on its path came from a
chain's policy (or no chain at all) or from a blanket rule that names nothing but the family or
conntrack state (``accept``, ``ct state new accept``, ``limit rate 10/second accept``). Only
defaulted classes mean the path does not default to deny. ``conditional`` (a rate limit, a
hop-limit match) counts as accepted: some of the class gets through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Optional

from v6gap.firewall import _names
from v6gap.firewall._index import RuleIndex
from v6gap.firewall._sweep import Answer, ClassRow, Swept, shown, sweep
from v6gap.firewall.evaluate import PacketClass, judge
from v6gap.firewall.model import (
    ADDRESS_BITS,
    AddrMatch,
    CtStateMatch,
    FamilyMatch,
    IfaceMatch,
    Interval,
    Match,
    Rule,
    Ruleset,
)
from v6gap.firewall.partition import cut, judged_matches, prefixes

# Global unicast, where forwarded traffic comes from: the unnamed addresses are picked there
# when the ruleset leaves some of it unnamed (2000::/3; for IPv4 1.0.0.0-223.255.255.255).
_GLOBAL = {"ipv6": (1 << 125, (1 << 126) - 1), "ipv4": (1 << 24, (224 << 24) - 1)}
Default = Literal["deny", "accept", "unknown"]


@dataclass(frozen=True)
class ForwardDefault(Swept):
    family: str
    interface: str  # the interface name no rule matches, used as input and output
    source: Optional[Interval]  # None: every address is named by some rule
    destination: Optional[Interval]
    allowed: tuple[ClassRow, ...]  # accepted by a rule that singles them out

    @property
    def defaulted(self) -> list[ClassRow]:
        """Accepted classes no rule singled out: the path's default lets them through."""
        return [r for r in self.accepted if r not in self.allowed]

    @property
    def verdict(self) -> Default:
        if self.defaulted:
            return "accept"
        return "unknown" if self.undecided else "deny"

    def evidence(self) -> list[str]:
        """What was asked, then the rows that decided (accepted and unknown first)."""

        def address(span: Optional[Interval]) -> str:
            return prefixes(span, self.family) if span else "any address (every one is named)"

        asked = (
            f"{self.family} forward path judged for new connections between interfaces no rule "
            f"names, from {address(self.source)} to {address(self.destination)}"
        )
        allowed = [r.describe() for r in self.allowed]
        named = (
            [f"accepted by rules that single them out: {', '.join(allowed[:8])}"]
            + ([f"… and {len(allowed) - 8} more"] if len(allowed) > 8 else [])
            if allowed
            else []
        )
        return [asked, *named, *shown(self.rows)]


def _blanket(rule: Rule) -> bool:
    """A rule that names nothing but the family or conntrack state (a rate limit or not)."""
    return all(isinstance(m, (FamilyMatch, CtStateMatch)) for m in rule.matches)


def _singled_out(trace: tuple[str, ...], rules: dict[str, Rule]) -> bool:
    """Whether some rule on an accept path names what it lets through: the accept itself, or
    a jump or goto that led to it (``tcp dport 443 jump web`` then a bare ``accept`` in web).

    Trace steps name a rule by its origin (``evaluate`` writes ``<origin>[ [limit …]] → accept``
    or ``→ jump <chain>``, and ``<origin> (vmap) → …`` for a verdict map, whose keys always
    name something)."""
    for step in trace:
        head, arrow, verdict = step.rpartition(" → ")
        if not arrow or not (verdict == "accept" or verdict.startswith(("jump ", "goto "))):
            continue
        if head.endswith(" (vmap)"):
            return True
        rule = rules.get(head.split(" [limit ")[0])
        if rule is not None and not _blanket(rule):
            return True
    return False


def _unnamed_interface(matches: Iterable[Match]) -> str:
    """An interface name no interface match (wildcards included) names."""
    patterns = {n for m in matches if isinstance(m, IfaceMatch) for n in m.names}
    name = "v6gap-unnamed"
    while any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns):
        if "*" in patterns:
            break  # every name matches: any will do
        name += "0"
    return name


def _unnamed_address(spans: Sequence[Interval], family: str) -> Optional[Interval]:
    """A range of addresses no span touches, in global unicast when there is one."""
    top = (1 << ADDRESS_BITS[family]) - 1
    wanted = _GLOBAL[family]
    atoms = cut(iter([*spans, wanted]), 0, top)
    ordered = sorted(spans)
    free: list[Interval] = []
    reach, j = -1, 0
    for low, high in atoms:  # a sweep: an atom is covered when a span starting before reaches it
        while j < len(ordered) and ordered[j][0] <= low:
            reach = max(reach, ordered[j][1])
            j += 1
        if reach < low:
            free.append((low, high))
    loopback = _names.address_range(_names.LOOPBACK[family], family)
    free = [a for a in free if loopback is None or not (loopback[0] <= a[0] <= loopback[1])]
    inside = [a for a in free if wanted[0] <= a[0] and a[1] <= wanted[1]]
    found = inside or free
    return found[0] if found else None


def _address_spans(matches: Sequence[Match], field: str, family: str) -> list[Interval]:
    return [
        span
        for m in matches
        if isinstance(m, AddrMatch) and m.field == field and m.family == family
        for span in m.ranges
    ]


def forward_default(ruleset: Ruleset, family: str = "ipv6") -> ForwardDefault:
    """Every protocol/port and ICMP-type class on the forward path, for traffic no rule names."""
    with _names.no_gc():
        matches = judged_matches(ruleset, "forward")
        interface = _unnamed_interface(matches)
        source = _unnamed_address(_address_spans(matches, "saddr", family), family)
        destination = _unnamed_address(_address_spans(matches, "daddr", family), family)
        index = RuleIndex()

        def ask(protocol: int, dport: Interval, types: Interval) -> Answer:
            c = PacketClass(
                family,
                protocol,
                dport,
                types,
                source,
                interface,
                hook="forward",
                oif=interface,
                daddr=destination,
            )
            found = judge(ruleset, c, index)
            return found.verdict, found.trace

        rows = sweep(ruleset, family, matches, ask)
        rules = {str(r.origin): r for t in ruleset.tables for c in t.chains for r in c.rules}
        allowed = tuple(
            r
            for r in rows
            if r.verdict in ("accept", "conditional") and _singled_out(r.trace, rules)
        )
    return ForwardDefault(tuple(rows), family, interface, source, destination, allowed)
