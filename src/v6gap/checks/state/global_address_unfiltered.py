"""V6G-STATE-05: a global IPv6 address is configured and nothing filters IPv6 input.

The CloudPassage case (second seed): the image came with IPv6 on, the firewall manager only
speaks IPv4, and every service is one global address away from the internet.
"""

from __future__ import annotations

from v6gap.analysis.addresses import global_ipv6
from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.fw._fixes import ipv6_input_fix
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-STATE-05",
    title="No global IPv6 address without an IPv6 input filter",
    severity=Severity.CRITICAL,
    seed="Firewall gaps",
    remediation=ipv6_input_fix(),
)


def evaluate(ctx: Context) -> Result:
    if ctx.is_image:
        return unknown("image: addresses and the live ruleset exist only on a running system")
    missing = ctx.snapshot.missing("interfaces")
    if missing:
        return unknown(f"cannot read the addresses ({missing})")
    found = global_ipv6(ctx.snapshot)
    if not found:
        return passed("no global IPv6 address is configured")
    addresses = [f"{name}: {a.address}/{a.prefixlen}" for name, a in found]
    v6 = ctx.firewall.path("ipv6", "input")
    evidence = [*addresses, *v6.evidence]
    if v6.filtered is True:
        return passed(f"{len(found)} global IPv6 address(es), and IPv6 input is filtered", evidence)
    if v6.filtered is None:
        return unknown(
            f"cannot tell whether IPv6 input is filtered ({v6.unknown_reason})", evidence
        )
    subjects = [
        Subject(kind="address", name=name, family="ipv6", address=a.address) for name, a in found
    ]
    return failed(
        f"{len(found)} global IPv6 address(es) and nothing filters IPv6 input",
        subjects,
        evidence,
        ipv6_input_fix(ctx.firewall),
    )


CHECK = Check(META, evaluate)
