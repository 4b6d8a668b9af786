"""V6G-FW-12: with IPv6 forwarding on, the IPv6 forward path defaults to deny.

Forwarding is ``net.ipv6.conf.all.forwarding`` (running, or at boot for an image): the kernel
forwards IPv6 only when it is on. The forward path is decided by the engine
(``v6gap.firewall.forward``): every protocol/port and ICMPv6-type class of new connections,
through the prerouting and forward base chains by priority, jumps, sets and verdict maps, for
traffic between interfaces and addresses no rule names. Accepts for named interfaces or
addresses (Docker's bridges, a router's LAN) and rules that single traffic out (a port, a
protocol) are the allow-list a default deny needs; what a chain's policy, no chain at all, or a
blanket rule (``accept``, ``ct state new accept``) lets through is the default itself.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Severity, Subject

FORWARDING = "net.ipv6.conf.all.forwarding"
MAX_NAMED = 6  # classes named in the reason

META = CheckMeta(
    id="V6G-FW-12",
    title="IPv6 forwarding defaults to deny",
    severity=Severity.HIGH,
    seed="Option 2: Dual-Stack nftables Firewall",
    remediation=(
        "cat <<'EOF' > /tmp/v6gap-ipv6-forward.nft\n"
        "table ip6 v6gap_forward {\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority filter; policy drop;\n"
        "\t\tct state established,related accept\n"
        "\t\tmeta l4proto ipv6-icmp accept\n"
        '\t\t# accept the forwarded flows this host must route, e.g. iifname "lan0" accept\n'
        "\t}\n"
        "}\n"
        "EOF\n"
        "sudo nft -c -f /tmp/v6gap-ipv6-forward.nft && sudo nft -f /tmp/v6gap-ipv6-forward.nft\n"
        "# or, if nothing should be routed: sudo sysctl -w net.ipv6.conf.all.forwarding=0"
    ),
)


def _named(rows: list[str]) -> str:
    more = f" and {len(rows) - MAX_NAMED} more" if len(rows) > MAX_NAMED else ""
    return ", ".join(rows[:MAX_NAMED]) + more


def evaluate(ctx: Context) -> Result:
    if ctx.sysctl_missing():
        return unknown(f"cannot read the running sysctls ({ctx.sysctl_missing()})")
    found = ctx.value(FORWARDING)
    if found is None:
        return unknown(f"{FORWARDING} was not collected")
    value, source = found
    forwarding = f"{FORWARDING} = {value} ({source})"
    if value.strip() == "0":
        return passed("IPv6 forwarding is off: nothing is forwarded", [forwarding])
    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(
            f"IPv6 forwarding is on; the forward path cannot be judged ({ctx.ruleset_problem})",
            [forwarding],
        )
    from v6gap.firewall.forward import forward_default

    path = forward_default(ruleset, "ipv6")
    evidence = [forwarding, *path.evidence()]
    if path.verdict == "deny":
        return passed("IPv6 forwarding is on and the forward path defaults to deny", evidence)
    if path.verdict == "accept":
        rows = [
            r.describe() + (" (some packets)" if r.verdict == "conditional" else "")
            for r in path.defaulted
        ]
        return failed(
            "IPv6 forwarding is on and the forward path does not default to deny: forwarded "
            f"between interfaces and addresses no rule names, by no rule that singles them out: "
            f"{_named(rows)}",
            [Subject(kind="firewall", name="forward", family="ipv6", value="default accept")],
            evidence,
        )
    rows = [r.describe() for r in path.undecided]
    return unknown(
        "IPv6 forwarding is on; the engine cannot decide the forward path's default for "
        f"{_named(rows)} (a rule it does not understand)",
        evidence,
    )


CHECK = Check(META, evaluate)
