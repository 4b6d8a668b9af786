"""V6G-FW-04: the ICMPv6 messages IPv6 cannot work without are not dropped on input.

Neighbour solicitation and advertisement always (without them IPv6 stops on the link while IPv4
goes on: ARP is not filtered by inet tables), the errors path-MTU discovery and diagnostics need
(RFC 4890: destination unreachable, packet too big, time exceeded, parameter problem), router
solicitations on routers, and router advertisements where the profile takes them.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result
from v6gap.checks.context import Context
from v6gap.checks.fw._icmpv6 import LINK_LOCAL, Needed, judge_icmpv6
from v6gap.model import Profile, Severity

ALWAYS = [
    Needed(135, "neighbour solicitation", "untracked", hop_limit=255),
    Needed(136, "neighbour advertisement", "untracked", hop_limit=255),
    Needed(1, "destination unreachable", "related"),
    Needed(2, "packet too big", "related"),
    Needed(3, "time exceeded", "related"),
    Needed(4, "parameter problem", "related"),
]
TAKES_RAS = (Profile.SLAAC_HOST, Profile.K8S_NODE)

META = CheckMeta(
    id="V6G-FW-04",
    title="Essential ICMPv6 is accepted",
    severity=Severity.HIGH,
    seed="Failure Modes",
    remediation=(
        "sudo nft add rule inet filter input icmpv6 type { destination-unreachable, "
        "packet-too-big, time-exceeded, parameter-problem, nd-neighbor-solicit, "
        "nd-neighbor-advert } accept\n"
        "# hosts that take RAs also: icmpv6 type { nd-router-solicit, nd-router-advert } "
        "ip6 saddr fe80::/10 ip6 hoplimit 255 accept\n"
        "# the rule must come before any drop of ICMPv6 (nft insert rule … to put it first)"
    ),
)


def evaluate(ctx: Context) -> Result:
    needed = list(ALWAYS)
    if ctx.profile in TAKES_RAS:
        needed.append(Needed(134, "router advertisement", "untracked", LINK_LOCAL, 255))
    if ctx.profile is Profile.ROUTER:
        needed.append(Needed(133, "router solicitation", "untracked", LINK_LOCAL, 255))
    return judge_icmpv6(ctx, needed, "essential ICMPv6")


CHECK = Check(META, evaluate)
