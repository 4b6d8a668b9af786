"""V6G-NDP-05: the IPv6 neighbour table limits are set, consistent, and above what is in use.

The limits are host-wide: inside a network namespace ``net.ipv6.neigh.default`` does not exist,
so the collector reads them from the initial namespace and says so in ``sysctl_notes``.
"""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Severity, Subject

PREFIX = "net.ipv6.neigh.default."
KEYS = ("gc_thresh1", "gc_thresh2", "gc_thresh3")

META = CheckMeta(
    id="V6G-NDP-05",
    title="Neighbour table limits are set and consistent",
    severity=Severity.MEDIUM,
    seed="NDP Security: RA Guard and Neighbor Table Limits",
    remediation=(
        "cat <<'EOF' | sudo tee /etc/sysctl.d/60-v6gap-neigh.conf\n"
        "net.ipv6.neigh.default.gc_thresh1 = 1024\n"
        "net.ipv6.neigh.default.gc_thresh2 = 2048\n"
        "net.ipv6.neigh.default.gc_thresh3 = 4096\n"
        "EOF\n"
        "sudo sysctl -p /etc/sysctl.d/60-v6gap-neigh.conf"
    ),
)


def evaluate(ctx: Context) -> Result:
    missing = ctx.sysctl_missing()
    if missing:
        return unknown(f"cannot read the running sysctls ({missing})")
    values: dict[str, int] = {}
    evidence: list[str] = []
    for key in KEYS:
        found = ctx.value(PREFIX + key)
        if found is None:
            return unknown(f"{PREFIX}{key} was not collected")
        try:
            values[key] = int(found[0])
        except ValueError:
            return unknown(f"{PREFIX}{key} is not a number: {found[0]!r}")
        evidence.append(f"{PREFIX}{key} = {found[0]} ({found[1]})")
    note = ctx.snapshot.sysctl_notes.get(PREFIX.rstrip("."))
    if note:
        evidence.append(note)
    problems: list[str] = []
    subjects: list[Subject] = []
    t1, t2, t3 = (values[k] for k in KEYS)
    if not t1 < t2 < t3:
        problems.append(f"inconsistent: gc_thresh1 {t1} < gc_thresh2 {t2} < gc_thresh3 {t3} fails")
        subjects.append(Subject(kind="sysctl", name=PREFIX + "gc_thresh*", value=f"{t1}/{t2}/{t3}"))
    in_use = sum(1 for n in ctx.snapshot.neighbours if n.family == "ipv6")
    if not ctx.is_image and ctx.snapshot.missing("neighbours"):
        evidence.append(f"neighbours in use not read ({ctx.snapshot.missing('neighbours')})")
    elif not ctx.is_image:
        evidence.append(f"{in_use} IPv6 neighbour entries in use")
        if in_use >= t3:
            problems.append(f"{in_use} neighbours in use reach gc_thresh3 {t3}")
            subjects.append(Subject(kind="sysctl", name=PREFIX + "gc_thresh3", value=str(t3)))
    unset = _unset_at_boot(ctx)
    if unset is None:
        evidence.append("boot configuration not collected: cannot tell whether the limits are set")
    elif unset:
        problems.append(f"not set by any boot configuration file: {', '.join(unset)}")
        subjects.extend(Subject(kind="sysctl", name=PREFIX + k) for k in unset)
    if problems:
        return failed("; ".join(problems), subjects, evidence)
    if not ctx.is_image and ctx.snapshot.missing("neighbours"):
        return unknown(
            "the limits are consistent, but the neighbours in use were not read", evidence
        )
    if unset is None:
        return unknown(
            "the limits are consistent, but the boot configuration was not collected", evidence
        )
    return passed(f"limits set at boot and consistent ({t1}/{t2}/{t3})", evidence)


def _unset_at_boot(ctx: Context) -> list[str] | None:
    if ctx.snapshot.missing("files"):
        return None
    return [k for k in KEYS if ctx.boot.lookup(PREFIX + k) is None]


CHECK = Check(META, evaluate)
