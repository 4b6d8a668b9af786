"""Firewall presence: does anything filter IPv4/IPv6 input and forward; does it default to deny?

A deliberately small, honest summary of the raw rulesets in a snapshot (``nft -j list ruleset``
and the ``*-save`` dumps), not the firewall engine: it never says which packets a ruleset
accepts. Per family (ipv4, ipv6) and path (input, forward) it answers:

* ``filtered``: some base chain on the path has policy drop, or can drop/reject a packet of
  that family (a drop/reject rule in it, or in a chain it reaches by jump, goto or verdict map);
* ``policy``: ``drop`` when some base chain's policy drops, else ``accept``;
* ``final_deny`` / ``default_deny``: some base chain ends, for a packet no conditional rule
  decided, in drop/reject (from an unconditional rule, or from its policy);
* which rules drop a loopback source (``ip6 saddr ::1``) on that path (evidence only).

And which tables exist per authority (nftables, iptables-nft, iptables-legacy).

Limits, on purpose:

* The input path is the ``input`` hook; the forward path the ``forward`` hook. A base chain on
  ``prerouting`` or ``ingress`` counts for both only when it defaults to deny (policy drop or a
  final unconditional drop): its targeted drops mostly concern other traffic (Docker's raw
  PREROUTING drop guards containers, not the host's ports).
* "Filtered" is any drop/reject at all: kube-proxy's reject of a service without endpoints counts,
  although it filters almost nothing. Whether a given port is reachable needs the engine.
* Conditions are not evaluated, only told apart from unconditional rules. A rule's family is taken
  from its table (ip, ip6, inet) and its matches (``meta nfproto``, ``ip …``/``ip6 …`` payload,
  ``meta l4proto icmp``/``ipv6-icmp``); anything unrecognised is a condition matching both.
* The rules are the engine's model (``v6gap.firewall``), read once per audit and shared with the
  checks the engine decides: opaque iptables-nft ``xt`` tables are read from their ``*-save``
  dump, and an ``xt`` match the dump does not replace is a condition.
* Bridge and arp families are ignored.

Missing data is never "no firewall": a negative answer needs every authority that could hold
rules for the family to have been read (nftables; iptables-legacy, or its kernel module shown
absent). Otherwise the answer is ``None`` (unknown) with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Optional, Sequence

from v6gap.analysis.firewall_presence._graph import Chain, HookFacts, deny_reach, hook_facts
from v6gap.analysis.firewall_presence._model import graph_chains, malformed
from v6gap.analysis.firewall_presence._read import Dumps as Dumps  # shared with the engine
from v6gap.analysis.firewall_presence._read import read_dumps as read_dumps
from v6gap.firewall._names import no_gc
from v6gap.firewall.iptables import save_family
from v6gap.firewall.model import Table
from v6gap.firewall.nft import SOURCE
from v6gap.model import Snapshot

Family = Literal["ipv4", "ipv6"]
Path = Literal["input", "forward"]

EARLY_HOOKS = frozenset({"prerouting", "ingress"})  # before the routing decision: both paths
NFT_SOURCE = SOURCE
LEGACY_SAVES = {"ipv4": "iptables-legacy-save", "ipv6": "ip6tables-legacy-save"}
LEGACY_MODULES = {"ipv4": "ip_tables", "ipv6": "ip6_tables"}
IPTABLES_TABLES = frozenset({"filter", "nat", "mangle", "raw", "security"})
IPTABLES_BUILTINS = frozenset({"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"})
_AUTHORITIES = {"legacy": "iptables-legacy", "nf_tables": "iptables-nft"}
MAX_EVIDENCE = 8  # per list, so one huge ruleset cannot drown a report
FAMILY_NAMES = {"ipv4": "IPv4", "ipv6": "IPv6"}


@dataclass(frozen=True)
class HookPresence:
    """One family's input or forward path. ``None`` means unknown: ``unknown_reason`` says why."""

    family: str
    path: str
    filtered: Optional[bool]
    policy: Optional[str]  # "drop" or "accept"
    final_deny: Optional[bool]
    default_deny: Optional[bool]
    evidence: tuple[str, ...]
    unknown_reason: str = ""
    loopback_drops: tuple[str, ...] = ()  # rules dropping a loopback source on this path

    @property
    def name(self) -> str:
        return f"{FAMILY_NAMES.get(self.family, self.family)} {self.path}"


