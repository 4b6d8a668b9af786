"""V6G-FW-12: with IPv6 forwarding on, the IPv6 forward path defaults to deny.

Forwarding is ``net.ipv6.conf.all.forwarding`` (running, or at boot for an image): the kernel
forwards IPv6 only when it is on. The forward path is judged like FW-02's input path.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Severity, Subject

FORWARDING = "net.ipv6.conf.all.forwarding"

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
    fwd = ctx.firewall.path("ipv6", "forward")
    evidence = [forwarding, *fwd.evidence]
    if fwd.default_deny is True:
        return passed("IPv6 forwarding is on and the forward path defaults to deny", evidence)
    if fwd.default_deny is False:
        return failed(
            "IPv6 forwarding is on and the forward path does not default to deny",
            [Subject(kind="firewall", name="forward", family="ipv6", value="default accept")],
            evidence,
        )
    return unknown(
        f"IPv6 forwarding is on; the forward path cannot be judged ({fwd.unknown_reason})", evidence
    )


CHECK = Check(META, evaluate)
