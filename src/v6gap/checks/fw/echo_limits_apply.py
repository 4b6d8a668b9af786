"""V6G-FW-06: a rate-limited accept of echo requests is not pre-empted by an unlimited accept.

The first seed accepts ICMP echo-request unconditionally and then, further down, "rate limits"
it: the limit never sees a packet. Asked of the engine: for echo-request of the rule's family,
which rule decides? If the answer is an unlimited accept that is not the limited rule, the limit
never applies.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.firewall.model import IcmpTypeMatch, Rule
from v6gap.model import Severity, Subject

ECHO = {"ipv4": (1, 8), "ipv6": (58, 128)}  # family -> (protocol, echo-request type)

META = CheckMeta(
    id="V6G-FW-06",
    title="Echo rate limits take effect",
    severity=Severity.MEDIUM,
    seed="Option 2: Dual-Stack nftables Firewall",
    remediation=(
        "Remove the unlimited accept of echo-request that comes first (or move the "
        "rate-limited rule above it): nft -a list chain inet filter input shows the handles; "
        "sudo nft delete rule inet filter input handle N"
    ),
)


def _limited_echo_accepts(rule: Rule) -> list[str]:
    """The families whose echo-request this rate-limited accept is written for."""
    if rule.limit is None or rule.verdict.kind != "accept":
        return []
    return [
        m.family
        for m in rule.matches
        if isinstance(m, IcmpTypeMatch)
        and not m.negate
        and m.family in ECHO
        and any(lo <= ECHO[m.family][1] <= hi for lo, hi in m.ranges)
    ]


def evaluate(ctx: Context) -> Result:
    from v6gap.firewall.parity import explain

    ruleset = ctx.ruleset
    if ruleset is None:
        return unknown(f"cannot read the ruleset ({ctx.ruleset_problem})")
    limited = [
        (family, rule)
        for table in ruleset.tables
        for chain in table.chains
        for rule in chain.rules
        for family in _limited_echo_accepts(rule)
    ]
    if not limited:
        return passed("no rate-limited accept of echo requests to check")
    subjects: list[Subject] = []
    evidence: list[str] = []
    for family, rule in limited:
        proto, echo = ECHO[family]
        decision = explain(ruleset, family, proto, icmp_type=echo)
        decided_by = decision.trace[-1] if decision.trace else "no rule"
        if decision.verdict == "accept" and not any(str(rule.origin) in t for t in decision.trace):
            subjects.append(Subject(kind="rule", name=str(rule.origin), family=family))
            evidence.append(f"{rule.origin} [limit {rule.limit}] never applies: {decided_by}")
        else:
            evidence.append(
                f"{rule.origin} [limit {rule.limit}]: {decision.verdict} via {decided_by}"
            )
    if subjects:
        return failed(
            f"{len(subjects)} echo rate limit(s) never apply: an unlimited accept comes first",
            subjects,
            evidence,
        )
    return passed("every echo rate limit is the rule that decides echo requests", evidence)


CHECK = Check(META, evaluate)
