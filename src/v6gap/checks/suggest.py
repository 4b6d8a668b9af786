"""Suggest a profile when the host looks like another one than the one being judged."""

from __future__ import annotations

from v6gap.checks.context import Context
from v6gap.model import Profile

_K8S_MARKERS = ("kubelet", "/usr/bin/kubelet")


def suggest_profiles(ctx: Context) -> list[str]:
    """Plain sentences: each names a profile and the fact that suggests it."""
    snap = ctx.snapshot
    looks: dict[Profile, str] = {}
    if ctx.ipv6_off_in_kernel:
        looks[Profile.DISABLED] = "IPv6 is off in the kernel"
    elif snap.sysctl.get("net.ipv6.conf.all.disable_ipv6") == "1":
        looks[Profile.DISABLED] = "net.ipv6.conf.all.disable_ipv6 = 1"
    if any(m in snap.processes or m in snap.binaries for m in _K8S_MARKERS):
        looks[Profile.K8S_NODE] = "kubelet is present"
    elif snap.sysctl.get("net.ipv6.conf.all.forwarding") == "1":
        looks[Profile.ROUTER] = "net.ipv6.conf.all.forwarding = 1"
    ra_routes = [r for r in snap.routes if r.family == "ipv6" and r.proto == "ra"]
    slaac = [
        a.address
        for i in snap.interfaces
        for a in i.addresses
        if a.family == "ipv6" and a.scope == "global" and "permanent" not in a.flags
    ]
    if ra_routes or slaac:
        what = f"routes learnt from RAs ({len(ra_routes)})" if ra_routes else "SLAAC addresses"
        looks.setdefault(Profile.SLAAC_HOST, f"the host uses {what}")
    return [
        f"this host looks like profile '{p.value}' ({why}); judged as '{ctx.profile.value}': "
        f"re-run with --profile {p.value} if that is its role"
        for p, why in looks.items()
        if p is not ctx.profile
    ]
