"""The chain graph both readers produce, and the few questions asked of it.

A ``Chain`` is a base chain (with a hook and a policy) or a regular one; a ``Rule`` keeps only
what the summary needs: which families it can match, whether it has any condition, its verdicts,
and whether it drops a loopback source. Questions are asked per family, because an ``inet``
table's ``meta nfproto ipv4`` or ``ip saddr`` rule never sees an IPv6 packet.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

BOTH = frozenset({"ipv4", "ipv6"})
TERMINAL = frozenset({"accept", "drop", "reject"})
DENY = frozenset({"drop", "reject"})
MAX_JUMP_DEPTH = 32  # deeper unconditional jump chains: the default is reported unknown


@dataclass(frozen=True)
class Verdict:
    kind: str  # accept, drop, reject, jump, goto, return, continue, queue, other
    target: Optional[str] = None  # chain key, for jump and goto


@dataclass(frozen=True)
class Rule:
    ref: str  # how evidence names it: the save line, or table/chain/handle
    families: frozenset[str]
    verdicts: tuple[Verdict, ...]
    conditional: bool
    loopback_source: Optional[str] = None  # family whose loopback source it matches
    not_from_lo: bool = False  # it also requires an input interface other than lo


@dataclass
class Chain:
    key: str  # unique across every source
    label: str  # how evidence names it
    families: frozenset[str]
    hook: Optional[str] = None
    policy: Optional[str] = None  # accept or drop, base chains only
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class HookFacts:
    """What the chains seen say about one family and hook; negatives are only as good as the
    coverage (the caller turns them into unknown when a source was not read)."""

    base_chains: tuple[str, ...]  # labels with hook and policy
    filtered_by: tuple[str, ...]  # why it is filtered (policy drop, deny rules)
    policy_drop: tuple[str, ...]
    final_deny: tuple[str, ...]  # base chains whose default comes from an unconditional rule
    default_deny: tuple[str, ...]  # base chains that end in drop/reject, by policy or rule
    default_unknown: tuple[str, ...]  # base chains whose default could not be worked out
    loopback_drops: tuple[str, ...]


def applies(rule: Rule, family: str) -> bool:
    return family in rule.families


def _edges(chain: Chain, family: str) -> Iterable[tuple[Rule, Verdict]]:
    for rule in chain.rules:
        if applies(rule, family):
            for verdict in rule.verdicts:
                if verdict.kind in ("jump", "goto") and verdict.target:
                    yield rule, verdict


def deny_reach(chains: Mapping[str, Chain], family: str) -> dict[str, str]:
    """chain key -> how it can drop or reject a ``family`` packet (directly or through jumps)."""
    why: dict[str, str] = {}
    callers: dict[str, list[tuple[str, Rule, Verdict]]] = {}
    queue: deque[str] = deque()
    for key, chain in chains.items():
        for rule in chain.rules:
            denies = any(v.kind in DENY for v in rule.verdicts)
            if key not in why and applies(rule, family) and denies:
                why[key] = rule.ref
                queue.append(key)
        for rule, verdict in _edges(chain, family):
            callers.setdefault(str(verdict.target), []).append((key, rule, verdict))
    while queue:
        target = queue.popleft()
        for caller, rule, verdict in callers.get(target, ()):
            if caller not in why:
                label = chains[target].label
                why[caller] = f"{rule.ref} ({verdict.kind} {label}: {why[target]})"
                queue.append(caller)
    return why


def reachable(chains: Mapping[str, Chain], roots: Iterable[str], family: str) -> set[str]:
    seen = set(roots)
    queue = deque(seen)
    while queue:
        chain = chains.get(queue.popleft())
        if chain is None:
            continue
        for _, verdict in _edges(chain, family):
            if verdict.target in chains and verdict.target not in seen:
                seen.add(str(verdict.target))
                queue.append(str(verdict.target))
    return seen


def chain_default(
    chains: Mapping[str, Chain], key: str, family: str, depth: int = 0
) -> tuple[Optional[str], str]:
    """What the first unconditional verdict does to a ``family`` packet no earlier rule decided.

    (accept|drop|reject, rule) when a rule decides; (``return``|``end``, …) when the packet
    falls back to the caller or the policy; (None, why) when it cannot be told.
    """
    chain = chains.get(key)
    if chain is None:
        return None, f"jump to a chain that does not exist ({key})"
    if depth > MAX_JUMP_DEPTH:
        return None, f"more than {MAX_JUMP_DEPTH} nested unconditional jumps"
    for rule in chain.rules:
        if not applies(rule, family) or rule.conditional:
            continue
        for verdict in rule.verdicts:
            if verdict.kind in TERMINAL:
                return verdict.kind, rule.ref
            if verdict.kind == "return":
                return "return", rule.ref
            if verdict.kind in ("jump", "goto"):
                sub, ref = chain_default(chains, str(verdict.target), family, depth + 1)
                if sub is None or sub in TERMINAL:
                    return sub, f"{rule.ref} -> {ref}"
                if verdict.kind == "goto":
                    return "return", f"{rule.ref} (goto, falls through)"
            elif verdict.kind != "continue":
                return None, f"{rule.ref}: verdict {verdict.kind} is not followed"
    return "end", ""


def hook_facts(
    chains: Mapping[str, Chain],
    family: str,
    hook: str,
    early_hooks: frozenset[str],
    deny: Optional[dict[str, str]] = None,
) -> HookFacts:
    """Facts about ``hook`` for ``family``. Chains on ``early_hooks`` (prerouting, ingress) count
    only when they default to deny: their targeted drops mostly concern other traffic (Docker's
    raw PREROUTING drop protects containers, not the host's own ports)."""
    base = [
        c
        for c in chains.values()
        if (c.hook == hook or c.hook in early_hooks) and family in c.families
    ]
    deny = deny_reach(chains, family) if deny is None else deny  # the same for every hook
    base_labels, filtered, policy_drop, final, default, unknown_default = [], [], [], [], [], []
    for chain in base:
        base_labels.append(f"{chain.label} (hook {chain.hook}, policy {chain.policy})")
        verdict, ref = chain_default(chains, chain.key, family)
        denies_by_default = verdict in DENY or (
            verdict in ("return", "end") and chain.policy == "drop"
        )
        if chain.hook != hook and not denies_by_default:
            if verdict is None:
                unknown_default.append(f"{chain.label}: {ref}")
            continue
        if chain.policy == "drop":
            policy_drop.append(f"{chain.label}: policy drop")
            filtered.append(f"{chain.label}: policy drop")
        if chain.key in deny:
            filtered.append(f"{chain.label}: {deny[chain.key]}")
        if verdict in DENY:
            final.append(f"{chain.label}: ends in {ref}")
            default.append(f"{chain.label}: ends in {ref}")
        elif denies_by_default:
            default.append(f"{chain.label}: policy drop")
        elif verdict is None:
            unknown_default.append(f"{chain.label}: {ref}")
    roots = [c.key for c in base]
    loopback = [
        f"{chains[key].label}: {rule.ref}"
        + ("" if rule.not_from_lo else " (no interface condition)")
        for key in sorted(reachable(chains, roots, family))
        if key in chains
        for rule in chains[key].rules
        if rule.loopback_source == family and any(v.kind in DENY for v in rule.verdicts)
    ]
    return HookFacts(
        tuple(base_labels),
        tuple(filtered),
        tuple(policy_drop),
        tuple(final),
        tuple(default),
        tuple(unknown_default),
        tuple(loopback),
    )
