"""V6G-NDP-04: IPv6 forwarding is off unless the host routes (router, k8s-node)."""

from __future__ import annotations

from typing import Optional

from v6gap.checks.base import Check, CheckMeta, Result
from v6gap.checks.context import ConfValue, Context
from v6gap.checks.ndp._conf import judge_conf, sysctl_fix
from v6gap.model import Profile, Severity

META = CheckMeta(
    id="V6G-NDP-04",
    title="IPv6 forwarding is disabled",
    severity=Severity.MEDIUM,
    seed="NDP Security: RA Guard and Neighbor Table Limits",
    remediation=sysctl_fix("forwarding", "0", [], "60-v6gap-ndp.conf"),
    profiles=frozenset({Profile.SERVER, Profile.SLAAC_HOST, Profile.DISABLED}),
)


def _bad(v: ConfValue) -> Optional[str]:
    return "forwards IPv6 packets" if v.as_int != 0 else None


def evaluate(ctx: Context) -> Result:
    return judge_conf(
        ctx,
        "forwarding",
        _bad,
        want="0",
        fix=lambda bad: sysctl_fix("forwarding", "0", bad, "60-v6gap-ndp.conf"),
    )


CHECK = Check(META, evaluate)
