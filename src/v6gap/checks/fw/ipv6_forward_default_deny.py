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

from collections.abc import Sequence

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.firewall._sweep import ClassRow
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


# RFC 4890 section 4.3.1 (transit traffic that must not be dropped): the errors that keep
# connections working, and echo for connectivity checks (it weighs scanning as impractical in
# IPv6's address space, while its own example script lets echo in only to chosen hosts).
_TRANSIT_ERRORS = frozenset({1, 2, 3, 4})
_ECHO = frozenset({128, 129})


def _icmpv6_note(rows: Sequence[ClassRow]) -> list[str]:
    """What the ICMPv6 the forward path allows by name means: an allow-list RFC 4890 asks for
    (ufw's before6.rules forward errors and echo on any interface), not a default accept."""
    types = sorted(
        {t for r in rows if r.proto == "icmpv6" and r.span for t in range(r.span[0], r.span[1] + 1)}
    )
    if not types:
        return []
    errors = [t for t in types if t in _TRANSIT_ERRORS]
    echo = [t for t in types if t in _ECHO]
    other = [t for t in types if t not in _TRANSIT_ERRORS | _ECHO]
    parts = []
    if errors:
        parts.append(
            f"errors {', '.join(map(str, errors))} (RFC 4890 4.3.1: transit errors must not be "
            "dropped)"
        )
    if echo:
        parts.append(
            f"echo {', '.join(map(str, echo))} (RFC 4890 4.3.1 lists it too, for connectivity "
            "checks; letting it reach only chosen hosts is a policy choice)"
        )
    if other:
        parts.append(f"other types {', '.join(map(str, other))}")
    return [
        "ICMPv6 forwarded by rules that name it: "
        + "; ".join(parts)
        + ". An allow-list of message types: no port or service is forwarded by it"
    ]


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
    evidence = [forwarding, *_icmpv6_note(path.allowed), *path.evidence()]
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
