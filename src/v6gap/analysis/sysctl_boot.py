"""What the boot-time sysctl configuration sets: systemd-sysctl's semantics in full, then ufw's.

Pure: reads only ``snapshot.files`` and ``snapshot.dirs`` (filled by ``collect.files``).

systemd-sysctl (sysctl.d(5), src/sysctl/sysctl.c) reads every ``*.conf`` of /etc, /run,
/usr/local/lib, /usr/lib (and split-/usr /lib) ``sysctl.d``; a name in an earlier directory hides
it in later ones; survivors are parsed in lexical order of their names into one ordered map keyed
by the normalised key. A later assignment with a different value replaces the earlier one and moves
to the end; the same value keeps its place. Entries are then written in map order; a glob entry
writes every matching key that has no explicit entry of its own. The udev rule 99-systemd.rules
runs it again, restricted to each new network interface, so globs and per-interface keys also
reach interfaces that appear later.

/etc/sysctl.conf: systemd-sysctl never opens it by itself (since systemd 207); Debian, Ubuntu
(procps) and Fedora/RHEL (systemd) ship ``/etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf`` so it
is applied at that place in the order. We model exactly that: it counts once, through the link.
Without such a link it is reported ``not-applied`` (``lookup_unapplied`` finds its lines), since
only a manual ``sysctl --system`` (procps, which reads it last) would apply it.

ufw: when /etc/ufw/ufw.conf has ENABLED=yes, ufw-init runs ``sysctl -e -q -p $IPT_SYSCTL``
(IPT_SYSCTL from /etc/default/ufw, shipped as /etc/ufw/sysctl.conf; unset or empty: nothing) when
the firewall starts at boot, after systemd-sysctl; its keys win. It does not re-run for interfaces
that appear later; it rarely names one.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Set, Tuple

from v6gap.analysis.conf_dirs import (
    APPLIED,
    MASKED,
    NOT_APPLIED,
    OVERRIDDEN,
    ConfFile,
    judge_file,
    list_conf_files,
)
from v6gap.analysis.sysctl_syntax import (
    dotted,
    glob_matches,
    is_glob,
    parse_sysctl_text,
    to_slash_key,
)
from v6gap.collect.files import (
    SYSCTL_CONF,
    SYSCTL_DIRS,
    SYSCTL_SUFFIXES,
    UFW_CONF,
    UFW_DEFAULT,
    shell_assignments,
    ufw_enabled,
)
from v6gap.model import Snapshot

SYSTEMD = "systemd-sysctl"
UFW = "ufw"


@dataclass(frozen=True)
class Assignment:
    """One key's boot-time assignment and the line that makes it."""

    key: str  # dotted sysctl(8) spelling of the key (concrete for lookups, the glob for entries)
    value: str  # as written, stripped ("" for an exclusion)
    path: str  # the file holding the line (symlinks followed)
    line: int
    text: str = ""  # the line as written
    pattern: Optional[str] = None  # the glob it came from, dotted
    ignore_failure: bool = False
    origin: str = SYSTEMD  # SYSTEMD or UFW
    order: int = 0  # position in the order of writes at boot (later writes win)
    replaced: Tuple[str, ...] = ()  # "path:line = value" of earlier assignments it overrode
    slash_key: str = ""  # normalised slash form of ``key``
    excluded: bool = False  # a ``-key`` line: sets nothing, only keeps globs off the key

    @property
    def location(self) -> str:
        """``path:line``."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class UfwSysctl:
    """Whether ufw applies its own sysctl file at start, and why (not)."""

    enabled: bool = False
    path: Optional[str] = None  # IPT_SYSCTL
    applied: bool = False
    reason: str = "ufw is not installed (/etc/ufw/ufw.conf absent)"


@dataclass(frozen=True)
class SysctlLayer:
    """One program's ordered map: explicit keys (and ``-key`` exclusions) and glob entries."""

    explicit: Mapping[str, Assignment]
    globs: Tuple[Assignment, ...]

    def lookup(self, slash_key: str) -> Optional[Assignment]:
        """The entry deciding concrete ``slash_key``: its own, else the last matching glob."""
        hit = self.explicit.get(slash_key)
        if hit is not None:
            return None if hit.excluded else hit
        best: Optional[Assignment] = None
        for entry in self.globs:  # in order of writes: the last matching glob wins
            if not entry.excluded and glob_matches(entry.slash_key, slash_key):
                best = entry
        if best is None:
            return None
        return dataclasses.replace(best, key=dotted(slash_key), slash_key=slash_key)

    def entries(self) -> List[Assignment]:
        """Every entry in write order."""
        return sorted([*self.explicit.values(), *self.globs], key=lambda a: a.order)


