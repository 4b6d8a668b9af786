"""The normalised, frozen ruleset model both readers produce and the evaluator reads.

A rule is a conjunction of matches plus one verdict; log, counter and limit are attributes. Every
rule keeps its ``Origin`` (nft table/chain/handle, or the save command and line) for traces.
Whatever a reader does not understand becomes an ``Unknown`` match carrying the raw text, so the
evaluator can answer ``unknown`` instead of silently accepting or dropping.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional, Union, overload

Family = Literal["ipv4", "ipv6"]
BOTH: frozenset[str] = frozenset({"ipv4", "ipv6"})
TABLE_FAMILIES: dict[str, frozenset[str]] = {
    "ip": frozenset({"ipv4"}),
    "ip6": frozenset({"ipv6"}),
    "inet": BOTH,
}
OTHER_TABLE_FAMILIES = frozenset({"netdev", "bridge", "arp"})  # recognised, reported, not judged

TCP, UDP, ICMP, ICMPV6, SCTP, DCCP = 6, 17, 1, 58, 132, 33
PORT_PROTOCOLS = frozenset({TCP, UDP, SCTP, DCCP, 136})  # 136: udplite; nft ``th`` covers these
ADDRESS_BITS = {"ipv4": 32, "ipv6": 128}

Interval = tuple[int, int]  # inclusive bounds


@dataclass(frozen=True)
class Origin:
    """Where a rule (or chain) came from, as evidence names it."""

    source: str  # "nft -j list ruleset", "iptables-save", "ip6tables-legacy-save" …
    ref: str  # "inet filter input handle 7", "line 12: -A INPUT -p tcp …"

    def __str__(self) -> str:
        return f"{self.source}: {self.ref}"


# --------------------------------------------------------------------------- matches


@dataclass(frozen=True)
class FamilyMatch:
    """``meta nfproto``, or the family a payload match implies (``ip saddr`` in an inet table)."""

    families: frozenset[str]


@dataclass(frozen=True)
class ProtoMatch:
    """Layer-4 protocol numbers; ``via`` says how (``meta l4proto``, ``ip6 nexthdr``, ``-p``)."""

    protocols: frozenset[int]
    negate: bool = False
    via: str = "meta l4proto"


@dataclass(frozen=True)
class PortMatch:
    """``tcp dport 22``, ``th dport {80, 443}``, ``--dports 1000:2000``; implies the protocols."""

    field: str  # dport or sport
    protocols: frozenset[int]
    ranges: tuple[Interval, ...]
    negate: bool = False


@dataclass(frozen=True)
class IcmpTypeMatch:
    """``icmp type`` (family ipv4) or ``icmpv6 type`` (ipv6); implies the protocol."""

    family: str
    ranges: tuple[Interval, ...]
    negate: bool = False


@dataclass(frozen=True)
class AddrMatch:
    """Source or destination address in any of ``ranges`` (integers; prefixes become ranges)."""

    field: str  # saddr or daddr
    family: str
    ranges: tuple[Interval, ...]
    text: str  # as written, for traces
    negate: bool = False


# Route types an address can have (iptables' addrtype, nft's ``fib … type``), lower case.
ADDRESS_TYPES = frozenset(
    {
        "unspec",
        "unicast",
        "local",
        "broadcast",
        "anycast",
        "multicast",
        "blackhole",
        "unreachable",
        "prohibit",
        "throw",
        "nat",
        "xresolve",
    }
)


# ip6tables' addrtype tests these on the address itself (each listed one must hold), and only
# local, anycast and unreachable through a route lookup (any one listed): xt_addrtype's IPv6
# match, seen against the kernel by the differential lab test.
IP6_ADDRESS_CLASSES = frozenset({"unicast", "multicast", "unspec"})
IP6_ROUTE_TYPES = frozenset({"local", "anycast", "unreachable"})


@dataclass(frozen=True)
class AddrTypeMatch:
    """The route type of the source or destination address (``-m addrtype --dst-type LOCAL``,
    ``fib daddr type local``): ``local`` is an address of this host. Any of ``types`` matches;
    every class in ``required`` must hold as well (ip6tables only, see IP6_ADDRESS_CLASSES)."""

    field: str  # saddr or daddr
    types: frozenset[str]  # of ADDRESS_TYPES
    negate: bool = False
    required: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IfaceMatch:
    """Input or output interface by name (``*`` ends a wildcard) or index name (``iif``)."""

    field: str  # iif or oif
    names: tuple[str, ...]
    negate: bool = False


@dataclass(frozen=True)
class CtStateMatch:
    states: frozenset[str]
    negate: bool = False


@dataclass(frozen=True)
class AnyOf:
    """A concatenation looked up in a set: any alternative (a conjunction) matches."""

    alternatives: tuple[tuple[Match, ...], ...]
    text: str


@dataclass(frozen=True)
class HopLimitMatch:
    """``ip6 hoplimit`` / ``ip ttl``: the hop limit (TTL) a packet arrives with."""

    family: str
    ranges: tuple[Interval, ...]
    negate: bool = False


@dataclass(frozen=True)
class Unknown:
    """A match the readers do not understand, kept with its raw text (``xt`` matches too)."""

    raw: str


Match = Union[
    FamilyMatch,
    ProtoMatch,
    PortMatch,
    IcmpTypeMatch,
    AddrMatch,
    AddrTypeMatch,
    IfaceMatch,
    CtStateMatch,
    HopLimitMatch,
    AnyOf,
    Unknown,
]

# --------------------------------------------------------------------------- verdicts and rules

VerdictKind = Literal[
    "accept", "drop", "reject", "jump", "goto", "return", "continue", "vmap", "other"
]


@dataclass(frozen=True)
class Verdict:
    """What a matching rule does. ``other`` (queue, nat, unknown targets) is never judged."""

    kind: VerdictKind
    target: Optional[str] = None  # chain name in the same table, for jump and goto
    entries: tuple[tuple[tuple[Match, ...], Verdict], ...] = ()  # vmap: key matches → verdict
    detail: str = ""  # reject type, the unknown target's name, the vmap key

    @property
    def terminal(self) -> bool:
        return self.kind in ("accept", "drop", "reject")


CONTINUE = Verdict("continue")


@dataclass(frozen=True)
class Rule:
    matches: tuple[Match, ...]
    verdict: Verdict
    origin: Origin
    log: bool = False
    counter: bool = False
    limit: Optional[str] = None  # "10/second burst 20": the rule matches only some packets
    comment: Optional[str] = None


# What a reader notes for a table whose rules rewrite destinations (see ``rewrite_note``).
REWRITES_DESTINATIONS = "rewrites destinations"
# The targets (iptables, xt) and statements (nft) that rewrite a destination, lower case: what
# the readers note, and what marks a connection DNATed for ``ct status dnat``.
REWRITE_TARGETS = frozenset({"dnat", "redirect", "tproxy", "netmap"})


def rewrite_note(where: str, count: int, first: str) -> str:
    """The note for ``count`` DNAT/REDIRECT rules in ``where``: the engine does not follow them."""
    return (
        f"{where} {REWRITES_DESTINATIONS} in {count} rule{'s' * (count != 1)} (first: {first}): "
        "connections they match go where the rule sends them (forwarded, or to another port), "
        "which the engine does not follow; they are judged as if delivered to this host"
    )


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class NamedSet:
    """A named set or verdict map; anonymous sets are folded into the rule that holds them."""

    name: str
    type: str
    flags: tuple[str, ...]
    elements: int
    is_map: bool = False


class Rules(Sequence[Rule]):
    """A chain's rules, built from what the reader kept when they are first read.

    Parity on a kube-proxy host never reads its nat chains (most of its rules): the readers
    check every line's structure at once (so bad input fails there, whole) and leave building
    the match objects to the first question that needs them. ``len`` does not build them.
    """

    __slots__ = ("_build", "_built", "_count")

    def __init__(self, count: int, build: Callable[[], tuple[Rule, ...]]) -> None:
        self._count = count
        self._build: Optional[Callable[[], tuple[Rule, ...]]] = build
        self._built: Optional[tuple[Rule, ...]] = None

    @property
    def is_built(self) -> bool:
        return self._built is not None

    def built(self) -> tuple[Rule, ...]:
        """The rules as a tuple (built now if they were not yet)."""
        if self._built is None:
            assert self._build is not None
            rules = self._build()
            if len(rules) != self._count:
                raise AssertionError(f"{len(rules)} rules built where {self._count} were read")
            self._built, self._build = rules, None
        return self._built

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Rule: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Rule, ...]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[Rule, tuple[Rule, ...]]:
        return self.built()[index]

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.built())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rules):
            other = other.built()
        return self.built() == other if isinstance(other, tuple) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.built())

    def __repr__(self) -> str:
        state = "built" if self.is_built else "not built yet"
        return f"Rules({self._count} rules, {state})"


@dataclass(frozen=True)
class Chain:
    name: str
    hook: Optional[str] = None  # input, forward, prerouting … (None: regular chain)
    priority: int = 0
    policy: Optional[str] = None  # accept or drop, base chains only
    type: str = "filter"
    rules: Union[tuple[Rule, ...], Rules] = ()
    origin: Optional[Origin] = None

    @property
    def is_base(self) -> bool:
        return self.hook is not None


@dataclass(frozen=True)
class Table:
    family: str  # ip, ip6, inet, netdev, bridge, arp
    name: str
    source: str  # "nft -j list ruleset" or the save command
    chains: tuple[Chain, ...] = ()
    sets: tuple[NamedSet, ...] = ()
    xt: bool = False  # iptables-nft wrote it: its matches are opaque here, read its save dump
    ct_status: bool = False  # some rule matches ct status (sources.settle_dnat looks closer)
    rewrites: tuple[str, ...] = ()  # where its rules that rewrite destinations are

    @property
    def families(self) -> frozenset[str]:
        return TABLE_FAMILIES.get(self.family, frozenset())

    def chain(self, name: str) -> Optional[Chain]:
        return self._by_name.get(name)

    @functools.cached_property
    def _by_name(self) -> dict[str, Chain]:
        """The first chain of each name (a table of thousands of chains is looked up often)."""
        found: dict[str, Chain] = {}
        for chain in self.chains:
            found.setdefault(chain.name, chain)
        return found

    @property
    def label(self) -> str:
        return f"{self.source}: table {self.family} {self.name}"


@dataclass(frozen=True)
class Ruleset:
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what was seen but not judged, and why
    # The destinations a packet delivered to this host can have, (family, interval): its own
    # addresses, multicast and broadcast. None: not known (a ruleset file, an image). Prerouting
    # rules keyed on other addresses (Docker's container drops) then do not apply to input.
    local: Optional[frozenset[tuple[str, Interval]]] = None
    # Which of ``local`` are its IPv4 subnets' broadcast addresses (their route type).
    broadcast: frozenset[tuple[str, Interval]] = frozenset()

    def merged(self, other: Ruleset) -> Ruleset:
        tables, notes = self.tables + other.tables, self.notes + other.notes
        return Ruleset(tables, notes, self.local, self.broadcast)

    @property
    def rule_count(self) -> int:
        return sum(len(c.rules) for t in self.tables for c in t.chains)
