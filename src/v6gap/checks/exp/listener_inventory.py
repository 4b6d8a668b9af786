"""V6G-EXP-01: every listener with its scope (IPv4 only, IPv6 only, dual-stack, loopback)."""

from __future__ import annotations

from collections import Counter

from v6gap.checks.base import Check, CheckMeta, Result, info, unknown
from v6gap.checks.context import Context
from v6gap.checks.exp._listeners import describe, notes, scope, sockets_missing, subject
from v6gap.model import Severity

META = CheckMeta(
    id="V6G-EXP-01",
    title="Listener inventory by address family",
    severity=Severity.INFO,
    seed="Dual-stack application binding",
    remediation="Nothing to fix: review that each listener's scope is the one intended.",
)


def evaluate(ctx: Context) -> Result:
    missing = sockets_missing(ctx)
    if missing:
        return unknown(missing)
    sockets = sorted(ctx.snapshot.sockets, key=lambda s: (s.proto, s.port, s.family, s.address))
    counts = Counter(scope(s) for s in sockets)
    summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "none"
    return info(
        f"{len(sockets)} listeners: {summary}",
        [subject(s) for s in sockets],
        [describe(s) for s in sockets] + notes(ctx),
    )


CHECK = Check(META, evaluate)
