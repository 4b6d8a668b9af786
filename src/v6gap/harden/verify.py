"""What apply works on (the target's facts) and the audit after it: which checks the policy covers.

The target of apply is this network namespace's running state plus the boot files under
``--root`` (the files apply writes), or the files alone with ``--offline``.
"""

from __future__ import annotations

import os

from v6gap.checks.lint import LINT_CHECKS  # one list for `firewall lint` and for this
from v6gap.errors import CollectError
from v6gap.model import Profile, Report, Snapshot, Status

# The checks whose answer the policy's artefacts decide on their own, per profile. Others
# (listener inventory, parity with another tool's IPv4 rules, drift of keys v6gap does not
# own, tunnels present) depend on more than the policy and are reported, not promised.
_NDP_ALL = ("V6G-NDP-02", "V6G-NDP-03")
SYSCTL_COVERED: dict[Profile, tuple[str, ...]] = {
    Profile.SERVER: ("V6G-NDP-01", *_NDP_ALL, "V6G-NDP-04", "V6G-NDP-07"),
    Profile.SLAAC_HOST: (*_NDP_ALL, "V6G-NDP-04"),
    Profile.ROUTER: _NDP_ALL,
    Profile.K8S_NODE: _NDP_ALL,
    Profile.DISABLED: ("V6G-STATE-03", "V6G-NDP-01", *_NDP_ALL),
}
# Decided by the inet v6gap table alone: its input policy is drop (FW-01, FW-02, STATE-05),
# and a drop in any base chain is final, whatever other tables accept; plus what
# `v6gap firewall lint` judges on any ruleset (the forward chain defaults to drop: FW-12).
RULESET_COVERED = ("V6G-STATE-05", "V6G-FW-01", "V6G-FW-02", *LINT_CHECKS)
NEIGH_KEYS = tuple(f"net.ipv6.neigh.default.gc_thresh{i}" for i in (1, 2, 3))


def _sets_every_interface(sysctl_conf: str, wanted: dict[str, str]) -> bool:
    from v6gap.harden.runtime import parse_sysctl_conf

    values = dict(parse_sysctl_conf(sysctl_conf))
    return all(values.get(f"net.ipv6.conf.*.{key}") == want for key, want in wanted.items())


def covered_checks(
    profile: Profile,
    offline: bool,
    skipped: dict[str, str],
    sysctl_conf: str,
    routers_known: bool,
    boot_ruleset: bool = False,
) -> tuple[str, ...]:
    """The check ids that must pass once the policy is applied (see the tables above).

    NDP-07 counts only when the rendered sysctl file closes every knob it judges: a knob the
    file leaves alone keeps the host's value, which the policy does not decide. NDP-06 counts
    only with known routers: without, the RA guard is link-local only, which NDP-06 fails.
    Offline, the ruleset checks count only when the image's boot ruleset is judged from its
    files (``boot_ruleset``). Checks that do not apply to the profile (``skip``) are never
    counted.
    """
    from v6gap.checks.ndp.ra_defence_in_depth import WANTED
    from v6gap.checks.registry import all_checks

    ids = list(SYSCTL_COVERED[profile])
    if "V6G-NDP-07" in ids and not _sets_every_interface(
        sysctl_conf, {k: want for k, (want, _) in WANTED.items()}
    ):
        ids.remove("V6G-NDP-07")
    if not any(k in skipped for k in NEIGH_KEYS) and profile is not Profile.DISABLED:
        ids.append("V6G-NDP-05")  # the neighbour limits were written (initial namespace only)
    if not offline:
        ids += RULESET_COVERED
    elif boot_ruleset:  # the image's boot ruleset; addresses and tunnel use only exist running
        ids += [i for i in RULESET_COVERED if i not in ("V6G-STATE-05", "V6G-TUN-04")]
    if not offline and routers_known:  # judged where the profile takes RAs (slaac-host, k8s-node)
        ids.append("V6G-NDP-06")
    applies = {c.meta.id for c in all_checks() if profile in c.meta.profiles}
    return tuple(i for i in ids if i in applies)


def collect_target(root: str, offline: bool) -> Snapshot:
    """Files under ``root``; with the runtime part, this namespace's running state besides."""
    from v6gap import __version__
    from v6gap.collect.files import collect_files
    from v6gap.collect.host import Host
    from v6gap.collect.snapshot import CollectFailed, collect_live, collect_root
    from v6gap.snapshot_io import from_data

    try:
        if offline:
            data = collect_root(root, __version__)
        else:
            data = collect_live(__version__)
            if os.path.abspath(root) != "/":
                # Boot facts from the files apply writes, not from this machine's /etc.
                files, _ = collect_files(Host(root=root))
                data.update(files)
    except CollectFailed as exc:
        raise CollectError(str(exc)) from None
    return from_data(data, "collected snapshot")


def audit_lines(report: Report, covered: tuple[str, ...]) -> tuple[list[str], bool]:
    """The post-apply audit as lines for people, and whether every covered check passed."""
    by_id = {f.id: f for f in report.findings}
    bad = [i for i in covered if i not in by_id or by_id[i].status is not Status.PASS]
    head = f"audit after apply (profile {report.target.profile}): "
    if not bad:
        lines = [head + f"all {len(covered)} checks the policy covers pass: {', '.join(covered)}"]
    else:
        lines = [head + f"{len(bad)} of {len(covered)} checks the policy covers do not pass:"]
        for check_id in bad:
            found = by_id.get(check_id)
            status = found.status.value if found else "missing"
            reason = f": {found.reason}" if found and found.reason else ""
            lines.append(f"  {status.upper():7} {check_id}{reason}")
    counts = ", ".join(f"{n} {s}" for s, n in report.summary.items() if n)
    lines.append(f"whole audit: {counts} (details: v6gap audit --profile {report.target.profile})")
    return lines, not bad
