"""V6G-FW-11: IPv6 packets the input path drops by default are logged, with a rate limit.

Read from the structure of each base chain on the input hook that covers IPv6 and defaults to
deny (policy drop, or a final unconditional drop/reject): the packets that reach its end are the
ones dropped by default, and a log rule without conditions just before the end is what records
them. A log rule without a rate limit lets a flood fill the disk, so it fails too. Drops made by
earlier, targeted rules are not judged here.
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


def _default_deny_tail(chain: Chain) -> tuple[Rule, ...]:
    """The rules every undecided packet still meets before the chain drops it by default."""
    rules = chain.rules
    if rules and rules[-1].verdict.kind in ("drop", "reject") and _unconditional(rules[-1]):
        rules = rules[:-1]
    elif chain.policy != "drop":
        return ()
    tail: list[Rule] = []
    for rule in reversed(rules):
        if not _unconditional(rule) or rule.verdict.kind != "continue":
            break
        tail.append(rule)
    return tuple(tail)


def _deny_chains(table: Table) -> list[Chain]:
    return [
        c
        for c in table.chains
        if c.hook == "input"
        and (
            c.policy == "drop"
            or (
                c.rules
                and c.rules[-1].verdict.kind in ("drop", "reject")
                and _unconditional(c.rules[-1])
            )
        )
    ]


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
        logs = [r for r in _default_deny_tail(chain) if r.log]
        if not logs:
            subjects.append(Subject(kind="chain", name=where, value="drops not logged"))
            evidence.append(f"{where}: drops by default without a log rule before")
        elif all(r.limit is None for r in logs):
            subjects.append(Subject(kind="chain", name=where, value="log without rate limit"))
            evidence.append(f"{where}: {logs[0].origin} logs every dropped packet, no limit")
        else:
            limited = next(r for r in logs if r.limit is not None)
            evidence.append(f"{where}: {limited.origin} logs drops [limit {limited.limit}]")
    if subjects:
        return failed("; ".join(f"{s.name}: {s.value}" for s in subjects), subjects, evidence)
    return passed("IPv6 packets dropped by default are logged with a rate limit", evidence)


CHECK = Check(META, evaluate)
