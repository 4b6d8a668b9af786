"""V6G-FW-09: ICMPv6 is matched by its layer-4 protocol, not by the first next-header field.

``ip6 nexthdr icmpv6`` reads only the IPv6 header's own next-header: an ICMPv6 message behind a
hop-by-hop or destination-options header (MLD always has one) does not match it, so the accept
meant for it never applies. ``meta l4proto`` (and a bare ``icmpv6 type``, which nft expands to
it) finds the real upper-layer protocol. ip6tables' ``-p`` already skips extension headers.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.firewall.model import AnyOf, Match, ProtoMatch, Rule
from v6gap.model import Severity, Subject

ICMPV6 = 58

META = CheckMeta(
    id="V6G-FW-09",
    title="ICMPv6 is matched with meta l4proto",
    severity=Severity.LOW,
    seed="Option 2: Dual-Stack nftables Firewall",
    remediation=(
        "Replace 'ip6 nexthdr icmpv6 icmpv6 type X' with 'meta l4proto ipv6-icmp icmpv6 type X' "
        "(or just 'icmpv6 type X'): nexthdr is only the first header, so packets with "
        "extension headers slip past"
    ),
)


def _by_nexthdr(matches: tuple[Match, ...]) -> bool:
    for m in matches:
        if isinstance(m, ProtoMatch) and m.via == "ip6 nexthdr" and ICMPV6 in m.protocols:
            return True
        if isinstance(m, AnyOf) and any(_by_nexthdr(alt) for alt in m.alternatives):
            return True
    return False


def evaluate(ctx: Context) -> Result:
    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot read the ruleset ({ctx.ruleset_problem})")
    found: list[Rule] = [
        rule
        for table in ruleset.tables
        for chain in table.chains
        for rule in chain.rules
        if _by_nexthdr(rule.matches)
    ]
    if not found:
        return passed(f"no rule matches ICMPv6 by ip6 nexthdr ({ruleset.rule_count} rules read)")
    return failed(
        f"{len(found)} rule(s) match ICMPv6 with 'ip6 nexthdr', which misses packets with "
        "extension headers",
        [Subject(kind="rule", name=str(rule.origin)) for rule in found],
        [str(rule.origin) for rule in found],
    )


CHECK = Check(META, evaluate)
