"""V6G-TUN-04: when no tunnel is in use, the firewall must not pass IPv4 protocol 41 or UDP 3544.

Which packets a ruleset passes is the firewall engine's question (not built yet). Decidable now:
nothing filters IPv4 input at all, so protocol 41 (6in4, 6to4, ISATAP) and UDP 3544 (Teredo)
are accepted like everything else. Each is judged only when its kind of tunnel is unused.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.tun._tunnels import tunnel_use
from v6gap.model import Severity, Subject

ENGINE = "needs the firewall engine (v6gap issue 4), not built yet"
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
    v4 = ctx.firewall.path("ipv4", "input")
    evidence += list(v4.evidence)
    if v4.filtered is None:
        return unknown(f"IPv4 input filtering unknown ({v4.unknown_reason})", evidence)
    if v4.filtered:
        return unknown(
            f"IPv4 input is filtered; whether it passes {' or '.join(unused)} {ENGINE}", evidence
        )
    subjects = [Subject(kind="protocol", family="ipv4", name=u) for u in unused]
    fix = NFT_FIX.replace("{rules}", "\n".join(RULES[u] for u in unused))
    return failed(
        f"nothing filters IPv4 input: unused tunnel traffic ({' and '.join(unused)}) is accepted",
        subjects,
        evidence,
        fix,
    )


CHECK = Check(META, evaluate)
