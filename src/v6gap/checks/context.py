"""The view of a snapshot that checks judge: running values live, boot values for an image.

Derived views (boot sysctls, modprobe configuration, firewall presence) are computed once, lazily.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Optional

from v6gap.model import Profile, Snapshot

if TYPE_CHECKING:
    from v6gap.analysis.firewall_presence import Dumps, FirewallPresence
    from v6gap.analysis.modprobe import ModprobeConfig
    from v6gap.analysis.sysctl_boot import BootSysctl
    from v6gap.firewall.model import Ruleset

CONF_PREFIX = "net.ipv6.conf."


@dataclass(frozen=True)
class ConfValue:
    """One scope's value of a ``net.ipv6.conf.<scope>.<key>`` setting, and where it comes from."""

    scope: str  # "all", "default" or an interface name
    value: str
    source: str  # "running" or "file:line …" or "kernel default"

    @property
    def as_int(self) -> Optional[int]:
        try:
            return int(self.value.split()[0])
        except (ValueError, IndexError):
            return None

    def describe(self, key: str) -> str:
        return f"{CONF_PREFIX}{self.scope}.{key} = {self.value} ({self.source})"


def split_conf_key(dotted: str) -> Optional[tuple[str, str]]:
    """``net.ipv6.conf.eth0.100.accept_ra`` -> (``eth0.100``, ``accept_ra``)."""
    if not dotted.startswith(CONF_PREFIX):
        return None
    scope, _, key = dotted[len(CONF_PREFIX) :].rpartition(".")
    return (scope, key) if scope and key else None


class Context:
    def __init__(
        self, snapshot: Snapshot, profile: Profile, nft_ruleset: Optional[Ruleset] = None
    ) -> None:
        """``nft_ruleset``: the nft tables already read from a ruleset text file (rules with
        their lines), judged instead of the snapshot's nft JSON (``v6gap firewall lint``)."""
        self.snapshot = snapshot
        self.profile = profile
        self.nft_ruleset = nft_ruleset

    @property
    def is_image(self) -> bool:
        """Judging what the system will have at boot (``--root``), not running values."""
        return self.snapshot.source == "root"

    @cached_property
    def boot(self) -> BootSysctl:
        from v6gap.analysis.sysctl_boot import resolve_sysctl_boot

        return resolve_sysctl_boot(self.snapshot)

    @cached_property
    def modprobe(self) -> ModprobeConfig:
        from v6gap.analysis.modprobe import parse_modprobe

        return parse_modprobe(self.snapshot)

    @cached_property
    def _dumps(self) -> Dumps:
        """The firewall dumps read once into the engine's model: presence and engine share it."""
        from v6gap.analysis.firewall_presence import read_dumps

        return read_dumps(self.snapshot, self.nft_ruleset)

    @cached_property
    def firewall(self) -> FirewallPresence:
        from v6gap.analysis.firewall_presence import firewall_presence

        return firewall_presence(self.snapshot, self._dumps)

    @cached_property
    def _ruleset(self) -> tuple[Optional[Ruleset], str]:
        if self.is_image and self.snapshot.firewall.boot is None:
            # An image's ruleset is judged only when its files decide it (collect.boot_firewall).
            return None, "image: the live ruleset exists only on a running system"
        unavailable = {
            k: v
            for k, v in sorted(self.snapshot.unavailable.items())
            if k == "nft" or k.endswith("-save")
        }
        dumps = self._dumps
        if not dumps.any_dump:
            unread = [f"{k}: {v}" for k, v in unavailable.items()]
            return None, "; ".join(
                ["the snapshot holds no firewall dump (nft -j or *-save)", *unread]
            )
        if dumps.problems:
            return None, "; ".join(dumps.problems.values())
        notes = [f"{k} not read ({v}): its tables are missing here" for k, v in unavailable.items()]
        # A tool that is not installed holds no rules; one that could not run might.
        missing = [n for n in notes if "not installed" not in n]
        if missing:
            return None, "; ".join(missing)
        return dataclasses.replace(dumps.ruleset, notes=dumps.ruleset.notes + tuple(notes)), ""

    @property
    def ruleset(self) -> Optional[Ruleset]:
        """The whole firewall for the engine, or None (``ruleset_problem`` says why): a ruleset
        missing one of its sources could hide the very drop that decides a verdict."""
        return self._ruleset[0]

    @property
    def ruleset_problem(self) -> str:
        return self._ruleset[1]

    @cached_property
    def ipv6_off_in_kernel(self) -> Optional[str]:
        """Why IPv6 does not exist in this kernel (``ipv6.disable=1``), or None when it does."""
        from v6gap.analysis.boot_cmdline import boot_cmdline_ipv6_disable, parse_cmdline

        snap = self.snapshot
        if self.is_image:
            found = boot_cmdline_ipv6_disable(snap)
            if found and found[0] == "1":
                return f"ipv6.disable=1 on the boot command line ({found[1]}): IPv6 will not exist"
            return None
        if snap.ipv6_proc is False:
            param = parse_cmdline(snap.cmdline or "").get("ipv6.disable")
            why = f"ipv6.disable={param} on /proc/cmdline" if param else "no /proc/sys/net/ipv6"
            return f"IPv6 is off in the kernel ({why}): no IPv6 sysctls exist"
        return None

    def sysctl_missing(self) -> Optional[str]:
        """Why running sysctl values cannot be judged (None when they can, or for an image)."""
        if self.is_image:
            return None
        return self.snapshot.missing("sysctl")

    @cached_property
    def conf_scopes(self) -> tuple[str, ...]:
        """all, default, then every interface the judged values know of (lo excluded last)."""
        names: set[str] = set()
        if self.is_image:
            names = set(self.boot.explicit_interfaces())
        else:
            for dotted in self.snapshot.sysctl:
                parts = split_conf_key(dotted)
                if parts:
                    names.add(parts[0])
        names -= {"all", "default"}
        return ("all", "default", *sorted(names))

    def conf(self, key: str, *, include_lo: bool = False) -> list[ConfValue]:
        """Every scope's value of ``net.ipv6.conf.*.<key>``: running, or at boot for an image."""
        values: list[ConfValue] = []
        for scope in self.conf_scopes:
            if scope == "lo" and not include_lo:
                continue
            found = self.conf_value(scope, key)
            if found is not None:
                values.append(found)
        return values

    def conf_value(self, scope: str, key: str) -> Optional[ConfValue]:
        dotted = f"{CONF_PREFIX}{scope}.{key}"
        if self.is_image:
            from v6gap.analysis.kernel_defaults import boot_value

            try:
                value, source = boot_value(self.boot, dotted)
            except KeyError:
                return None  # neither a file nor a known kernel default sets it
            return ConfValue(scope, value, source)
        running = self.snapshot.sysctl.get(dotted)
        return None if running is None else ConfValue(scope, running, "running")

    def value(self, dotted: str) -> Optional[tuple[str, str]]:
        """Any sysctl's judged value and its source."""
        if self.is_image:
            from v6gap.analysis.kernel_defaults import boot_value

            try:
                return boot_value(self.boot, dotted)
            except KeyError:
                return None
        running = self.snapshot.sysctl.get(dotted)
        return None if running is None else (running, "running")
