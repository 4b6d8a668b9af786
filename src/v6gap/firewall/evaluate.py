"""Verdicts for classes of packets on the input (or forward) path, with the deciding rules.

A ``PacketClass`` (``v6gap.firewall._match_class``, where each match is judged for a whole
class: true, false, maybe or unknown) is every new connection of one family, protocol and
port/type interval from a source interval. Callers pick intervals the ruleset does not split
(see ``v6gap.firewall.parity``), so ports and sources are never ``maybe``.

Base chains on the hook run in priority order: a drop in any of them is final, an accept only
ends that chain. Jumps are followed with cycle detection and a depth bound; both make the
affected verdict ``unknown``, never a guess.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Optional

from v6gap.firewall._index import RuleIndex
from v6gap.firewall._match_class import PacketClass as PacketClass  # the engine's public name
from v6gap.firewall._match_class import Tri, address_types, all_of, destined, rule_matches
from v6gap.firewall.model import (
    TCP,
    AddrMatch,
    AddrTypeMatch,
    AnyOf,
    Chain,
    IfaceMatch,
    Interval,
    Match,
    Rules,
    Ruleset,
    Table,
    Verdict,
)

MAX_JUMP_DEPTH = 64
ClassVerdict = Literal["accept", "drop", "conditional", "unknown"]
_SURE, _MAYBE, _UNSURE = 0, 1, 2  # how a path was reached: certainly, for some packets, unknown


@dataclass(frozen=True)
class Path:
    trace: tuple[str, ...]
    how: int = _SURE

    def after(self, step: str, how: int = _SURE) -> Path:
        return Path((step, *self.trace), max(self.how, how))


@dataclass
class _Outcomes:
    """Where the packets of a class end up: accept, drop, return, next (go on), unknown."""

    paths: dict[str, Path] = field(default_factory=dict)

    def add(self, key: str, path: Path) -> None:
        found = self.paths.get(key)
        if found is None:
            self.paths[key] = path
        elif path.how > found.how:
            self.paths[key] = Path(found.trace, path.how)


@dataclass(frozen=True)
class Judgement:
    verdict: ClassVerdict
    trace: tuple[str, ...]  # the rules that decided, first to last (two paths when conditional)
    other_trace: tuple[str, ...] = ()  # conditional/unknown: a path to the other outcome


_HOW = {Tri.TRUE: _SURE, Tri.MAYBE: _MAYBE, Tri.UNKNOWN: _UNSURE}


# --------------------------------------------------------------------------- chains


class _Run:
    """One class evaluated over one ruleset; chain results are memoised per chain."""

    def __init__(
        self,
        c: PacketClass,
        index: RuleIndex,
        seen: Optional[list[Interval]],
        interfaces: Optional[set[str]] = None,
    ) -> None:
        self.c = c
        self.memo: dict[tuple[int, str], _Outcomes] = {}
        self.index = index
        self.seen = seen
        self.interfaces = interfaces
        self.typed = False  # an address-type match on the destination answered "maybe"

    def _note_typed(self, found: Tri, matches: tuple[Match, ...]) -> None:
        """Note a destination address-type match that held for some packets only."""
        if found is Tri.MAYBE and not self.typed:
            self.typed = any(isinstance(m, AddrTypeMatch) and m.field == "daddr" for m in matches)

    def _note_cuts(self, matches: tuple[Match, ...]) -> None:
        """Record the source ranges and input interfaces of a rule that can match: they may
        split the class (which sources, which interfaces are accepted)."""
        for match in matches:
            if isinstance(match, AddrMatch) and match.field == "saddr":
                if self.seen is not None:
                    self.seen.extend(match.ranges)
            elif isinstance(match, IfaceMatch) and match.field == "iif":
                if self.interfaces is not None:
                    self.interfaces.update(n for n in match.names if n not in ("lo", "*"))
            elif isinstance(match, AnyOf):
                for alternative in match.alternatives:
                    self._note_cuts(alternative)

    def _pick(self, owner: object, items: Callable[[], Sequence[tuple[Match, ...]]]) -> list[int]:
        c = self.c
        return self.index.pick(owner, items, c.family, c.protocol, c.dport)

    def chain(self, table: Table, chain: Chain, stack: tuple[tuple[int, str], ...]) -> _Outcomes:
        key = (id(table), chain.name)
        if key in self.memo:
            return self.memo[key]
        out = _Outcomes()
        decided = False
        rules = chain.rules.built() if isinstance(chain.rules, Rules) else chain.rules
        for i in self._pick(chain, lambda: [r.matches for r in rules]):
            rule = rules[i]
            found = rule_matches(rule, self.c)
            if found is Tri.FALSE:
                continue
            self._note_typed(found, rule.matches)
            self._note_cuts(rule.matches)
            step = str(rule.origin) + (f" [limit {rule.limit}]" if rule.limit else "")
            sub = self.verdict(table, rule.verdict, step, (*stack, key))
            for name, path in sub.paths.items():
                if name != "next":
                    out.add(name, Path(path.trace, max(path.how, _HOW[found])))
            if found is Tri.TRUE and "next" not in sub.paths:
                decided = True
                break
        label = _label(table, chain)
        if not decided:
            out.add("return", Path((f"{label}: end of chain",)))
        if chain.is_base and "return" in out.paths:
            back = out.paths.pop("return")
            policy = "drop" if chain.policy == "drop" else "accept"
            out.add(policy, Path((*back.trace, f"{label}: policy {policy}"), back.how))
        self.memo[key] = out
        return out

    def verdict(
        self, table: Table, verdict: Verdict, step: str, stack: tuple[tuple[int, str], ...]
    ) -> _Outcomes:
        out = _Outcomes()
        kind = verdict.kind
        if kind in ("accept", "drop", "reject", "return"):
            out.add("drop" if kind == "reject" else kind, Path((f"{step} → {kind}",)))
        elif kind == "continue":
            out.add("next", Path((step,)))
        elif kind in ("jump", "goto"):
            self._jump(table, verdict, step, stack, out)
        elif kind == "vmap":
            decided = False
            entries = verdict.entries
            for i in self._pick(verdict, lambda: [w for w, _ in entries]):
                when, target = entries[i]
                found = all_of(when, self.c)
                if found is Tri.FALSE:
                    continue
                self._note_typed(found, when)
                self._note_cuts(when)
                sub = self.verdict(table, target, f"{step} (vmap)", stack)
                for name, path in sub.paths.items():
                    out.add(name, Path(path.trace, max(path.how, _HOW[found])))
                if found is Tri.TRUE:
                    decided = True
                    break
            if not decided:
                out.add("next", Path((step,)))
        else:
            out.add("unknown", Path((f"{step} → not judged ({verdict.detail or kind})",), _UNSURE))
        return out

    def _jump(
        self,
        table: Table,
        verdict: Verdict,
        step: str,
        stack: tuple[tuple[int, str], ...],
        out: _Outcomes,
    ) -> None:
        target = table.chain(verdict.target or "")
        arrow = f"{step} → {verdict.kind} {verdict.target}"
        if target is None:
            out.add("unknown", Path((f"{arrow}: no such chain",), _UNSURE))
            return
        if (id(table), target.name) in stack:
            out.add("unknown", Path((f"{arrow}: jump cycle",), _UNSURE))
            return
        if len(stack) >= MAX_JUMP_DEPTH:
            out.add("unknown", Path((f"{arrow}: deeper than {MAX_JUMP_DEPTH} jumps",), _UNSURE))
            return
        sub = self.chain(table, target, stack)
        for name, path in sub.paths.items():
            if name == "return" and verdict.kind == "jump":
                name = "next"
            out.add(name, path.after(arrow))


# The hooks a packet passes, in order: packets to the host and packets routed through it both
# meet the prerouting filter chains first (nft prerouting filter chains, iptables' raw and
# mangle PREROUTING, Docker's raw drops); a drop there is final. The differential lab test
# proves both paths on the kernel.
HOOK_PATHS: dict[str, tuple[str, ...]] = {
    "input": ("prerouting", "input"),
    "forward": ("prerouting", "forward"),
}


def hook_chains(ruleset: Ruleset, family: str, hook: str = "input") -> list[tuple[Table, Chain]]:
    """Filter base chains a ``family`` packet on ``hook``'s path meets, in order."""
    path = HOOK_PATHS[hook]
    found = [
        (table, chain)
        for table in ruleset.tables
        if family in table.families
        for chain in table.chains
        if chain.hook in path and chain.type == "filter"
    ]
    return sorted(found, key=lambda tc: (path.index(str(tc[1].hook)), tc[1].priority))