_EMPTY = SysctlLayer({}, ())


@dataclass(frozen=True)
class BootSysctl:
    """The sysctl values the boot configuration sets, with the files and lines that set them."""

    files: Tuple[ConfFile, ...] = ()  # in application order; hidden/unapplied ones included
    problems: Tuple[str, ...] = ()  # unreadable files/dirs: the picture may be incomplete
    ufw: UfwSysctl = UfwSysctl()
    systemd_layer: SysctlLayer = field(default=_EMPTY, repr=False, compare=False)
    ufw_layer: SysctlLayer = field(default=_EMPTY, repr=False, compare=False)
    unapplied_layer: SysctlLayer = field(default=_EMPTY, repr=False, compare=False)

    def lookup(self, key: str) -> Optional[Assignment]:
        """The assignment that decides concrete ``key`` at boot (ufw's over systemd's), if any."""
        slash_key = to_slash_key(key)
        return self.ufw_layer.lookup(slash_key) or self.systemd_layer.lookup(slash_key)

    def exclusion(self, key: str) -> Optional[Assignment]:
        """The ``-key`` line that keeps systemd's globs off ``key``, if any."""
        hit = self.systemd_layer.explicit.get(to_slash_key(key))
        return hit if hit is not None and hit.excluded else None

    def lookup_unapplied(self, key: str) -> Optional[Assignment]:
        """An assignment of ``key`` in /etc/sysctl.conf when boot never applies that file."""
        return self.unapplied_layer.lookup(to_slash_key(key))

    def assignments(self) -> List[Assignment]:
        """Every entry (explicit, glob and exclusion) in the order boot writes them."""
        return [*self.systemd_layer.entries(), *self.ufw_layer.entries()]

    def describe(self, assignment: Assignment) -> str:
        """Evidence line for ``assignment`` (the module-level ``describe``)."""
        return describe(assignment)

    def explicit_interfaces(self, family: str = "ipv6") -> Set[str]:
        """Interface names written explicitly in ``net.<family>.conf.<if>.*`` (not all/default).

        ``-key`` exclusions count: they leave that interface at its kernel value.
        """
        names: Set[str] = set()
        for layer in (self.systemd_layer, self.ufw_layer):
            for slash_key in layer.explicit:
                parts = slash_key.split("/")
                if len(parts) == 5 and parts[:3] == ["net", family, "conf"]:
                    names.add(parts[3])
        names.discard("all")
        names.discard("default")
        return names


def describe(assignment: Assignment) -> str:
    """Evidence line: ``/etc/sysctl.d/60-v6.conf:3 net.ipv6.conf.all.accept_ra = 0``."""
    text = assignment.text or f"{assignment.key} = {assignment.value}"
    out = f"{assignment.location} {text}"
    if assignment.pattern and assignment.pattern != assignment.key:
        out += f" (glob, applies to {assignment.key})"
    if assignment.origin == UFW:
        out += " (ufw IPT_SYSCTL, applied after systemd-sysctl)"
    return out


def _written(assignment: Assignment) -> Optional[str]:
    """The value as systemd compares it: None for an exclusion line."""
    return None if assignment.excluded else assignment.value


def resolve_sysctl_boot(snapshot: Snapshot) -> BootSysctl:
    """Resolve the boot-time sysctl configuration of ``snapshot`` (pure)."""
    conf_files, problems = list_conf_files(snapshot, SYSCTL_DIRS, SYSCTL_SUFFIXES)
    if snapshot.missing("files"):
        problems.insert(0, snapshot.missing("files") or "")
    applied = [f for f in conf_files if f.status == APPLIED]
    order = _Counter()
    systemd_layer = _build_layer(applied, SYSTEMD, order)
    files = list(conf_files)
    unapplied = _EMPTY
    linked = {f.real_path for f in conf_files if f.status != OVERRIDDEN}
    sysctl_conf = judge_file(SYSCTL_CONF, snapshot.files)
    if sysctl_conf is not None and SYSCTL_CONF not in linked:
        detail = (
            "no sysctl.d entry links to it, so systemd-sysctl never reads it at boot; "
            "only a manual `sysctl --system` would"
        )
        files.append(dataclasses.replace(sysctl_conf, status=NOT_APPLIED, detail=detail))
        if sysctl_conf.status == APPLIED:
            unapplied = _build_layer([sysctl_conf], SYSTEMD, _Counter())
    ufw, ufw_file, ufw_problems = _ufw(snapshot)
    problems.extend(ufw_problems)
    ufw_layer = _EMPTY
    if ufw_file is not None:
        files.append(ufw_file)
        if ufw.applied:
            ufw_layer = _build_layer([ufw_file], UFW, order)
    return BootSysctl(
        files=tuple(files),
        problems=tuple(problems),
        ufw=ufw,
        systemd_layer=systemd_layer,
        ufw_layer=ufw_layer,
        unapplied_layer=unapplied,
    )


