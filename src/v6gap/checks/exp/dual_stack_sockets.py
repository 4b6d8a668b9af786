"""V6G-EXP-05: dual-stack sockets, where IPv4 clients appear as ``::ffff:a.b.c.d``.

An application that allow-lists IPv4 addresses (``allow 192.0.2.0/24``) may not match the
mapped form on such a socket. ``net.ipv6.bindv6only`` is the default for sockets that do not set
``IPV6_V6ONLY`` themselves: 0 (the kernel's default) makes them dual-stack.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.exp._listeners import (
    DUAL_STACK,
    V6_UNKNOWN,
    describe,
    notes,
    scope,
    sockets_missing,
    subject,
)
from v6gap.model import Severity

META = CheckMeta(
    id="V6G-EXP-05",
    title="No dual-stack sockets (IPv4 clients seen as ::ffff:a.b.c.d)",
    severity=Severity.MEDIUM,
    seed="Dual-stack application binding",
    remediation=(
        "For each listed service, either check that its IPv4 allow-lists also match "
        "::ffff:a.b.c.d, or listen on each family separately: bind [::] with IPV6_V6ONLY on "
        "(nginx: listen [::]:80 ipv6only=on; plus listen 80;) and 0.0.0.0 for IPv4"
    ),
)


def _bindv6only(ctx: Context) -> str:
    value = ctx.snapshot.sysctl.get("net.ipv6.bindv6only")
    if value is None:
        return "net.ipv6.bindv6only not collected"
    meaning = (
        "sockets are IPv6-only unless they ask"
        if value.strip() == "1"
        else ("sockets that do not set IPV6_V6ONLY are dual-stack")
    )
    return f"net.ipv6.bindv6only = {value} ({meaning})"


def evaluate(ctx: Context) -> Result:
    missing = sockets_missing(ctx)
    if missing:
        return unknown(missing)
    dual = [s for s in ctx.snapshot.sockets if scope(s) == DUAL_STACK]
    undecided = [s for s in ctx.snapshot.sockets if scope(s) == V6_UNKNOWN]
    evidence = [describe(s) for s in dual + undecided] + [_bindv6only(ctx)] + notes(ctx)
    if dual:
        listed = ", ".join(f"{s.proto}/{s.port}" for s in dual)
        return failed(f"dual-stack sockets: {listed}", [subject(s) for s in dual], evidence)
    if undecided:
        return unknown(
            f"{len(undecided)} socket(s) on :: whose dual-stack bit the kernel did not report",
            evidence,
        )
    return passed("no dual-stack socket", evidence)


CHECK = Check(META, evaluate)
