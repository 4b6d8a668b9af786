"""Tear labs down: from a record (``down``) or by the ``v6g-`` prefix (``down --all``).

Teardown goes on past every failure and reports them all at the end; it kills only processes the
lab's record names (same pid, start time and namespace), deletes only namespaces the lab made
(same inode) and removes only /etc/netns directories the lab created.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from v6gap.errors import LabError
from v6gap.lab import netns, state
from v6gap.lab.listeners import kill_pid, stop
from v6gap.lab.state import LabRecord


@dataclass
class DownReport:
    labs: List[str] = field(default_factory=list)
    namespaces: List[str] = field(default_factory=list)
    etc_dirs: List[str] = field(default_factory=list)
    killed: List[int] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    interrupted: bool = False

    def merge(self, other: DownReport) -> None:
        self.labs += other.labs
        self.namespaces += other.namespaces
        self.etc_dirs += other.etc_dirs
        self.killed += other.killed
        self.problems += other.problems
        self.interrupted = self.interrupted or other.interrupted

    def raise_problems(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        if self.problems:
            more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            raise LabError(f"lab teardown: {self.problems[0]}{more}")


def _step(report: DownReport, action: Callable[[], None]) -> None:
    """Run one teardown step; remember a failure (or Ctrl-C) and carry on."""
    try:
        action()
    except KeyboardInterrupt:
        report.interrupted = True
    except (LabError, OSError) as exc:
        report.problems.append(str(exc))


def teardown_record(
    record: LabRecord,
    children: Optional[Dict[int, subprocess.Popen[bytes]]] = None,
    state_dir: str = state.STATE_DIR,
) -> DownReport:
    """Remove everything the record says this lab made, then the record itself."""
    report = DownReport(labs=[record.lab_id])
    children = children or {}

    for proc in list(record.processes):

        def kill(proc: state.ProcessRecord = proc) -> None:
            child = children.pop(proc.pid, None)
            if child is not None:
                stop(child)
                report.killed.append(proc.pid)
            elif state.is_ours(proc):
                if not kill_pid(proc.pid):
                    raise LabError(f"process {proc.pid} in {proc.host} would not die")
                report.killed.append(proc.pid)

        _step(report, kill)

    for host in record.hosts:

        def remove_ns(host: state.HostRecord = host) -> None:
            current = netns.ns_inode(host.ns)
            if current is None or (host.netns_inode is not None and current != host.netns_inode):
                return  # gone, or made again by someone else since
            # an unrecorded inode: interrupted between `ip netns add` and the record; the name
            # holds this lab's id, which `up` claimed before creating anything, so it is ours
            strays = netns.ns_pids(host.ns)
            netns.del_ns(host.ns)
            report.namespaces.append(host.ns)
            if strays:
                raise LabError(
                    f"{host.ns} deleted but processes the lab did not start still hold it: "
                    f"{' '.join(map(str, strays))}"
                )

        def remove_etc(host: state.HostRecord = host) -> None:
            if host.etc_dir:
                netns.remove_etc_dirs([host.etc_dir])
                report.etc_dirs.append(host.etc_dir)

        _step(report, remove_ns)
        _step(report, remove_etc)

    if any(state.is_ours(p) for p in record.processes):
        report.problems.append(
            f"record kept for a later `down`: {state.state_path(record.lab_id, state_dir)}"
        )
    else:
        _step(report, lambda: state.remove(record.lab_id, state_dir))
    return report


def down_lab(lab_id: str, state_dir: str = state.STATE_DIR) -> DownReport:
    return teardown_record(state.find_record(lab_id, state_dir), state_dir=state_dir)


def down_all(prefix: str = netns.NS_PREFIX, state_dir: str = state.STATE_DIR) -> DownReport:
    """Every recorded lab with a namespace under ``prefix``, then leftovers by name.

    Processes in leftover namespaces that no record names are left running and reported.
    """
    if not prefix.startswith(netns.NS_PREFIX):
        raise LabError(f"prefix must start with {netns.NS_PREFIX!r}")
    report = DownReport()
    for path in state.list_records(state_dir):
        try:
            record = state.load(path)
        except LabError as exc:
            report.problems.append(str(exc))
            continue
        if prefix == netns.NS_PREFIX or any(h.ns.startswith(prefix) for h in record.hosts):
            report.merge(teardown_record(record, state_dir=state_dir))
    for ns in netns.list_namespaces(prefix):

        def remove_leftover(ns: str = ns) -> None:
            strays = netns.ns_pids(ns)
            netns.del_ns(ns)
            report.namespaces.append(ns)
            if strays:
                raise LabError(
                    f"{ns} deleted; processes no lab record names were left running in it: "
                    f"{' '.join(map(str, strays))}"
                )

        _step(report, remove_leftover)
    for path in netns.list_etc_dirs(prefix):

        def remove_dir(path: str = path) -> None:
            netns.remove_etc_dirs([path])
            report.etc_dirs.append(path)

        _step(report, remove_dir)
    return report
