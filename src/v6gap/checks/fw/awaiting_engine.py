"""The FW checks that need the firewall engine (v6gap issue 4): real metadata, ``unknown`` for now.

Each has its final id, title, severity, profiles, seed section and remediation, so that only
``evaluate`` changes when the engine lands (one module per check then, as for the others).
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, unknown
from v6gap.checks.context import Context
from v6gap.model import Severity

ENGINE_REASON = "needs the firewall engine (v6gap issue 4), not built yet"
OPTION_2 = "Option 2: Dual-Stack nftables Firewall"


def awaiting_engine(ctx: Context) -> Result:
    return unknown(ENGINE_REASON)


METAS = (
    CheckMeta(
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
    ),
    CheckMeta(
        id="V6G-FW-05",
        title="MLD from link-local sources is accepted",
        severity=Severity.LOW,
        seed=OPTION_2,
        remediation=(
            "sudo nft add rule inet filter input ip6 saddr fe80::/10 icmpv6 type "
            "{ mld-listener-query, mld-listener-report, mld-listener-done, "
            "mld2-listener-report } accept"
        ),
    ),
)

CHECKS = tuple(Check(meta, awaiting_engine) for meta in METAS)