@dataclass(frozen=True)
class TableSummary:
    authority: str  # nftables, iptables-nft, iptables-legacy, iptables (backend unknown)
    family: str  # nft family: ip, ip6, inet, netdev, bridge, arp
    name: str
    chains: tuple[str, ...]
    rules: int
    restrictive_policy: bool  # some base chain's policy is drop
    source: str  # "nft -j list ruleset" or the save command

    @property
    def in_use(self) -> bool:
        return self.rules > 0 or self.restrictive_policy

    def describe(self) -> str:
        policy = ", a drop policy" if self.restrictive_policy else ""
        return (
            f"{self.authority}: table {self.family} {self.name} ({self.rules} rules{policy}; "
            f"from {self.source})"
        )


@dataclass(frozen=True)
class Coverage:
    """Whether one authority's rules were seen: read, or shown impossible, or not."""

    part: str  # nftables, iptables-legacy IPv4, iptables-legacy IPv6
    seen: bool
    detail: str


@dataclass(frozen=True)
class FirewallPresence:
    paths: tuple[HookPresence, ...]
    tables: tuple[TableSummary, ...]
    coverage: tuple[Coverage, ...]
    problems: tuple[str, ...] = ()  # dumps that could not be read, and why

    def path(self, family: Family, path: Path) -> HookPresence:
        for found in self.paths:
            if found.family == family and found.path == path:
                return found
        raise KeyError(f"{family} {path}")

    def unseen(self, family: Optional[str] = None) -> list[str]:
        """Why an authority's rules (for ``family``, or any) were not seen."""
        return [
            f"{c.part}: {c.detail}"
            for c in self.coverage
            if not c.seen and (family is None or c.part == "nftables" or _of(c.part, family))
        ]

    def seen(self, *parts: str) -> bool:
        """Whether every named authority (``nftables``, ``iptables-legacy IPv6`` …) was seen."""
        return all(any(c.part == p and c.seen for c in self.coverage) for p in parts)

    def tables_of(self, *authorities: str) -> list[TableSummary]:
        return [t for t in self.tables if t.authority in authorities]


def _of(part: str, family: str) -> bool:
    return part.endswith(FAMILY_NAMES[family])


def _reason(snapshot: Snapshot, section: str) -> str:
    return snapshot.unavailable.get(section, "not in the snapshot")


def _module_absent(snapshot: Snapshot, module: str) -> Optional[str]:
    """Evidence that ``module`` is neither loaded nor built in, so its tables cannot exist."""
    loaded, builtin = snapshot.modules_loaded, snapshot.modules_builtin
    if loaded is None or builtin is None or module in loaded or module in builtin:
        return None
    return f"kernel module {module} is neither loaded nor built in (modules.builtin)"


@dataclass
class _Gathered:
    chains: dict[str, Chain] = field(default_factory=dict)
    tables: list[TableSummary] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # command -> why it was not read


def _nft_authority(table: Table) -> str:
    """iptables-nft for tables it wrote (``xt`` expressions, or its own table and chain names)."""
    names = {c.name for c in table.chains}
    looks_iptables = (
        table.family in ("ip", "ip6")
        and table.name in IPTABLES_TABLES
        and bool(names & IPTABLES_BUILTINS)
        and all(n.isupper() or n.startswith(("DOCKER", "KUBE")) for n in names)
    )
    return "iptables-nft" if table.xt or looks_iptables else "nftables"


def _gather_tables(dumps: Dumps, into: _Gathered) -> None:
    for table in dumps.ruleset.tables:
        backend = dumps.backends.get(table.source)
        # A table iptables-nft wrote lives in nftables: read from its save dump, still one table.
        in_nft = table.source == dumps.nft_source or (dumps.nft_read and backend != "legacy")
        if table.source == dumps.nft_source:
            authority = _nft_authority(table)
        else:
            authority = _AUTHORITIES.get(backend or "", "iptables")
        source = dumps.nft_source if in_nft else table.source
        into.chains.update(
            graph_chains(table, f"{table.source}/{table.family}/{table.name}", in_nft)
        )
        into.tables.append(
            TableSummary(
                authority,
                table.family,
                table.name,
                tuple(c.name for c in table.chains),
                sum(len(c.rules) for c in table.chains),
                any(c.is_base and c.policy == "drop" for c in table.chains),
                source,
            )
        )


def _gather_nft(snapshot: Snapshot, dumps: Dumps, into: _Gathered) -> None:
    if dumps.nft_read:
        bad = [t for t in dumps.ruleset.tables if t.source == dumps.nft_source and malformed(t)]
        if bad:
            why = (
                f"{dumps.nft_source} unreadable: a rule of table {bad[0].family} {bad[0].name} is "
                "too large or malformed (nested deeper than the reader's bound, or too many "
                "statements): its verdict cannot be known"
            )
            into.coverage.append(Coverage("nftables", False, why))
        else:
            into.coverage.append(Coverage("nftables", True, f"read from {dumps.nft_source}"))
        return
    why = dumps.problems.get("nft") or f"{NFT_SOURCE} not read ({_reason(snapshot, 'nft')})"
    absent = _module_absent(snapshot, "nf_tables") if "nft" not in dumps.problems else None
    into.coverage.append(Coverage("nftables", absent is not None, absent or why))


