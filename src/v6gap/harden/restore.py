"""Putting a backup back: byte-identical files, the previous sysctls and the previous ruleset.

Shared by a failed apply, the rollback timer and ``harden rollback``. The caller holds the
backup's lock (``backup.locked``).
"""

from __future__ import annotations

import os
import signal
from typing import Optional

from v6gap.harden import runtime
from v6gap.harden.backup import (
    TABLE_FILE,
    HardenError,
    Manifest,
    SavedFile,
    fsync_dir,
    remove_file,
    saved_bytes,
    write_atomic,
)
from v6gap.harden.render import TABLE
from v6gap.lab.state import process_starttime

TIMER_MODULE = "v6gap.harden.timer"


def netns_inode() -> int:
    return os.stat("/proc/self/ns/net").st_ino


def restore_file(backup: str, saved: SavedFile) -> None:
    if saved.existed:
        write_atomic(saved.real, saved_bytes(backup, saved), saved.mode, saved.uid, saved.gid)
        return
    remove_file(saved.real)
    for directory in reversed(saved.created_dirs):  # innermost first; only if still empty
        try:
            os.rmdir(directory)
        except OSError:
            break
        fsync_dir(os.path.dirname(directory))


def restore(backup: str, manifest: Manifest, *, files: Optional[int] = None) -> list[str]:
    """Undo ``manifest`` (the first ``files`` entries only, when given); returns what was done.

    Every step is tried even when one fails, so as much as possible comes back; the failures
    are raised together at the end.
    """
    done: list[str] = []
    problems: list[str] = []
    runtime_part = manifest.sysctls or manifest.ruleset_loaded
    if runtime_part and manifest.netns_inode != netns_inode():
        raise HardenError(
            f"backup {manifest.id} changed network namespace inode {manifest.netns_inode}, this "
            f"process runs in {netns_inode()}: run it there (ip netns exec NAME v6gap …)"
        )
    if manifest.ruleset_loaded:
        try:
            table: Optional[str] = None
            if manifest.table_existed:
                with open(os.path.join(backup, TABLE_FILE), encoding="utf-8") as fh:
                    table = fh.read()
            runtime.restore_table(TABLE, table)
            done.append("ruleset")
        except (OSError, HardenError) as exc:
            problems.append(f"ruleset: {exc}")
    restored = 0
    for change in reversed(manifest.sysctls):
        try:
            runtime.write_sysctl(change.path, change.previous)
            restored += 1
        except HardenError as exc:
            problems.append(str(exc))
    if manifest.sysctls:
        done.append(f"{restored} sysctls")
    for args in manifest.ipv6_static:  # after disable_ipv6 went back to 0
        try:
            runtime.run_ip(args)
        except HardenError as exc:
            problems.append(str(exc))
    if manifest.ipv6_static:
        done.append(f"{len(manifest.ipv6_static)} IPv6 addresses and routes")
    chosen = manifest.files if files is None else manifest.files[:files]
    for saved in reversed(chosen):
        try:
            restore_file(backup, saved)
            done.append(saved.path)
        except (OSError, HardenError) as exc:
            problems.append(f"{saved.path}: {getattr(exc, 'strerror', None) or exc}")
    if problems:
        raise HardenError(f"restoring backup {manifest.id} failed in part: {'; '.join(problems)}")
    return done


def timer_alive(backup: str, manifest: Manifest) -> bool:
    """The recorded timer process is running and is ours (same start time, our command line)."""
    timer = manifest.timer
    if timer is None or process_starttime(timer.pid) != timer.starttime:
        return False
    try:
        with open(f"/proc/{timer.pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return False
    return TIMER_MODULE.encode() in argv and os.path.abspath(backup).encode() in argv


def cancel_timer(backup: str, manifest: Manifest) -> bool:
    """Stop the recorded timer if it is ours and alive; True if one was stopped."""
    if manifest.timer is None or not timer_alive(backup, manifest):
        return False
    try:
        os.kill(manifest.timer.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
