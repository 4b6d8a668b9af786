"""V6G-NDP-01: Router Advertisements are not acted on where the profile forbids them.

Judged on the effective behaviour, not the raw number: the kernel acts on RAs when
``accept_ra`` is 2, or 1 while that interface's ``forwarding`` is 0 (moby#43466). An
interface with ``disable_ipv6 = 1`` processes nothing.
"""

from __future__ import annotations

from typing import Optional

from v6gap.checks.base import Check, CheckMeta, Result
from v6gap.checks.context import ConfValue, Context
from v6gap.checks.ndp._conf import judge_conf, sysctl_fix
from v6gap.model import Profile, Severity

META = CheckMeta(
    id="V6G-NDP-01",
    title="IPv6 Router Advertisements are not accepted",
    severity=Severity.HIGH,
    seed="Rogue Router Advertisements",
    remediation=sysctl_fix("accept_ra", "0", [], "60-v6gap-ndp.conf"),
    profiles=frozenset({Profile.SERVER, Profile.DISABLED, Profile.ROUTER}),
)


def accepts_ra(ctx: Context, v: ConfValue) -> Optional[str]:
    """Why the scope of ``v`` (an accept_ra value) acts on RAs, or None when it does not."""
    ra = v.as_int
    if ra is None or ra <= 0:
        return None
    disabled = ctx.conf_value(v.scope, "disable_ipv6")
    if disabled is not None and disabled.as_int == 1 and v.scope not in ("all", "default"):
        return None
    fwd = ctx.conf_value(v.scope, "forwarding")
    fwd_on = fwd is not None and (fwd.as_int or 0) > 0
    if ra >= 2:
        return "accept_ra = 2: RAs accepted even with forwarding on"
    if fwd_on:
        return None  # accept_ra = 1 is ignored while forwarding is on
    return "accept_ra = 1 and forwarding = 0: RAs accepted"


def evaluate(ctx: Context) -> Result:
    return judge_conf(
        ctx,
        "accept_ra",
        lambda v: accepts_ra(ctx, v),
        want="not in effect",
        fix=lambda bad: sysctl_fix("accept_ra", "0", bad, "60-v6gap-ndp.conf"),
    )


CHECK = Check(META, evaluate)
