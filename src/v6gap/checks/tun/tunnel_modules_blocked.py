"""V6G-TUN-01: the kernel modules that carry IPv6 through tunnels cannot be loaded.

Judged modules (kernel option):

* ``sit`` (CONFIG_IPV6_SIT): IPv6 inside IPv4 protocol 41 — 6in4, 6to4, 6rd and ISATAP. The
  one that crosses IPv4 firewalls; its fallback ``sit0`` decapsulates from any source once up.
* ``ip6_tunnel`` (CONFIG_IPV6_TUNNEL): IPv4/IPv6 over IPv6 (ip6tnl, RFC 2473).
* ``tunnel6`` (CONFIG_INET6_TUNNEL): the receive demultiplexer ``ip6_tunnel`` relies on. The
  first seed blocks it "to disable ISATAP", which it does not: ISATAP lives in ``sit``.
* ``ip6_gre`` (CONFIG_IPV6_GRE): GRE over IPv6 (ip6gre, ip6gretap, ip6erspan).

Not judged: ``ip6_udp_tunnel`` and ``fou6`` are helpers for the tunnels above and for VXLAN /
Geneve and have no tunnel device of their own; ``tunnel4``, ``ipip`` and ``ip_gre`` are IPv4
tunnels (``tunnel4`` also feeds ``sit``, so blocking ``sit`` is enough); a GRE tunnel that does
carry IPv6 shows up as an interface in V6G-TUN-02.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Severity, Subject

MODULES = (
    ("sit", "CONFIG_IPV6_SIT"),
    ("ip6_tunnel", "CONFIG_IPV6_TUNNEL"),
    ("tunnel6", "CONFIG_INET6_TUNNEL"),
    ("ip6_gre", "CONFIG_IPV6_GRE"),
)
CONF_FILE = "/etc/modprobe.d/60-v6gap-tunnels.conf"
BUILTIN_FIX = (
    "{names} {verb} built into this kernel: modprobe cannot block {them}. Boot a kernel built "
    "without {options}, and meanwhile keep tunnel interfaces away (V6G-TUN-02) and drop IPv4 "
    "protocol 41 on input (V6G-TUN-04 gives the rule)"
)


def _fix(modules: list[str]) -> str:
    lines = "\n".join(f"install {m} /bin/false" for m in modules)
    return (
        f"cat <<'EOF' | sudo tee {CONF_FILE}\n{lines}\nEOF\n"
        f"sudo modprobe -r {' '.join(modules)} 2>/dev/null || true  # delete tunnel interfaces "
        "first\n"
        "sudo update-initramfs -u  # Debian/Ubuntu; on RHEL: sudo dracut -f"
    )


META = CheckMeta(
    id="V6G-TUN-01",
    title="IPv6 tunnel modules cannot be loaded",
    severity=Severity.HIGH,
    seed="Option 1: Disable IPv6 When Not Needed",
    remediation=_fix([m for m, _ in MODULES]),
)


@dataclass(frozen=True)
class Verdict:
    module: str
    state: str  # blocked, absent, built-in, loaded, loadable, unknown
    evidence: str

    @property
    def bad(self) -> bool:
        return self.state in ("built-in", "loaded", "loadable")


def _no_module_support(ctx: Context) -> Optional[str]:
    snap = ctx.snapshot
    if snap.kernel_config.get("CONFIG_MODULES") == "n":
        return "CONFIG_MODULES is not set: this kernel loads no modules"
    if not ctx.is_image and snap.modules_loaded == () and "modules_loaded" in snap.sysctl_notes:
        return f"{snap.sysctl_notes['modules_loaded']}"
    return None


def _config_read(ctx: Context) -> bool:
    return bool(ctx.snapshot.kernel_config) and "kernel_config" not in ctx.snapshot.unavailable


def _judge(ctx: Context, module: str, option: str) -> Verdict:
    snap = ctx.snapshot
    config = snap.kernel_config.get(option)
    if config == "y" or (snap.modules_builtin is not None and module in snap.modules_builtin):
        why = f"{option}=y" if config == "y" else "listed in modules.builtin"
        return Verdict(module, "built-in", f"{module}: built into the kernel ({why})")
    if config == "n" or snap.kernel_config.get("CONFIG_IPV6") == "n":
        return Verdict(
            module, "absent", f"{module}: {option} is not set, the kernel has no {module}"
        )
    if config is None and _config_read(ctx):
        # A .config lists every option whose dependencies are met ("is not set" when off); one
        # missing entirely has unmet dependencies, so it is off. The collector keeps all
        # CONFIG_IPV6* and CONFIG_INET6_* lines, which covers every option judged here.
        return Verdict(
            module,
            "absent",
            f"{module}: {option} is absent from the kernel config (its dependencies are off)",
        )
    no_modules = _no_module_support(ctx)
    if no_modules:
        if config is None and snap.modules_builtin is None:
            return Verdict(
                module,
                "unknown",
                f"{module}: {no_modules}, but whether {module} is built in is unknown "
                "(neither the kernel config nor modules.builtin was read)",
            )
        return Verdict(module, "absent", f"{module}: not built in, and {no_modules}")
    loaded = None if ctx.is_image else snap.modules_loaded
    block = ctx.modprobe.blocks_loading(module)
    if loaded is not None and module in loaded:
        note = f"; {block.describe()} came after it was loaded" if block else ""
        return Verdict(module, "loaded", f"{module}: loaded now (/proc/modules){note}")
    if block is not None:
        return Verdict(module, "blocked", f"{module}: {block.describe()}")
    where = f"{option}={config}" if config else "kernel config not read"  # config is m here
    blacklist = ctx.modprobe.blacklisted(module)
    extra = (
        f"; {blacklist.describe()} only stops loading by alias, not 'modprobe {module}'"
        if blacklist
        else ""
    )
    if ctx.modprobe.problems:
        return Verdict(
            module,
            "unknown",
            f"{module}: no install line found ({where}), but the modprobe configuration was not "
            f"fully read: {'; '.join(ctx.modprobe.problems)}",
        )
    return Verdict(module, "loadable", f"{module}: loadable, no install line ({where}){extra}")


def evaluate(ctx: Context) -> Result:
    verdicts = [_judge(ctx, module, option) for module, option in MODULES]
    evidence = [v.evidence for v in verdicts]
    if not ctx.is_image and ctx.snapshot.modules_loaded is None:
        evidence.append(f"loaded modules unknown ({ctx.snapshot.missing('modules_loaded')})")
    bad = [v for v in verdicts if v.bad]
    if bad:
        subjects = [Subject(kind="module", name=v.module, value=v.state) for v in bad]
        builtin = [v.module for v in bad if v.state == "built-in"]
        fixable = [v.module for v in bad if v.state != "built-in"]
        fixes = [_fix(fixable)] if fixable else []
        if builtin:
            options = " ".join(o for m, o in MODULES if m in builtin)
            fixes.append(
                BUILTIN_FIX.format(
                    names=", ".join(builtin),
                    verb="are" if len(builtin) > 1 else "is",
                    them="them" if len(builtin) > 1 else "it",
                    options=options,
                )
            )
        states = ", ".join(f"{v.module} {v.state}" for v in bad)
        return failed(
            f"IPv6 tunnel modules available: {states}", subjects, evidence, "\n".join(fixes)
        )
    undecided = [v for v in verdicts if v.state == "unknown"]
    if undecided:
        return unknown(f"could not tell for {', '.join(v.module for v in undecided)}", evidence)
    return passed("no IPv6 tunnel module can be loaded (blocked or absent)", evidence)


CHECK = Check(META, evaluate)
