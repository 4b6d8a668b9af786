"""Collect one snapshot (as plain data) from this host, a network namespace or an image tree."""

from __future__ import annotations

import os
import socket
import time
from typing import Any, Callable, Dict, List, Optional

from v6gap.collect import Partial
from v6gap.collect.host import Host

SNAPSHOT_SCHEMA = "v6gap.snapshot/1"  # kept equal to v6gap.model.SNAPSHOT_SCHEMA by a test
MAX_CHILD_OUTPUT = 512 << 20


class CollectFailed(Exception):
    """Collection could not start (no such namespace, no such root directory)."""


def _collectors() -> List[Callable[[Host], Partial]]:
    from v6gap.collect.files import collect_files
    from v6gap.collect.firewall import collect_firewall
    from v6gap.collect.kernel import collect_kernel, collect_sysctl
    from v6gap.collect.netlink import collect_netlink
    from v6gap.collect.procs import collect_processes
    from v6gap.collect.sockets import collect_sockets

    return [
        collect_sysctl,
        collect_kernel,
        collect_files,
        collect_netlink,
        collect_sockets,
        collect_firewall,
        collect_processes,
    ]


def _gather(host: Host) -> Dict[str, Any]:
    fields: Dict[str, Any] = {}
    unavailable: Dict[str, str] = {}
    for collector in _collectors():
        got, missing = collector(host)
        for key, value in got.items():
            if isinstance(value, dict) and isinstance(fields.get(key), dict):
                fields[key].update(value)
            else:
                fields[key] = value
        unavailable.update(missing)
    fields["unavailable"] = unavailable
    return fields


def _header(source: str, hostname: str, version: str) -> Dict[str, Any]:
    return {
        "schema": SNAPSHOT_SCHEMA,
        "source": source,
        "hostname": hostname,
        "tool_version": version,
        "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def collect_live(version: str) -> Dict[str, Any]:
    snap = _header("live", socket.gethostname(), version)
    snap.update(_gather(Host()))
    return snap


def collect_root(root: str, version: str) -> Dict[str, Any]:
    if not os.path.isdir(root):
        raise CollectFailed(f"--root {root}: not a directory")
    host = Host(root=root)
    try:
        hostname = host.read_text("/etc/hostname").strip() or os.path.basename(root)
    except (OSError, ValueError):
        hostname = os.path.basename(os.path.abspath(root))
    snap = _header("root", hostname, version)
    snap["root"] = os.path.abspath(root)
    snap.update(_gather(host))
    return snap


def collect_netns(name: str, version: str) -> Dict[str, Any]:
    """Collect inside network namespace ``name`` from a forked child, leaving this process as is.

    The child enters with setns in its main thread, so /proc/net and subprocesses follow it.
    Host-wide facts that a namespace cannot show (the neighbour table limits) are read here first.
    """
    from v6gap.collect.kernel import read_neigh_defaults
    from v6gap.collect.netns import ChildError, netns_exists, netns_path, run_in_netns

    if not netns_exists(name):
        raise CollectFailed(f"--netns {name}: no such network namespace ({netns_path(name)})")
    neigh = read_neigh_defaults(Host())

    def gather() -> Dict[str, Any]:
        etc = f"/etc/netns/{name}"
        snap = _header("netns", name, version)
        snap["netns"] = name
        snap.update(_gather(Host(etc_overlay=etc if os.path.isdir(etc) else None)))
        return snap

    try:
        snap = run_in_netns(
            name, gather, MAX_CHILD_OUTPUT, silence="collector exited without output"
        )
    except ChildError as exc:
        raise CollectFailed(f"--netns {name}: {exc}") from None
    _merge_neigh(snap, neigh)
    return dict(snap)


def _merge_neigh(snap: Dict[str, Any], neigh: Dict[str, str]) -> None:
    sysctl = snap.setdefault("sysctl", {})
    for key, value in neigh.items():
        sysctl.setdefault(key, value)
    if neigh:
        snap.setdefault("sysctl_notes", {})["net.ipv6.neigh.default"] = (
            "neighbour table limits are host-wide: read from the initial network namespace"
        )


def collect(
    version: str, *, netns: Optional[str] = None, root: Optional[str] = None
) -> Dict[str, Any]:
    if netns is not None:
        return collect_netns(netns, version)
    if root is not None:
        return collect_root(root, version)
    return collect_live(version)
