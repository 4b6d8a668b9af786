"""V6G-TUN-04: when no tunnel is in use, the firewall must not pass IPv4 protocol 41 or UDP 3544.

Each is judged only when its kind of tunnel is unused: the firewall engine decides whether a new
IPv4 packet of protocol 41 (6in4, 6to4, ISATAP) or to UDP port 3544 (Teredo) gets in from the
network.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.tun._tunnels import tunnel_use
from v6gap.model import Severity, Subject

PROBES = {"protocol 41": (41, None), "UDP 3544": (17, 3544)}  # name -> (protocol, port)
NFT_FIX = (
    "sudo nft add table inet v6gap_tunnels\n"
    "sudo nft 'add chain inet v6gap_tunnels input { type filter hook input priority -10; }'\n"
    "{rules}\n"
    "# persist: add the same table to /etc/nftables.conf"
)
RULES = {
    "protocol 41": "sudo nft add rule inet v6gap_tunnels input meta nfproto ipv4 "
    "ip protocol 41 drop",
    "UDP 3544": "sudo nft add rule inet v6gap_tunnels input meta nfproto ipv4 "
    "udp sport 3544 drop\n"
    "sudo nft add rule inet v6gap_tunnels input meta nfproto ipv4 udp dport 3544 drop",
}

META = CheckMeta(
    id="V6G-TUN-04",
    title="Unused tunnel protocols are refused by the IPv4 firewall",
    severity=Severity.MEDIUM,
    seed="Tunnel-based bypass",
    remediation=NFT_FIX.replace("{rules}", "\n".join(RULES.values())),
)


def evaluate(ctx: Context) -> Result:
    if ctx.is_image:
        return unknown("image: whether tunnels are in use is only known on a running system")
    missing = ctx.snapshot.missing("interfaces")
    if missing:
        return unknown(f"cannot tell whether tunnels are in use ({missing})")
    use = tunnel_use(ctx.snapshot)
    teredo_running = "miredo" in ctx.snapshot.processes
    unused = []
    if not use.protocol_41:
        unused.append("protocol 41")
    if not (use.teredo or teredo_running):
        unused.append("UDP 3544")
    evidence = use.evidence()
    if not unused:
        return passed(
            "6in4/6to4/ISATAP and Teredo tunnels are in use, so passing protocol 41 and UDP 3544 "
            "is expected (V6G-TUN-02 judges the tunnels)",
            evidence,
        )
    evidence.append(f"tunnels unused: {', '.join(unused)}")
    from v6gap.firewall.parity import explain

    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot evaluate the ruleset ({ctx.ruleset_problem})", evidence)
    passing, undecided = [], []
    for name in unused:
        proto, port = PROBES[name]
        d = explain(ruleset, "ipv4", proto, dport=port)
        evidence.append(f"IPv4 {name}: {d.verdict}, {d.trace[-1] if d.trace else 'no rule'}")
        if d.verdict in ("accept", "conditional"):
            passing.append(name)
        elif d.verdict == "unknown":
            undecided.append(name)
    if passing:
        fix = NFT_FIX.replace("{rules}", "\n".join(RULES[u] for u in passing))
        return failed(
            f"the IPv4 firewall accepts unused tunnel traffic: {' and '.join(passing)}",
            [Subject(kind="protocol", family="ipv4", name=u) for u in passing],
            evidence,
            fix,
        )
    if undecided:
        return unknown(f"the engine cannot decide {' or '.join(undecided)}", evidence)
    return passed(f"the IPv4 firewall refuses {' and '.join(unused)}", evidence)


CHECK = Check(META, evaluate)
