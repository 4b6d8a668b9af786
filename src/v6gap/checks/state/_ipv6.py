"""Facts the STATE checks share: is IPv6 built in, and where is it disabled at boot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from v6gap.checks.context import Context


@dataclass(frozen=True)
class Persisted:
    """Boot configuration that turns IPv6 off, with the evidence lines that say so."""

    effective: Optional[bool]  # None: only a module option that counts if IPv6 is a module
    evidence: tuple[str, ...]


def ipv6_built_in(ctx: Context) -> tuple[Optional[bool], str]:
    """Whether IPv6 is built into the kernel (True), a module (False) or unknown (None)."""
    snap = ctx.snapshot
    config = snap.kernel_config.get("CONFIG_IPV6")
    if config == "y":
        return True, "CONFIG_IPV6=y: IPv6 is built into the kernel"
    if config == "m":
        return False, "CONFIG_IPV6=m: IPv6 is a module"
    if snap.modules_builtin is not None:
        if "ipv6" in snap.modules_builtin:
            return True, "ipv6 is listed in modules.builtin: built into the kernel"
        return False, "ipv6 is not in modules.builtin: it is a module"
    return None, "could not tell whether IPv6 is built in (Debian, Ubuntu and RHEL build it in)"


def persisted_off(ctx: Context) -> Persisted:
    """Does the boot configuration turn IPv6 off? Every place the second seed lists, and more."""
    from v6gap.analysis.boot_cmdline import boot_cmdline_ipv6_disable

    evidence: list[str] = []
    effective = False
    module_option_undecided = False
    found = boot_cmdline_ipv6_disable(ctx.snapshot)
    if found:
        evidence.append(f"ipv6.disable={found[0]} in {found[1]}")
        effective = effective or found[0] == "1"
    option = ctx.modprobe.option("ipv6", "disable")
    if option is not None:
        built_in, why = ipv6_built_in(ctx)
        where = option.describe()
        if ctx.modprobe.option_value("ipv6", "disable") != "1":
            evidence.append(f"{where} (does not disable)")
        elif built_in is False:
            evidence.append(f"{where}: effective, {why}")
            effective = True
        elif built_in is True:
            evidence.append(f"{where}: NO effect, {why}; use ipv6.disable=1 or the sysctls")
        else:
            evidence.append(f"{where}: effective only if IPv6 is a module; {why}")
            module_option_undecided = True
    ignored = ctx.modprobe.ignored_option("ipv6", "disable")
    if ignored is not None:
        evidence.append(f"{ignored.describe()}: NO effect, kmod does not read this file")
    from v6gap.analysis.boot_cmdline import effective_boot_params

    params = effective_boot_params(ctx.snapshot)
    if params.get("ipv6.disable_ipv6") == "1":
        evidence.append("ipv6.disable_ipv6=1 on the boot command line: every interface starts off")
        effective = True
    sysctl_off = True
    for scope in ("all", "default"):
        key = f"net.ipv6.conf.{scope}.disable_ipv6"
        hit = ctx.boot.lookup(key)
        if scope == "default":  # writing all.disable_ipv6 also sets default: the later wins
            spread = ctx.boot.lookup("net.ipv6.conf.all.disable_ipv6")
            present = [h for h in (hit, spread) if h is not None]
            hit = max(present, key=lambda a: a.order) if present else None
        if hit is None:
            sysctl_off = False
            evidence.append(f"no boot configuration file sets {key}")
        else:
            evidence.append(ctx.boot.describe(hit))
            sysctl_off = sysctl_off and hit.value.strip() == "1"
    if effective or sysctl_off:
        return Persisted(True, tuple(evidence))
    return Persisted(None if module_option_undecided else False, tuple(evidence))
