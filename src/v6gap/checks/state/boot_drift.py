"""V6G-STATE-02: running IPv6 settings that a reboot would change (or that boot would not set).

For ``all``/``default`` and the host-wide keys the boot value is what the files set, else the
kernel default. For one interface it is compared only where a file names it (explicitly or by a
glob): otherwise its boot value depends on when the interface appears.
"""

from __future__ import annotations

from typing import Optional

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, skipped, unknown
from v6gap.checks.context import Context, split_conf_key
from v6gap.model import Severity, Subject

CONF_KEYS = (
    "disable_ipv6",
    "accept_ra",
    "accept_redirects",
    "accept_source_route",
    "forwarding",
    "autoconf",
    "accept_ra_defrtr",
    "accept_ra_pinfo",
    "accept_ra_rtr_pref",
    "router_solicitations",
    "max_addresses",
    "dad_transmits",
)
GLOBAL_KEYS = (
    "net.ipv6.bindv6only",
    "net.ipv6.neigh.default.gc_thresh1",
    "net.ipv6.neigh.default.gc_thresh2",
    "net.ipv6.neigh.default.gc_thresh3",
)

META = CheckMeta(
    id="V6G-STATE-02",
    title="Running IPv6 settings match the boot configuration",
    severity=Severity.MEDIUM,
    seed="Option 1: Disable IPv6 When Not Needed",
    remediation=(
        "Persist the running value in /etc/sysctl.d/ (or remove the file that sets the old one), "
        "then check with: sudo sysctl --system"
    ),
    needs_ipv6=False,
)


def _same(a: str, b: str) -> bool:
    return a.split() == b.split()


def _compare_keys(ctx: Context) -> list[str]:
    keys: list[str] = list(GLOBAL_KEYS)
    for dotted in sorted(ctx.snapshot.sysctl):
        parts = split_conf_key(dotted)
        if not parts or parts[1] not in CONF_KEYS:
            continue
        scope, _ = parts
        if scope in ("all", "default") or ctx.boot.lookup(dotted) is not None:
            keys.append(dotted)
    return keys


def evaluate(ctx: Context) -> Result:
    if ctx.is_image:
        return skipped("an image has no running values to compare with its boot configuration")
    missing = ctx.snapshot.missing("sysctl", "files")
    if missing:
        return unknown(f"cannot compare running and boot values ({missing})")
    from v6gap.analysis.boot_cmdline import effective_boot_params
    from v6gap.analysis.kernel_defaults import boot_value

    params = effective_boot_params(ctx.snapshot)

    subjects: list[Subject] = []
    evidence: list[str] = []
    for dotted in _compare_keys(ctx):
        running = ctx.snapshot.sysctl.get(dotted)
        if running is None:
            continue
        try:
            boot, source = boot_value(ctx.boot, dotted, cmdline=params)
        except KeyError:
            continue  # no file sets it and the kernel default is not on record
        if _same(running, boot):
            continue
        subjects.append(Subject(kind="sysctl", name=dotted, value=running))
        evidence.append(f"{dotted}: running {running}, boot would set {boot} ({source})")
    if ctx.snapshot.ipv6_proc is not False:
        from v6gap.checks.state._ipv6 import ipv6_built_in

        option = ctx.modprobe.option("ipv6", "disable")
        if (
            option is not None
            and ctx.modprobe.option_value("ipv6", "disable") == "1"
            and ipv6_built_in(ctx)[0] is False
        ):
            subjects.append(Subject(kind="modprobe", name="ipv6.disable", value="1"))
            evidence.append(f"IPv6 is on now, next boot turns it off: {option.describe()}")
    cmdline_drift = _cmdline_drift(ctx)
    if cmdline_drift:
        subjects.append(Subject(kind="cmdline", name="ipv6.disable"))
        evidence.append(cmdline_drift)
    files = [f.path for f in ctx.boot.files if f.applied]
    read = f"boot configuration read: {', '.join(files) if files else 'no sysctl files'}"
    if not subjects and ctx.boot.problems:
        return unknown(
            f"boot configuration partly unreadable: {'; '.join(ctx.boot.problems)}", [read]
        )
    if subjects:
        return failed(
            f"{len(subjects)} running values differ from boot", subjects, [*evidence, read]
        )
    return passed("running values match what boot would set", [read])


def _cmdline_drift(ctx: Context) -> Optional[str]:
    from v6gap.analysis.boot_cmdline import (
        boot_cmdline_ipv6_disable,
        boot_cmdline_sources,
        parse_cmdline,
    )

    if ctx.snapshot.cmdline is None:
        return None
    running = parse_cmdline(ctx.snapshot.cmdline).get("ipv6.disable", "0")
    boot = boot_cmdline_ipv6_disable(ctx.snapshot)
    sources = boot_cmdline_sources(ctx.snapshot)
    if boot is None and sources and running != "0":
        boot = ("0", f"not set by {sources[0].source}")
    if boot is None or _same(running, boot[0]):
        return None
    return f"ipv6.disable: running kernel has {running}, next boot gets {boot[0]} ({boot[1]})"


CHECK = Check(META, evaluate)
