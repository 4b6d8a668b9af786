"""V6G-NDP-07: on a server, the RA-related knobs behind accept_ra are closed too.

The keys ComplianceAsCode and dev-sec's os-hardening set, so that an RA that slips through
(accept_ra flipped by a network manager, a new interface) still changes nothing.
"""

from __future__ import annotations

from typing import Callable

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Profile, Severity, Subject

# key -> (the value wanted, predicate on the integer value that fails it)
WANTED: dict[str, tuple[str, Callable[[int], bool]]] = {
    "accept_ra_defrtr": ("0", lambda n: n != 0),
    "accept_ra_pinfo": ("0", lambda n: n != 0),
    "accept_ra_rtr_pref": ("0", lambda n: n != 0),
    "autoconf": ("0", lambda n: n != 0),
    "router_solicitations": ("0", lambda n: n != 0),
    "max_addresses": ("1", lambda n: n > 1 or n == 0),  # 0 means unlimited
    "dad_transmits": ("0", lambda n: n != 0),
}


def _fix() -> str:
    lines = "\n".join(
        f"net.ipv6.conf.{scope}.{key} = {want}"
        for key, (want, _) in WANTED.items()
        for scope in ("all", "default")
    )
    return (
        f"cat <<'EOF' | sudo tee /etc/sysctl.d/61-v6gap-ra-depth.conf\n{lines}\nEOF\n"
        "sudo sysctl -p /etc/sysctl.d/61-v6gap-ra-depth.conf"
    )


META = CheckMeta(
    id="V6G-NDP-07",
    title="RA defence in depth (defrtr, pinfo, rtr_pref, autoconf, solicitations, addresses)",
    severity=Severity.LOW,
    seed="Rogue Router Advertisements",
    remediation=_fix(),
    profiles=frozenset({Profile.SERVER}),
)


def evaluate(ctx: Context) -> Result:
    missing = ctx.sysctl_missing()
    if missing:
        return unknown(f"cannot read the running sysctls ({missing})")
    subjects: list[Subject] = []
    evidence: list[str] = []
    not_collected: list[str] = []
    seen: list[str] = []
    for key, (want, is_bad) in WANTED.items():
        values = ctx.conf(key)
        if not values:
            not_collected.append(key)
            continue
        for v in values:
            seen.append(v.describe(key))
            n = v.as_int
            if n is None:
                not_collected.append(f"{key} on {v.scope} (not a number: {v.value!r})")
            elif is_bad(n):
                subjects.append(
                    Subject(kind="sysctl", name=f"net.ipv6.conf.{v.scope}.{key}", value=v.value)
                )
                evidence.append(f"{v.describe(key)}; wanted {want}")
    if subjects:
        keys = sorted({s.name.rsplit(".", 1)[1] for s in subjects if s.name})
        return failed(
            f"left open: {', '.join(keys)} ({len(subjects)} settings)", subjects, evidence
        )
    if not_collected:
        return unknown(f"not collected: {', '.join(not_collected)}")
    return passed("every RA-related knob is closed on all, default and every interface", seen)


CHECK = Check(META, evaluate)