def input_chains(ruleset: Ruleset, family: str) -> list[tuple[Table, Chain]]:
    """Filter base chains on the input hook that see ``family``, in priority order."""
    return hook_chains(ruleset, family, "input")


def judge(
    ruleset: Ruleset,
    c: PacketClass,
    index: Optional[RuleIndex] = None,
    sources_seen: Optional[list[Interval]] = None,
    interfaces_seen: Optional[set[str]] = None,
) -> Judgement:
    """The verdict for every new connection of class ``c`` on its hook.

    Pass one ``RuleIndex`` to many calls on the same ruleset to share its filing work. With
    ``sources_seen``, the source ranges of every rule that could match are appended to it: a
    class is split by source only where those ranges cut it; ``interfaces_seen`` gets the input
    interface names (or ``name*`` patterns) those rules ask for."""
    index = index or RuleIndex()
    if c.hook == "input" and c.daddr is None and ruleset.local is not None:
        c = dataclasses.replace(c, local=_local_of(ruleset.local, c.family))
    elif c.hook == "input" and c.daddr is not None and c.daddr_types is None:
        given = _given_destination_types(ruleset, c)
        c = c if given is None else dataclasses.replace(c, daddr_types=given)
    elif c.hook == "forward" and not c.routed:
        c = dataclasses.replace(c, routed=True)
    seen = (sources_seen, interfaces_seen)
    found, typed = _judge(ruleset, c, index, seen)
    if not typed or c.daddr_types is not None or len(address_types(c, "daddr") or ()) < 2:
        return found
    # An address-type match told some of the class's destinations from others (ufw's
    # ufw-not-local returns for local, multicast and broadcast in three rules): judge each type
    # alone, or the rule after them would seem to catch what none of them let through.
    parts = [
        _judge(ruleset, destined(c, t), index, seen)[0]
        for t in sorted(address_types(c, "daddr") or (), key=lambda t: (t != "local", t))
    ]
    return _merged(parts)


