"""V6G-EXP-03: no listener is reachable over IPv6 while IPv4 access to it is refused.

Which ports a ruleset accepts is the firewall engine's question (not built yet). Decided now:

* no network-facing IPv6 listener: pass;
* IPv6 input is not filtered at all while IPv4 input defaults to deny: fail. Every IPv6
  listener is reachable over IPv6; over IPv4 each is refused unless an accept rule lets it in,
  which only the engine can tell per port, so the finding says so;
* neither family filters input: pass here, since IPv4 access is not refused either
  (V6G-FW-02 and V6G-STATE-05 judge the open IPv6 input);
* anything else: unknown.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.exp._listeners import (
    describe,
    network_facing_v6,
    sockets_missing,
)
from v6gap.checks.fw._fixes import ipv6_input_fix
from v6gap.model import Severity

ENGINE = "needs the firewall engine (v6gap issue 4), not built yet"

META = CheckMeta(
    id="V6G-EXP-03",
    title="No listener is reachable over IPv6 but refused over IPv4",
    severity=Severity.CRITICAL,
    seed="Scan evasion",
    remediation=ipv6_input_fix(),
)


def evaluate(ctx: Context) -> Result:
    missing = sockets_missing(ctx)
    if missing:
        return unknown(missing)
    exposed = network_facing_v6(ctx.snapshot.sockets)
    if not exposed:
        return passed("no network-facing IPv6 listener")
    listeners = [describe(s) for s in exposed]
    v4 = ctx.firewall.path("ipv4", "input")
    v6 = ctx.firewall.path("ipv6", "input")
    evidence = [*listeners, *v6.evidence, *v4.evidence]
    if v6.filtered is False and v4.filtered is False:
        return passed(
            "neither IPv4 nor IPv6 input is filtered: IPv4 access is not refused either "
            "(V6G-FW-02 and V6G-STATE-05 judge the open IPv6 input)",
            evidence,
        )
    if v6.filtered is False and v4.default_deny is True:
        # Every one of them is reachable over IPv6; which ones IPv4 refuses depends on its
        # accept rules. Naming them all as refused over IPv4 would be a claim we cannot prove.
        return unknown(
            f"nothing filters IPv6 input, so {len(exposed)} listener(s) are reachable over "
            "IPv6; IPv4 input defaults to deny, and which of these ports it refuses " + ENGINE,
            evidence,
        )
    if v6.filtered is None or v4.filtered is None:
        why = v6.unknown_reason if v6.filtered is None else v4.unknown_reason
        return unknown(f"firewall state unknown ({why})", evidence)
    return unknown(f"which of these ports each family accepts {ENGINE}", evidence)


CHECK = Check(META, evaluate)
