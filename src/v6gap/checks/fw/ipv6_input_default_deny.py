"""V6G-FW-02: IPv6 input defaults to deny.

Decided by the firewall-presence summary: some base chain on the IPv6 input path has policy
drop, or ends (for packets no conditional rule decided) in an unconditional drop/reject; netfilter
runs every base chain on a hook, so one that denies by default is enough.

Loopback spoofing (``::1`` as source from another interface, CIS's ip6tables and nftables
loopback recommendations; ``127.0.0.0/8`` for IPv4 beside it) is evidence, not the status: the
rules that drop a loopback source, and the engine's verdict for every protocol/port class of new
connections from that source on an interface other than ``lo``. Linux itself discards ``::1``
arriving on other interfaces before netfilter sees it (ip6_rcv_core, RFC 4291 2.5.3) and routes
no ``127.0.0.0/8`` source from them (martian source, unless ``route_localnet``), so a ruleset that
accepts it is a CIS finding, not an open door.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.fw._fixes import ipv6_input_fix
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-FW-02",
    title="IPv6 input defaults to deny",
    severity=Severity.HIGH,
    seed="Option 2: Dual-Stack nftables Firewall",
    remediation=ipv6_input_fix(),
)


def _loopback_evidence(drops: tuple[str, ...]) -> list[str]:
    if drops:
        return [f"loopback spoofing: ::1 as source is dropped by {d}" for d in drops]
    return [
        "loopback spoofing: no rule drops ::1 as source (CIS asks for one; Linux already "
        "discards ::1 arriving on other interfaces)"
    ]


def _spoofing_evidence(ctx: Context) -> list[str]:
    """The engine's verdict on loopback sources from other interfaces, IPv6 then IPv4."""
    ruleset = ctx.ruleset
    if ruleset is None:
        return [f"loopback spoofing: not decided by the engine ({ctx.ruleset_problem})"]
    from v6gap.firewall.loopback import spoofed_loopback

    return [
        line for family in ("ipv6", "ipv4") for line in spoofed_loopback(ruleset, family).evidence()
    ]


def evaluate(ctx: Context) -> Result:
    v6 = ctx.firewall.path("ipv6", "input")
    evidence = [*v6.evidence, *_loopback_evidence(v6.loopback_drops), *_spoofing_evidence(ctx)]
    if v6.default_deny is True:
        how = "policy drop" if v6.policy == "drop" else "a final drop/reject rule"
        return passed(f"IPv6 input defaults to deny ({how})", evidence)
    if v6.default_deny is False:
        return failed(
            "IPv6 input does not default to deny: packets no rule decides are accepted",
            [Subject(kind="firewall", name="input", family="ipv6", value="default accept")],
            evidence,
            ipv6_input_fix(ctx.firewall),
        )
    return unknown(f"cannot tell ({v6.unknown_reason})", evidence)


CHECK = Check(META, evaluate)