def _given_destination_types(ruleset: Ruleset, c: PacketClass) -> Optional[frozenset[str]]:
    """An IPv4 address given as the destination of a packet to the host may be a subnet's
    broadcast address: the host's subnets say which. Not known, an address whose last two bits
    are ones (a subnet of 30 bits or fewer has them) may be either, for all but TCP."""
    span = c.daddr
    if c.family != "ipv4" or c.protocol == TCP or span is None or span[0] != span[1]:
        return None  # address_types decides
    if ruleset.local is None:
        maybe = span[0] & 3 == 3 and span != (0xFFFF_FFFF, 0xFFFF_FFFF)
        return frozenset({"local", "broadcast"}) if maybe else None
    return frozenset({"broadcast"}) if ("ipv4", span) in ruleset.broadcast else None


def _merged(parts: list[Judgement]) -> Judgement:
    """One judgement for a class judged in parts (local first, then the others)."""
    verdicts = {p.verdict for p in parts}
    if len(verdicts) == 1 and verdicts <= {"accept", "drop"}:
        return parts[0]
    if "unknown" in verdicts:
        unsure = next(p for p in parts if p.verdict == "unknown")
        return Judgement("unknown", unsure.trace, unsure.other_trace)
    accepted = next((p for p in parts if p.verdict in ("accept", "conditional")), parts[0])
    shut = next((p.trace for p in parts if p.verdict == "drop"), None)
    if shut is None:  # no part all dropped: the drop path of a conditional part
        shut = next(p.other_trace for p in parts if p.verdict == "conditional")
    return Judgement("conditional", accepted.trace, shut)


def _judge(
    ruleset: Ruleset,
    c: PacketClass,
    index: RuleIndex,
    seen: tuple[Optional[list[Interval]], Optional[set[str]]],
) -> tuple[Judgement, bool]:
    """``judge`` of one class, and whether an address-type match on its destination answered
    "for some packets" (a reason to split the class by destination type)."""
    runs: dict[str, _Run] = {}  # per hook on the path: prerouting chains see no output interface
    total = _Outcomes()
    flowing: Optional[Path] = Path(())
    chains = index.once(
        ruleset, f"{c.hook} {c.family}", lambda: hook_chains(ruleset, c.family, c.hook)
    )
    for table, chain in chains:
        assert flowing is not None
        stage = str(chain.hook)
        if stage not in runs:
            seen_at = c if stage == c.hook else dataclasses.replace(c, hook=stage, oif=None)
            runs[stage] = _Run(seen_at, index, *seen)
        res = runs[stage].chain(table, chain, ())
        for name in ("drop", "unknown"):
            if name in res.paths:
                path = res.paths[name]
                total.add(name, Path(flowing.trace + path.trace, max(flowing.how, path.how)))
        accepted = res.paths.get("accept")
        if accepted is None:
            flowing = None
            break
        if stage != c.hook and _passed(accepted, table, chain):
            continue  # an earlier hook's chain that decided nothing: not part of the story
        flowing = Path(flowing.trace + accepted.trace, max(flowing.how, accepted.how))
    if flowing is not None:
        if not flowing.trace:
            flowing = Path((f"no {c.family} filter chain on the {c.hook} hook: accepted",))
        total.add("accept", flowing)
    return _conclude(total), any(run.typed for run in runs.values())


def _local_of(local: frozenset[tuple[str, Interval]], family: str) -> tuple[Interval, ...]:
    return tuple(sorted(span for f, span in local if f == family))


def _passed(accepted: Path, table: Table, chain: Chain) -> bool:
    """Whether a chain let every packet of the class through by its end and accept policy."""
    label = _label(table, chain)
    return accepted.how == _SURE and accepted.trace == (
        f"{label}: end of chain",
        f"{label}: policy accept",
    )


def _label(table: Table, chain: Chain) -> str:
    return str(chain.origin or f"{table.source}: {table.family} {table.name} {chain.name}")


def _conclude(total: _Outcomes) -> Judgement:
    paths = total.paths
    if set(paths) == {"accept"}:
        return Judgement("accept", paths["accept"].trace)
    if set(paths) == {"drop"}:
        return Judgement("drop", paths["drop"].trace)
    unsure = "unknown" in paths or any(p.how == _UNSURE for p in paths.values())
    first = paths.get("accept") or paths["unknown"]
    second = paths.get("drop") or paths["unknown"]
    return Judgement("unknown" if unsure else "conditional", first.trace, second.trace)
