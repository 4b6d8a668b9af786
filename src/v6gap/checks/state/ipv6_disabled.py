"""V6G-STATE-03: under profile ``disabled``, IPv6 is off everywhere, now and after a reboot."""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.state._ipv6 import persisted_off
from v6gap.model import Profile, Severity, Subject

DISABLE_FILE = "/etc/sysctl.d/60-v6gap-disable-ipv6.conf"

META = CheckMeta(
    id="V6G-STATE-03",
    title="IPv6 is disabled everywhere and persistently",
    severity=Severity.HIGH,
    seed="Option 1: Disable IPv6 When Not Needed",
    remediation=(
        f"cat <<'EOF' | sudo tee {DISABLE_FILE}\n"
        "net.ipv6.conf.all.disable_ipv6 = 1\n"
        "net.ipv6.conf.default.disable_ipv6 = 1\n"
        "EOF\n"
        f"sudo sysctl -p {DISABLE_FILE}\n"
        "# or, for good: add ipv6.disable=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, "
        "run update-grub (grub2-mkconfig on RHEL) and reboot"
    ),
    profiles=frozenset({Profile.DISABLED}),
    needs_ipv6=False,
)


def evaluate(ctx: Context) -> Result:
    if ctx.ipv6_off_in_kernel:
        return passed(ctx.ipv6_off_in_kernel, [ctx.ipv6_off_in_kernel])
    snap = ctx.snapshot
    missing = snap.missing("files") or ctx.sysctl_missing()
    if missing:
        return unknown(f"cannot tell ({missing})")
    subjects: list[Subject] = []
    evidence: list[str] = []
    problems: list[str] = []
    values = ctx.conf("disable_ipv6", include_lo=True)
    if not any(v.scope == "all" for v in values):
        return unknown("net.ipv6.conf.all.disable_ipv6 was not collected")
    # In an image, scopes left at the kernel default are persisted_off's business (a module
    # option or ipv6.disable=1 may remove IPv6 altogether); a line setting 0 is always a problem.
    on = [
        v
        for v in values
        if v.as_int != 1 and not (ctx.is_image and v.source.startswith("kernel default"))
    ]
    if on:
        when = "at boot" if ctx.is_image else "at run time"
        problems.append(f"IPv6 on {when}: {', '.join(v.scope for v in on)}")
        subjects.extend(
            Subject(kind="sysctl", name=f"net.ipv6.conf.{v.scope}.disable_ipv6", value=v.value)
            for v in on
        )
        evidence.extend(v.describe("disable_ipv6") for v in on)
    if not ctx.is_image:
        if snap.missing("interfaces"):
            evidence.append(f"addresses not checked: {snap.missing('interfaces')}")
        addresses = [
            (i.name, a) for i in snap.interfaces for a in i.addresses if a.family == "ipv6"
        ]
        if addresses:
            problems.append(f"{len(addresses)} IPv6 addresses present")
            subjects.extend(
                Subject(kind="address", name=name, family="ipv6", address=a.address)
                for name, a in addresses
            )
            evidence.extend(f"{name}: {a.address}/{a.prefixlen}" for name, a in addresses)
    persisted = persisted_off(ctx)
    evidence.extend(persisted.evidence)
    if persisted.effective is False:
        problems.append("not persisted: nothing in the boot configuration turns IPv6 off")
        subjects.append(Subject(kind="file", name="boot configuration"))
    if problems:
        return failed("; ".join(problems), subjects, evidence)
    if not ctx.is_image and snap.missing("interfaces"):
        return unknown(f"addresses not read ({snap.missing('interfaces')})", evidence)
    if persisted.effective is None:
        return unknown(
            "IPv6 is off only through 'options ipv6 disable=1', which works only when IPv6 is a "
            "module; could not tell whether this kernel builds it in",
            evidence,
        )
    return passed("IPv6 is off on every interface and stays off after a reboot", evidence)


CHECK = Check(META, evaluate)
