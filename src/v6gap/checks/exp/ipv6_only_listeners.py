"""V6G-EXP-02: no network-facing service listens on IPv6 but not on IPv4.

Per protocol and port: an IPv6-only socket that is not loopback, and no IPv4 listener (other
than loopback) and no dual-stack socket on the same port. Dual-stack sockets count for both
families, which the first seed's ``comm`` script gets wrong. When the kernel did not say
whether a ``::`` socket is dual-stack, that port is undecided unless an IPv4 listener settles it.
"""

from __future__ import annotations

from collections import defaultdict

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.exp._listeners import (
    DUAL_STACK,
    IPV4_ONLY,
    IPV6_ONLY,
    V6_UNKNOWN,
    describe,
    notes,
    scope,
    sockets_missing,
    subject,
)
from v6gap.model import Severity, Socket

META = CheckMeta(
    id="V6G-EXP-02",
    title="No service listens on IPv6 only",
    severity=Severity.MEDIUM,
    seed="Testing IPv6 Firewall Rules",
    remediation=(
        "Either make the service listen on IPv4 too (bind 0.0.0.0 as well, or :: with "
        "IPV6_V6ONLY off), or, if IPv6-only is intended, make sure scanners probe its IPv6 "
        "address (V6G-EXP-04) and the IPv6 firewall covers the port."
    ),
)


def evaluate(ctx: Context) -> Result:
    missing = sockets_missing(ctx)
    if missing:
        return unknown(missing)
    ports: dict[tuple[str, int], list[Socket]] = defaultdict(list)
    for s in ctx.snapshot.sockets:
        ports[(s.proto, s.port)].append(s)
    only_v6: list[Socket] = []
    undecided: list[Socket] = []
    for sockets in ports.values():
        scopes = {scope(s) for s in sockets}
        if scopes & {IPV4_ONLY, DUAL_STACK}:
            continue  # IPv4 clients are served on this port
        if IPV6_ONLY in scopes:
            only_v6 += [s for s in sockets if scope(s) == IPV6_ONLY]
        elif V6_UNKNOWN in scopes:
            undecided += [s for s in sockets if scope(s) == V6_UNKNOWN]
    evidence = [describe(s) for s in only_v6 + undecided] + notes(ctx)
    if only_v6:
        if undecided:
            evidence.append(f"{len(undecided)} more port(s) undecided: dual-stack bit unknown")
        listed = ", ".join(f"{s.proto}/{s.port}" for s in only_v6)
        return failed(
            f"listening on IPv6 but not on IPv4: {listed}", [subject(s) for s in only_v6], evidence
        )
    if undecided:
        listed = ", ".join(f"{s.proto}/{s.port}" for s in undecided)
        return unknown(
            f"{listed}: on :: with no IPv4 listener, and the kernel did not say whether the "
            "socket is dual-stack (IPV6_V6ONLY)",
            evidence,
        )
    return passed(
        f"every network-facing IPv6 listener is reachable over IPv4 too ({len(ports)} ports)",
        evidence,
    )


CHECK = Check(META, evaluate)
