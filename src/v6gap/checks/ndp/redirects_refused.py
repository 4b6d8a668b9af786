"""V6G-NDP-02: ICMPv6 redirects must not be accepted anywhere."""

from __future__ import annotations

from typing import Optional

from v6gap.checks.base import Check, CheckMeta, Result
from v6gap.checks.context import ConfValue, Context
from v6gap.checks.ndp._conf import judge_conf, sysctl_fix
from v6gap.model import Severity

META = CheckMeta(
    id="V6G-NDP-02",
    title="ICMPv6 redirects are not accepted",
    severity=Severity.HIGH,
    seed="NDP Security: RA Guard and Neighbor Table Limits",
    remediation=sysctl_fix("accept_redirects", "0", [], "60-v6gap-ndp.conf"),
)


def _bad(v: ConfValue) -> Optional[str]:
    return "redirects accepted" if v.as_int != 0 else None


def evaluate(ctx: Context) -> Result:
    return judge_conf(
        ctx,
        "accept_redirects",
        _bad,
        want="0",
        fix=lambda bad: sysctl_fix("accept_redirects", "0", bad, "60-v6gap-ndp.conf"),
    )


CHECK = Check(META, evaluate)
