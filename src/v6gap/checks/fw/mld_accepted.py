"""V6G-FW-05: MLD from link-local sources is accepted (multicast listener discovery: switches
with MLD snooping stop forwarding multicast, neighbour discovery's included, to a host that
never answers queries)."""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result
from v6gap.checks.context import Context
from v6gap.checks.fw._icmpv6 import LINK_LOCAL, Needed, judge_icmpv6
from v6gap.model import Severity

MLD = [
    Needed(130, "MLD query", "untracked", LINK_LOCAL, 1),
    Needed(131, "MLD report", "untracked", LINK_LOCAL, 1),
    Needed(132, "MLD done", "untracked", LINK_LOCAL, 1),
    Needed(143, "MLDv2 report", "untracked", LINK_LOCAL, 1),
]

META = CheckMeta(
    id="V6G-FW-05",
    title="MLD from link-local sources is accepted",
    severity=Severity.LOW,
    seed="Option 2: Dual-Stack nftables Firewall",
    remediation=(
        "sudo nft add rule inet filter input ip6 saddr fe80::/10 icmpv6 type "
        "{ mld-listener-query, mld-listener-report, mld-listener-done, "
        "mld2-listener-report } accept"
    ),
)


def evaluate(ctx: Context) -> Result:
    return judge_icmpv6(ctx, MLD, "MLD from link-local sources")


CHECK = Check(META, evaluate)
