"""V6G-STATE-01: always report the IPv6 status of the host, with where it comes from."""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, info
from v6gap.checks.context import Context
from v6gap.checks.state._ipv6 import ipv6_built_in, persisted_off
from v6gap.model import Severity, Subject

META = CheckMeta(
    id="V6G-STATE-01",
    title="IPv6 status is identified",
    severity=Severity.INFO,
    seed="Option 1: Disable IPv6 When Not Needed",
    remediation="",
    needs_ipv6=False,
)


def evaluate(ctx: Context) -> Result:
    snap = ctx.snapshot
    evidence: list[str] = []
    subjects: list[Subject] = []
    off = ctx.ipv6_off_in_kernel
    if off:
        evidence.append(off)
    elif ctx.is_image:
        evidence.append("image: status at boot from its configuration files")
    elif snap.ipv6_proc is None:
        evidence.append(f"running state not collected ({snap.missing('sysctl') or 'unknown'})")
    else:
        evidence.append("IPv6 is present in the running kernel (/proc/sys/net/ipv6 exists)")
    _, why = ipv6_built_in(ctx)
    evidence.append(why)
    if not off:
        for v in ctx.conf("disable_ipv6", include_lo=True):
            state = "off" if v.as_int == 1 else "on"
            subjects.append(Subject(kind="interface", name=v.scope, value=f"IPv6 {state}"))
            evidence.append(v.describe("disable_ipv6"))
    if not snap.missing("files"):
        evidence.extend(persisted_off(ctx).evidence)
    addresses = [
        f"{i.name} {a.address}/{a.prefixlen} scope {a.scope}"
        for i in snap.interfaces
        for a in i.addresses
        if a.family == "ipv6"
    ]
    if not ctx.is_image and snap.missing("interfaces"):
        evidence.append(f"addresses not collected ({snap.missing('interfaces')})")
    elif not ctx.is_image:
        evidence.append(f"{len(addresses)} IPv6 addresses configured")
        evidence.extend(addresses)
    enabled = [s.name for s in subjects if s.value == "IPv6 on"]
    if off:
        summary = "IPv6 is off in the kernel"
    elif enabled:
        summary = f"IPv6 is on ({', '.join(str(n) for n in enabled)})"
    elif not subjects:
        summary = "IPv6 status at run time not collected"
    else:
        summary = "IPv6 is off on all, default and every interface"
    return info(summary, subjects, evidence)


CHECK = Check(META, evaluate)
