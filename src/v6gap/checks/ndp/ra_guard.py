"""V6G-NDP-06: where RAs are accepted, a guard lets them in only from the known routers.

The kernel already drops RAs that are not from a link-local source with hop limit 255, so a
guard only counts when it narrows the link-local sources. The firewall engine judges a Router
Advertisement (never tracked by conntrack) from every link-local source, then from each router
in use now: accepted from all of fe80::/10 is no guard; a guard that drops a router in use
would cut the host off at its next RA.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Profile, Severity, Subject

ICMPV6 = 58
RA = 134
LINK_LOCAL = "fe80::/10"

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


def _routers(ctx: Context) -> tuple[list[str], list[str]]:
    """Routers in use now: their addresses, and how each is known (default route, router flag)."""
    snap = ctx.snapshot
    seen = [
        (r.gateway, f"{r.gateway} via {r.dev}")
        for r in snap.routes
        if r.family == "ipv6" and r.dst == "default" and r.gateway
    ] + [
        (n.address, f"{n.address} on {n.dev} (router flag)")
        for n in snap.neighbours
        if n.family == "ipv6" and n.router
    ]
    return sorted({a.split("%")[0] for a, _ in seen}), sorted({d for _, d in seen})


def evaluate(ctx: Context) -> Result:
    if ctx.is_image:
        return unknown("image: the live ruleset and routers exist only on a running system")
    routers, known_as = _routers(ctx)
    evidence = [f"router in use: {r}" for r in known_as] or ["no IPv6 router in use now"]
    v6 = ctx.firewall.path("ipv6", "input")
    if v6.filtered is False:
        evidence.extend(v6.evidence)
        return failed(
            "no RA guard: nothing filters IPv6 input, so any host on the link can send RAs",
            [Subject(kind="firewall", name="input", family="ipv6", value="unfiltered")],
            evidence,
        )
    from v6gap.firewall.parity import explain

    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot evaluate the ruleset ({ctx.ruleset_problem})", evidence)
    every = explain(
        ruleset, "ipv6", ICMPV6, icmp_type=RA, saddr=LINK_LOCAL, ct_state="untracked", hop_limit=255
    )
    evidence.append(f"RA from any link-local source: {every.verdict}, {_last(every.trace)}")
    if every.sources:
        evidence.append("accepted from: " + ", ".join(every.sources))
    if every.verdict == "unknown":
        return unknown("the engine cannot decide which RAs the ruleset accepts", evidence)
    cut = []
    for address in routers:
        d = explain(
            ruleset,
            "ipv6",
            ICMPV6,
            icmp_type=RA,
            saddr=address,
            ct_state="untracked",
            hop_limit=255,
        )
        evidence.append(f"RA from router {address}: {d.verdict}, {_last(d.trace)}")
        if d.verdict == "drop":
            cut.append(address)
    if cut:
        return failed(
            f"the RA guard drops the router in use now: {', '.join(cut)}",
            [Subject(kind="router", family="ipv6", address=a, value="RAs dropped") for a in cut],
            evidence,
        )
    if every.verdict == "accept":
        return failed(
            "no RA guard: RAs are accepted from every link-local source",
            [Subject(kind="firewall", name="input", family="ipv6", value="RAs from anyone")],
            evidence,
        )
    return passed("RAs are accepted only from some link-local sources (a guard)", evidence)


def _last(trace: tuple[str, ...]) -> str:
    return trace[-1] if trace else "no rule"


CHECK = Check(META, evaluate)
