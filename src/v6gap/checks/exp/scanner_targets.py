"""V6G-EXP-04: every global IPv6 address of the host, as targets for scanners.

Scope global as the kernel reports it (link-local, loopback and host scope left out). Unique
local addresses (fc00::/7) are global in scope but only reachable inside the site: marked ULA.
"""

from __future__ import annotations

import ipaddress

from v6gap.analysis.addresses import global_ipv6
from v6gap.checks.base import Check, CheckMeta, Result, info, unknown
from v6gap.checks.context import Context
from v6gap.model import Address, Severity, Subject

ULA = ipaddress.IPv6Network("fc00::/7")

META = CheckMeta(
    id="V6G-EXP-04",
    title="Global IPv6 addresses (scanner targets)",
    severity=Severity.INFO,
    seed="Scan evasion",
    remediation=(
        "Add these addresses to the vulnerability scanner's targets (v6gap audit "
        "--scan-targets FILE writes them one per line), e.g. nmap -6 -n -iL FILE"
    ),
)


def _label(addr: Address) -> str:
    labels = []
    try:
        if ipaddress.IPv6Address(addr.address.split("%")[0]) in ULA:
            labels.append("ULA: reachable only inside the site")
    except ValueError:
        labels.append("unparseable")
    labels += [f for f in addr.flags if f in ("temporary", "deprecated", "dynamic")]
    return ", ".join(labels) or "global"


def evaluate(ctx: Context) -> Result:
    if ctx.is_image:
        return unknown("image: addresses exist only on a running system")
    missing = ctx.snapshot.missing("interfaces")
    if missing:
        return unknown(f"cannot read the addresses ({missing})")
    found = global_ipv6(ctx.snapshot)
    subjects = [
        Subject(kind="address", name=name, family="ipv6", address=a.address, value=_label(a))
        for name, a in found
    ]
    evidence = [f"{name}: {a.address}/{a.prefixlen} ({_label(a)})" for name, a in found]
    ula = sum(1 for s in subjects if (s.value or "").startswith("ULA"))
    if not found:
        return info(
            "no global IPv6 address",
            (),
            ["interfaces checked: " + ", ".join(i.name for i in ctx.snapshot.interfaces)],
        )
    return info(f"{len(found)} global IPv6 address(es), {ula} of them ULA", subjects, evidence)


CHECK = Check(META, evaluate)
