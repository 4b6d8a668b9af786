"""V6G-FW-01: when IPv4 input is filtered, IPv6 input is filtered too.

"Filtered" is the firewall-presence summary's: some base chain on the input hook drops by policy
or can drop/reject a packet of that family (v6gap.analysis.firewall_presence says how far that
goes). The seed's headline case: iptables with INPUT policy DROP, ip6tables empty.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.fw._fixes import ipv6_input_fix
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-FW-01",
    title="IPv6 input is filtered when IPv4 input is",
    severity=Severity.CRITICAL,
    seed="Firewall gaps",
    remediation=ipv6_input_fix(),
)


def evaluate(ctx: Context) -> Result:
    v4 = ctx.firewall.path("ipv4", "input")
    v6 = ctx.firewall.path("ipv6", "input")
    evidence = [*v4.evidence, *v6.evidence]
    if v6.filtered is True:
        return passed("IPv6 input is filtered", evidence)
    if v4.filtered is False:
        return passed(
            "IPv4 input is not filtered either: no gap between the families "
            "(V6G-FW-02 and V6G-STATE-05 judge IPv6 on its own)",
            evidence,
        )
    if v4.filtered is True and v6.filtered is False:
        return failed(
            "IPv4 input is filtered but nothing filters IPv6 input (no ip6/inet input chain "
            "that drops, no ip6tables rules)",
            [Subject(kind="firewall", name="input", family="ipv6", value="unfiltered")],
            evidence,
            ipv6_input_fix(ctx.firewall),
        )
    why = v6.unknown_reason if v6.filtered is None else v4.unknown_reason
    return unknown(f"cannot tell ({why})", evidence)


CHECK = Check(META, evaluate)
