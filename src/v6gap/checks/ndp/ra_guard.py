"""V6G-NDP-06: where RAs are accepted, a guard lets them in only from the known routers.

Decidable without the firewall engine: no IPv6 input filtering at all means no guard. Whether an
existing ruleset restricts RAs to allow-listed routers (and would still let the router in use now
through) needs rule evaluation, so that stays ``unknown`` until the engine lands.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, unknown
from v6gap.checks.context import Context
from v6gap.model import Profile, Severity, Subject

META = CheckMeta(
    id="V6G-NDP-06",
    title="RA guard: Router Advertisements only from known routers",
    severity=Severity.HIGH,
    seed="NDP Security: RA Guard and Neighbor Table Limits",
    remediation=(
        "# in the inet input chain, before any rule that accepts ICMPv6; list your routers\n"
        "icmpv6 type nd-router-advert ip6 saddr { fe80::1 } ip6 hoplimit 255 accept\n"
        'icmpv6 type nd-router-advert log prefix "rogue-ra: " limit rate 5/minute drop'
    ),
    profiles=frozenset({Profile.SLAAC_HOST, Profile.K8S_NODE}),
)


def _routers(ctx: Context) -> list[str]:
    snap = ctx.snapshot
    found = {
        f"{r.gateway} via {r.dev}"
        for r in snap.routes
        if r.family == "ipv6" and r.dst == "default" and r.gateway
    }
    found |= {
        f"{n.address} on {n.dev} (router flag)"
        for n in snap.neighbours
        if n.family == "ipv6" and n.router
    }
    return sorted(found)


def evaluate(ctx: Context) -> Result:
    if ctx.is_image:
        return unknown("image: the live ruleset and routers exist only on a running system")
    routers = _routers(ctx)
    evidence = [f"router in use: {r}" for r in routers] or ["no IPv6 router in use now"]
    v6 = ctx.firewall.path("ipv6", "input")
    evidence.extend(v6.evidence)
    if v6.filtered is False:
        return failed(
            "no RA guard: nothing filters IPv6 input, so any host on the link can send RAs",
            [Subject(kind="firewall", name="input", family="ipv6", value="unfiltered")],
            evidence,
        )
    if v6.filtered is None:
        return unknown(
            f"cannot tell whether IPv6 input is filtered ({v6.unknown_reason})", evidence
        )
    return unknown(
        "IPv6 input is filtered; whether RAs are limited to the known routers needs the firewall "
        "engine (v6gap issue 4), not built yet",
        evidence,
    )


CHECK = Check(META, evaluate)
