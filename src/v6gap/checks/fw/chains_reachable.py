"""V6G-FW-08: every regular chain is entered from a hook, directly or through other chains.

A chain nothing jumps to never sees a packet: the first seed's RA-guard chain is the example,
written, commented, and never consulted.
"""

from __future__ import annotations

from typing import Iterator

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.firewall.model import Chain, Table, Verdict
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-FW-08",
    title="No unreachable chains",
    severity=Severity.MEDIUM,
    seed="NDP Security: RA Guard and Neighbor Table Limits",
    remediation=(
        "Jump to the chain from a base chain, before anything accepts what it guards, e.g. "
        "sudo nft insert rule inet filter input icmpv6 type nd-router-advert jump ra_guard; "
        "or delete it: sudo nft delete chain inet filter ra_guard"
    ),
)


def _targets(verdict: Verdict) -> Iterator[str]:
    if verdict.kind in ("jump", "goto") and verdict.target:
        yield verdict.target
    for _, inner in verdict.entries:
        yield from _targets(inner)


def _opaque(verdict: Verdict) -> bool:
    """A verdict map whose entries were not resolved could jump anywhere."""
    return verdict.kind == "vmap" and not verdict.entries


def unreachable(table: Table) -> tuple[list[Chain], bool]:
    """The regular chains no base chain reaches, and whether the answer is certain."""
    by_name = {c.name: c for c in table.chains}
    todo = [c for c in table.chains if c.is_base]
    seen = {c.name for c in todo}
    certain = True
    while todo:
        chain = todo.pop()
        for rule in chain.rules:
            certain = certain and not _opaque(rule.verdict)
            for name in _targets(rule.verdict):
                if name in by_name and name not in seen:
                    seen.add(name)
                    todo.append(by_name[name])
    return [c for c in table.chains if c.name not in seen], certain


def evaluate(ctx: Context) -> Result:
    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot read the ruleset ({ctx.ruleset_problem})")
    lost: list[tuple[Table, Chain]] = []
    empty: list[str] = []
    uncertain: list[str] = []
    for table in ruleset.tables:
        if table.xt:
            continue  # read from its *-save dump instead
        chains, certain = unreachable(table)
        if chains and not certain:
            uncertain.append(f"{table.source}: {table.family} {table.name}")
            continue
        # An empty chain nothing enters loses nothing (Docker keeps one on internal networks).
        empty.extend(f"{table.family} {table.name} chain {c.name}" for c in chains if not c.rules)
        lost.extend((table, c) for c in chains if c.rules)
    if lost:
        names = [f"{t.family} {t.name} chain {c.name}" for t, c in lost]
        return failed(
            f"{len(lost)} chain(s) no hook or jump reaches: {', '.join(names[:6])}"
            + (" …" if len(names) > 6 else ""),
            [Subject(kind="chain", name=n) for n in names],
            [
                f"{t.source}: {n} ({len(c.rules)} rules never consulted)"
                for (t, c), n in zip(lost, names)
            ],
        )
    if uncertain:
        return unknown(
            "verdict maps the engine could not resolve may jump to the remaining chains: "
            + ", ".join(uncertain)
        )
    note = [f"unreachable but empty: {', '.join(empty)}"] if empty else []
    return passed(f"every chain with rules is reachable ({len(ruleset.tables)} tables read)", note)


CHECK = Check(META, evaluate)
