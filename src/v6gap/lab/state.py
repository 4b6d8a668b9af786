"""The record of a lab on disk (/run/v6gap/labs/<lab-id>.json), written while it is built.

``down`` and ``down --all`` read it to find what to remove and which processes the lab started:
a process is only ever killed when its pid, its start time and its network namespace all match
the record, so a recycled pid is never hit.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from typing import List, Optional

import msgspec

from v6gap.errors import LabError

STATE_SCHEMA = "v6gap.lab/1"
STATE_DIR = "/run/v6gap/labs"


class ProcessRecord(msgspec.Struct, kw_only=True):
    pid: int
    starttime: int  # field 22 of /proc/PID/stat: tells a recycled pid apart
    host: str
    netns_inode: int
    kind: str  # "listener" | "process"
    proto: Optional[str] = None
    address: Optional[str] = None
    port: Optional[int] = None
    v6only: Optional[bool] = None
    name: str = ""
    argv: List[str] = []


class HostRecord(msgspec.Struct, kw_only=True):
    name: str
    role: str
    ns: str
    netns_inode: Optional[int] = None
    etc_dir: Optional[str] = None  # set only when this lab created it
    addresses: List[str] = []  # "eth0 2001:db8:1::10/64"
    interfaces: List[str] = []


class LabRecord(msgspec.Struct, kw_only=True):
    schema: str = STATE_SCHEMA
    lab_id: str
    scenario: str
    created_at: str
    owner_pid: int
    complete: bool = False
    hosts: List[HostRecord] = []
    processes: List[ProcessRecord] = []

    def host(self, name: str) -> HostRecord:
        for h in self.hosts:
            if h.name == name:
                return h
        raise LabError(f"lab {self.lab_id} has no host {name!r}")


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_path(lab_id: str, state_dir: str = STATE_DIR) -> str:
    return os.path.join(state_dir, f"{lab_id}.json")


def claim(record: LabRecord, state_dir: str = STATE_DIR) -> str:
    """Create the record file; fails if a lab with this id already exists (O_EXCL)."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    path = state_path(record.lab_id, state_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LabError(f"a lab with id {record.lab_id} already exists ({path})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(msgspec.json.encode(record))
    return path


def save(record: LabRecord, state_dir: str = STATE_DIR) -> None:
    """Rewrite the record atomically."""
    path = state_path(record.lab_id, state_dir)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(msgspec.json.encode(record))
    os.replace(tmp, path)


def load(path: str) -> LabRecord:
    try:
        with open(path, "rb") as fh:
            return msgspec.json.decode(fh.read(), type=LabRecord)
    except FileNotFoundError:
        raise LabError(f"no lab record {path}") from None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise LabError(f"unreadable lab record {path}: {exc}") from None


def remove(lab_id: str, state_dir: str = STATE_DIR) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(state_path(lab_id, state_dir))


def list_records(state_dir: str = STATE_DIR) -> List[str]:
    """Paths of every lab record, oldest name first."""
    try:
        names = os.listdir(state_dir)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise LabError(f"cannot read {state_dir}: {exc.strerror} (run as root)") from None
    return sorted(os.path.join(state_dir, n) for n in names if n.endswith(".json"))


def find_record(lab_id: str, state_dir: str = STATE_DIR) -> LabRecord:
    return load(state_path(lab_id, state_dir))


def process_starttime(pid: int) -> Optional[int]:
    """Start time in clock ticks since boot, ``None`` if the process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", errors="replace")
    except OSError:
        return None
    rest = data.rsplit(")", 1)[-1].split()  # the command name may hold spaces and ')'
    if not rest or rest[0] in ("Z", "X"):
        return None
    return int(rest[19])


def process_netns_inode(pid: int) -> Optional[int]:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def is_ours(proc: ProcessRecord) -> bool:
    """The recorded process still runs, is the same process, in the same namespace."""
    start = process_starttime(proc.pid)
    return (
        start is not None
        and start == proc.starttime
        and process_netns_inode(proc.pid) == proc.netns_inode
    )
