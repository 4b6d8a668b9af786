"""Typed, frozen data shared by every part of v6gap: the snapshot, findings and the report.

The snapshot holds raw facts only (values, file contents, command outputs); everything that
interprets them lives in ``v6gap.analysis`` and ``v6gap.checks`` as pure functions.
"""

from __future__ import annotations

import enum
from typing import Literal, Optional

import msgspec

SNAPSHOT_SCHEMA = "v6gap.snapshot/1"
REPORT_SCHEMA = "v6gap.report/1"

Source = Literal["live", "netns", "root", "snapshot"]


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    SKIP = "skip"
    INFO = "info"


class Severity(str, enum.Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Profile(str, enum.Enum):
    SERVER = "server"
    DISABLED = "disabled"
    SLAAC_HOST = "slaac-host"
    ROUTER = "router"
    K8S_NODE = "k8s-node"


# --------------------------------------------------------------------------- snapshot facts


class FileFact(msgspec.Struct, frozen=True, omit_defaults=True):
    """One configuration file as read: its text, or where it links, or why it could not be read."""

    text: Optional[str] = None
    link: Optional[str] = None  # symlink target as written (``/dev/null`` masks in sysctl.d)
    error: Optional[str] = None


class Address(msgspec.Struct, frozen=True, omit_defaults=True):
    family: Literal["ipv4", "ipv6"]
    address: str
    prefixlen: int
    scope: str = "global"  # global, link, host, site
    flags: tuple[str, ...] = ()  # permanent, dynamic, mngtmpaddr, temporary, nodad, …


class Interface(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    index: int
    kind: Optional[str] = None  # veth, sit, ip6tnl, gre, bridge … (None: plain device)
    up: bool = False
    addresses: tuple[Address, ...] = ()


class Route(msgspec.Struct, frozen=True, omit_defaults=True):
    family: Literal["ipv4", "ipv6"]
    dst: str  # "default" or a prefix
    dev: Optional[str] = None
    gateway: Optional[str] = None
    proto: Optional[str] = None  # kernel, boot, static, ra, dhcp …


class Neighbour(msgspec.Struct, frozen=True, omit_defaults=True):
    family: Literal["ipv4", "ipv6"]
    address: str
    dev: str
    lladdr: Optional[str] = None
    state: str = ""
    router: bool = False


class Socket(msgspec.Struct, frozen=True, omit_defaults=True):
    proto: Literal["tcp", "udp"]
    family: Literal["ipv4", "ipv6"]
    address: str
    port: int
    v6only: Optional[bool] = None  # only for ipv6 sockets; None: the kernel did not say
    process: Optional[str] = None
    pid: Optional[int] = None


class Firewall(msgspec.Struct, frozen=True, omit_defaults=True):
    """Raw firewall state: left as text so the firewall engine parses it with its own bounds."""

    nft_json: Optional[str] = None  # ``nft -j list ruleset``
    saves: dict[str, str] = {}  # iptables-save, ip6tables-save, iptables-legacy-save, …
    # An image (--root): what loads this ruleset at boot ("nftables.service loads …").
    boot: Optional[str] = None


class Snapshot(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Every fact the checks need, collected once; round-trips through JSON unchanged.

    ``unavailable`` maps a section name (``sysctl``, ``sockets``, ``nft``, ``iptables-save`` …)
    to the reason it could not be read; checks that need it report ``unknown`` with that reason.
    """

    schema: str
    source: Source
    hostname: str
    tool_version: str
    collected_at: str
    netns: Optional[str] = None
    root: Optional[str] = None
    ipv6_proc: Optional[bool] = None  # /proc/sys/net/ipv6 exists (False: ipv6.disable=1 at boot)
    sysctl: dict[str, str] = {}
    sysctl_notes: dict[str, str] = {}
    kernel_release: Optional[str] = None
    cmdline: Optional[str] = None
    modules_loaded: Optional[tuple[str, ...]] = None
    modules_builtin: Optional[tuple[str, ...]] = None
    kernel_config: dict[str, str] = {}
    files: dict[str, FileFact] = {}
    dirs: dict[str, tuple[str, ...]] = {}
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    neighbours: tuple[Neighbour, ...] = ()
    sockets: tuple[Socket, ...] = ()
    processes: tuple[str, ...] = ()
    binaries: tuple[str, ...] = ()  # well-known executables present (miredo, ufw, firewall-cmd …)
    firewall: Firewall = Firewall()
    unavailable: dict[str, str] = {}

    def missing(self, *sections: str) -> Optional[str]:
        """The reason the first unreadable section among ``sections`` could not be read."""
        for section in sections:
            if section in self.unavailable:
                return f"{section}: {self.unavailable[section]}"
        return None


# --------------------------------------------------------------------------- findings and report


class Subject(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a finding is about: an interface, a key, a port, a file, a module …"""

    kind: str
    name: Optional[str] = None
    family: Optional[str] = None
    proto: Optional[str] = None
    port: Optional[int] = None
    address: Optional[str] = None
    process: Optional[str] = None
    value: Optional[str] = None


class Finding(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    title: str
    status: Status
    severity: Severity
    subjects: tuple[Subject, ...] = ()
    evidence: tuple[str, ...] = ()
    remediation: str = ""
    references: tuple[str, ...] = ()
    reason: str = ""  # why unknown/skip, or the one-line verdict


class Target(msgspec.Struct, frozen=True):
    hostname: str
    source: Source
    profile: str


class Tool(msgspec.Struct, frozen=True):
    name: str
    version: str


class Report(msgspec.Struct, frozen=True):
    schema: str
    tool: Tool
    target: Target
    summary: dict[str, int]
    findings: tuple[Finding, ...]
    suggestions: tuple[str, ...] = ()

    def failed_at_or_above(self, severity: Severity) -> list[Finding]:
        return [
            f for f in self.findings if f.status is Status.FAIL and f.severity.rank >= severity.rank
        ]