class _Counter:
    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def _build_layer(files: List[ConfFile], origin: str, order: _Counter) -> SysctlLayer:
    """systemd's ordered map: same value keeps its place, a new value moves to the end."""
    entries: Dict[str, Assignment] = {}
    for conf in files:
        for parsed in parse_sysctl_text(conf.text or ""):
            existing = entries.get(parsed.key)
            if existing is not None and _written(existing) == parsed.value:
                if parsed.ignore_failure and not existing.ignore_failure:
                    entries[parsed.key] = dataclasses.replace(existing, ignore_failure=True)
                continue
            replaced: Tuple[str, ...] = ()
            if existing is not None:
                replaced = (*existing.replaced, f"{existing.location} = {_written(existing)}")
                del entries[parsed.key]  # re-inserted below: it now comes last
            entries[parsed.key] = Assignment(
                key=dotted(parsed.key),
                value=parsed.value or "",
                path=conf.real_path or conf.path,
                line=parsed.line,
                text=parsed.text,
                pattern=dotted(parsed.key) if is_glob(parsed.key) else None,
                ignore_failure=parsed.ignore_failure,
                origin=origin,
                replaced=replaced,
                slash_key=parsed.key,
                excluded=parsed.value is None,
            )
    explicit: Dict[str, Assignment] = {}
    globs: List[Assignment] = []
    for key, entry in entries.items():  # dict order is the map's order
        entry = dataclasses.replace(entry, order=order.next())
        if is_glob(key):
            globs.append(entry)
        else:
            explicit[key] = entry
    return SysctlLayer(explicit, tuple(globs))


def _ufw(snapshot: Snapshot) -> Tuple[UfwSysctl, Optional[ConfFile], List[str]]:
    problems: List[str] = []
    env: Dict[str, str] = {}
    assigned: List[Tuple[str, str, int]] = []
    for source in (UFW_DEFAULT, UFW_CONF):  # ufw-init sources them in this order
        fact = snapshot.files.get(source)
        if fact is not None and fact.error:
            problems.append(f"{source}: {fact.error}")
        elif fact is not None and fact.text:
            assigned.extend(shell_assignments(fact.text, env))
            env.update((name, value) for name, value, _line in assigned)
    if UFW_CONF not in snapshot.files:
        return UfwSysctl(), None, problems
    enabled = ufw_enabled(assigned) is not None
    path: Optional[str] = env.get("IPT_SYSCTL") or None
    if path is not None and path.startswith("/"):
        path = os.path.normpath(path)
    conf = judge_file(path, snapshot.files) if path else None
    if not enabled:
        reason = f"ufw is not enabled ({UFW_CONF}: ENABLED is not yes)"
    elif path is None:
        reason = f"IPT_SYSCTL is not set in {UFW_DEFAULT}: ufw applies no sysctl file"
    elif conf is None:
        reason = f"IPT_SYSCTL={path} does not exist"
    elif conf.status == MASKED:
        reason = f"IPT_SYSCTL={path} is empty ({conf.detail}): ufw skips it"
    elif conf.status != APPLIED:
        problems.append(f"{path}: {conf.detail}")
        reason = f"IPT_SYSCTL={path} is {conf.status} ({conf.detail})"
    else:
        reason = (
            f"ufw is enabled ({UFW_CONF}: ENABLED=yes) and applies IPT_SYSCTL={path} when it "
            "starts, after systemd-sysctl: its keys win"
        )
        applied = dataclasses.replace(conf, detail="applied by ufw after systemd-sysctl")
        return UfwSysctl(True, path, True, reason), applied, problems
    if conf is not None and enabled:
        conf = dataclasses.replace(conf, status=NOT_APPLIED, detail=reason)
    return UfwSysctl(enabled, path, False, reason), (conf if enabled else None), problems