def _gather_saves(snapshot: Snapshot, dumps: Dumps, into: _Gathered) -> None:
    into.problems.update({c: why for c, why in dumps.problems.items() if c != "nft"})
    legacy_seen: dict[str, str] = {}
    for command, backend in sorted(dumps.backends.items()):
        if backend == "legacy":
            legacy_seen.setdefault(save_family(command), f"read from {command}")
    for family, command in LEGACY_SAVES.items():
        part = f"iptables-legacy {FAMILY_NAMES[family]}"
        if family in legacy_seen:
            into.coverage.append(Coverage(part, True, legacy_seen[family]))
            continue
        absent = _module_absent(snapshot, LEGACY_MODULES[family])
        why = (
            absent
            or into.problems.get(command)
            or (f"{command} not read ({_reason(snapshot, command)})")
        )
        into.coverage.append(Coverage(part, absent is not None, why))


def _capped(lines: Sequence[str]) -> list[str]:
    lines = list(lines)
    if len(lines) <= MAX_EVIDENCE:
        return lines
    return [*lines[:MAX_EVIDENCE], f"… and {len(lines) - MAX_EVIDENCE} more"]


def _decide(found: bool, unseen: list[str]) -> Optional[bool]:
    if found:
        return True
    return None if unseen else False


def _path(
    family: str, path: str, facts: HookFacts, seen: list[str], unseen: list[str]
) -> HookPresence:
    label = f"{FAMILY_NAMES[family]} {path}"
    evidence: list[str] = [f"{label}: rules {'; '.join(seen)}"] if seen else []
    if facts.base_chains:
        evidence += [f"{label} base chain: {c}" for c in _capped(facts.base_chains)]
    else:
        evidence.append(f"{label}: no base chain seen on hooks {path}, prerouting, ingress")
    evidence += [f"{label} filtered by {w}" for w in _capped(facts.filtered_by)]
    evidence += [f"{label} defaults to deny: {w}" for w in _capped(facts.default_deny)]
    evidence += [f"{label} default not decided: {w}" for w in _capped(facts.default_unknown)]
    evidence += [f"not seen: {u}" for u in unseen]
    default_unseen = unseen + list(facts.default_unknown)
    policy: Optional[str] = "drop" if facts.policy_drop else (None if unseen else "accept")
    return HookPresence(
        family=family,
        path=path,
        filtered=_decide(bool(facts.filtered_by), unseen),
        policy=policy,
        final_deny=_decide(bool(facts.final_deny), default_unseen),
        default_deny=_decide(bool(facts.default_deny), default_unseen),
        evidence=tuple(evidence),
        unknown_reason="; ".join(default_unseen),
        loopback_drops=tuple(_capped(facts.loopback_drops)),
    )


def firewall_presence(snapshot: Snapshot, dumps: Optional[Dumps] = None) -> FirewallPresence:
    """Summarise the snapshot's rulesets per family and path (pure; never raises on bad input).

    Pass the ``Dumps`` already read for the engine so that the rules are read once."""
    dumps = read_dumps(snapshot) if dumps is None else dumps
    gathered = _Gathered()
    with no_gc():  # many small objects, no cycles: the collector would only rescan them
        _gather_tables(dumps, gathered)
    _gather_nft(snapshot, dumps, gathered)
    _gather_saves(snapshot, dumps, gathered)
    presence = FirewallPresence(
        (), tuple(gathered.tables), tuple(gathered.coverage), tuple(gathered.problems.values())
    )
    paths = []
    for family in ("ipv4", "ipv6"):
        unseen = presence.unseen(family)
        seen = [
            f"{c.part} {c.detail}"
            for c in presence.coverage
            if c.seen and (c.part == "nftables" or _of(c.part, family))
        ]
        deny = deny_reach(gathered.chains, family)
        for path in ("input", "forward"):
            facts = hook_facts(gathered.chains, family, path, EARLY_HOOKS, deny)
            found = _path(family, path, facts, seen, unseen)
            if gathered.problems:
                problems = tuple(f"not read: {p}" for p in gathered.problems.values())
                found = replace(found, evidence=found.evidence + problems)
            paths.append(found)
    return FirewallPresence(tuple(paths), presence.tables, presence.coverage, presence.problems)
