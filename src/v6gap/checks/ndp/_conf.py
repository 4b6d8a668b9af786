"""The shared shape of the per-interface sysctl checks: judge all, default and every interface."""

from __future__ import annotations

from typing import Callable, Optional

from v6gap.checks.base import Result, failed, passed, unknown
from v6gap.checks.context import ConfValue, Context
from v6gap.model import Subject


def judge_conf(
    ctx: Context,
    key: str,
    is_bad: Callable[[ConfValue], Optional[str]],
    *,
    want: str,
    fix: Callable[[list[ConfValue]], str],
) -> Result:
    """Fail naming every scope where ``is_bad`` returns a why; unknown when values are missing.

    ``is_bad`` only sees values that parse as integers (``ConfValue.as_int`` is not None).

    ``want`` completes "… is <want> on all, default and every interface" for the pass reason.
    """
    missing = ctx.sysctl_missing()
    if missing:
        return unknown(f"cannot read the running sysctls ({missing})")
    values = ctx.conf(key)
    if not any(v.scope == "all" for v in values):
        return unknown(f"net.ipv6.conf.all.{key} was not collected")
    bad: list[tuple[ConfValue, str]] = []
    unreadable = [v for v in values if v.as_int is None]
    for v in values:
        why = None if v.as_int is None else is_bad(v)
        if why:
            bad.append((v, why))
    evidence = [v.describe(key) for v in values]
    if not bad and unreadable:
        names = ", ".join(v.scope for v in unreadable)
        return unknown(f"{key} is not a number on {names}", evidence)
    if not bad:
        return passed(f"{key} is {want} on all, default and every interface", evidence)
    subjects = [
        Subject(kind="sysctl", name=f"net.ipv6.conf.{v.scope}.{key}", value=v.value) for v, _ in bad
    ]
    scopes = ", ".join(v.scope for v, _ in bad)
    reasons = "; ".join(f"{v.scope}: {why}" for v, why in bad)
    return failed(f"{key} on {scopes}: {reasons}", subjects, evidence, fix([v for v, _ in bad]))


def sysctl_fix(key: str, value: str, scopes: list[ConfValue], filename: str) -> str:
    """Paste-able: persist for all/default (and each failing interface), apply now."""
    wanted = ["all", "default"] + [v.scope for v in scopes if v.scope not in ("all", "default")]
    lines = "\n".join(f"net.ipv6.conf.{s}.{key} = {value}" for s in wanted)
    sets = " ".join(f"net.ipv6.conf.{s}.{key}={value}" for s in wanted)
    return f"cat <<'EOF' | sudo tee /etc/sysctl.d/{filename}\n{lines}\nEOF\nsudo sysctl -w {sets}"
