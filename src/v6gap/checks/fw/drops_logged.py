"""V6G-FW-11: IPv6 packets the input path drops by default are logged, with a rate limit.

Read from the structure of each base chain on the input path (prerouting and input hooks) that
covers IPv6 and defaults to deny (policy drop, or a final unconditional drop/reject): the packets
that reach its end are the ones dropped by default, and a log rule without conditions just
before the end is what records them. That rule may sit in a chain the tail jumps to: ufw's
INPUT ends with unconditional jumps, one of them to ``ufw6-after-logging-input`` whose only rule
logs with a limit, and every packet INPUT then drops by policy has passed it. A log rule without
a rate limit lets a flood fill the disk, so it fails too. Drops made by earlier, targeted rules
are not judged here.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.firewall.model import Chain, FamilyMatch, Rule, Table
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-FW-11",
    title="Dropped IPv6 packets are logged with a rate limit",
    severity=Severity.LOW,
    seed="Option 2: Dual-Stack nftables Firewall",
    remediation=(
        "Before the final drop: sudo nft add rule inet filter input limit rate 5/minute "
        'burst 10 packets log prefix "nft-drop: " level info'
    ),
)


def _unconditional(rule: Rule) -> bool:
    return all(isinstance(m, FamilyMatch) and "ipv6" in m.families for m in rule.matches)


# Verdicts after which a packet may leave a jumped-to chain undecided without meeting the rest.
_LEAVES = frozenset({"return", "goto", "jump", "vmap", "other"})


def _met_logs(table: Table, chain: Chain, seen: frozenset[str]) -> list[tuple[Rule, str]]:
    """Log rules of ``chain`` (entered by an unconditional jump) that every packet leaving it
    undecided has met, with the jumps that lead there: a log without conditions before any rule
    that could let a packet out early. Earlier accepts and drops decide their own packets, which
    are then not dropped by default."""
    found: list[tuple[Rule, str]] = []
    for rule in chain.rules:
        kind = rule.verdict.kind
        if _unconditional(rule) and kind == "continue" and rule.log:
            found.append((rule, f"jump {chain.name}"))
        elif _unconditional(rule) and kind == "jump":
            target = table.chain(rule.verdict.target or "")
            if target is None or target.name in seen:
                break  # a missing chain or a cycle: nothing more is certain
            deeper = _met_logs(table, target, seen | {target.name})
            found.extend((r, f"jump {chain.name} → {how}") for r, how in deeper)
        elif kind in _LEAVES:
            break
    return found


def _default_deny_tail(table: Table, chain: Chain) -> list[tuple[Rule, str]]:
    """The log rules every packet the chain drops by default still meets before its end, each
    with how it is reached (``""`` in the chain itself, else the jumps)."""
    rules = chain.rules
    if rules and rules[-1].verdict.kind in ("drop", "reject") and _unconditional(rules[-1]):
        rules = rules[:-1]
    elif chain.policy != "drop":
        return []
    tail: list[tuple[Rule, str]] = []
    for rule in reversed(rules):
        if not _unconditional(rule):
            break
        if rule.verdict.kind == "continue":
            tail.extend([(rule, "")] if rule.log else [])
        elif rule.verdict.kind == "jump":
            target = table.chain(rule.verdict.target or "")
            if target is None:
                break
            tail.extend(_met_logs(table, target, frozenset({chain.name, target.name})))
        else:
            break
    return tail


def _deny_chains(table: Table) -> list[Chain]:
    return [
        c
        for c in table.chains
        # Packets to the host cross prerouting first: a default drop there is one of input's.
        if c.hook in ("prerouting", "input")
        and (
            c.policy == "drop"
            or (
                c.rules
                and c.rules[-1].verdict.kind in ("drop", "reject")
                and _unconditional(c.rules[-1])
            )
        )
    ]


def _via(how: str) -> str:
    return f"{how}: " if how else ""


def evaluate(ctx: Context) -> Result:
    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot read the ruleset ({ctx.ruleset_problem})")
    chains = [
        (t, c) for t in ruleset.tables if "ipv6" in t.families and not t.xt for c in _deny_chains(t)
    ]
    if not chains:
        return passed("the IPv6 input path does not drop by default: nothing to log (see FW-02)")
    subjects: list[Subject] = []
    evidence: list[str] = []
    for table, chain in chains:
        where = f"{table.source}: {table.family} {table.name} chain {chain.name}"
        logs = _default_deny_tail(table, chain)
        if not logs:
            subjects.append(Subject(kind="chain", name=where, value="drops not logged"))
            evidence.append(f"{where}: drops by default without a log rule before")
        elif all(r.limit is None for r, _ in logs):
            subjects.append(Subject(kind="chain", name=where, value="log without rate limit"))
            rule, how = logs[0]
            evidence.append(
                f"{where}: {_via(how)}{rule.origin} logs every dropped packet, no limit"
            )
        else:
            rule, how = next((r, h) for r, h in logs if r.limit is not None)
            evidence.append(f"{where}: {_via(how)}{rule.origin} logs drops [limit {rule.limit}]")
    if subjects:
        return failed("; ".join(f"{s.name}: {s.value}" for s in subjects), subjects, evidence)
    return passed("IPv6 packets dropped by default are logged with a rate limit", evidence)


CHECK = Check(META, evaluate)
