"""V6G-NDP-03: source-routed IPv6 packets (routing headers) must not be accepted."""

from __future__ import annotations

from typing import Optional

from v6gap.checks.base import Check, CheckMeta, Result
from v6gap.checks.context import ConfValue, Context
from v6gap.checks.ndp._conf import judge_conf, sysctl_fix
from v6gap.model import Severity

META = CheckMeta(
    id="V6G-NDP-03",
    title="Source-routed IPv6 packets are not accepted",
    severity=Severity.HIGH,
    seed="NDP Security: RA Guard and Neighbor Table Limits",
    remediation=sysctl_fix("accept_source_route", "0", [], "60-v6gap-ndp.conf"),
)


def _bad(v: ConfValue) -> Optional[str]:
    # The kernel: <0 refuses every routing header, 0 only type 2 (Mobile IPv6), >0 all of them.
    # A negative value is stricter than the benchmarks' 0, so it passes.
    return "routing headers of every type accepted" if (v.as_int or 0) > 0 else None


def evaluate(ctx: Context) -> Result:
    return judge_conf(
        ctx,
        "accept_source_route",
        _bad,
        want="0 or below",
        fix=lambda bad: sysctl_fix("accept_source_route", "0", bad, "60-v6gap-ndp.conf"),
    )


CHECK = Check(META, evaluate)
