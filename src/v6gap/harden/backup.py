"""Backups of what ``harden apply`` changes, and the atomic file writes both ways.

A backup is a directory ``<root>/var/lib/v6gap/backups/<id>/`` holding ``manifest.json``, the
previous bytes of every file under ``files/``, the previous ``nft list ruleset`` as
``ruleset.nft`` and the previous v6gap table (the only one apply changes) as ``table.nft``. The
manifest is written atomically and its ``state`` says where the apply is:
``applying`` → ``pending`` (waits for confirm) → ``confirmed`` | ``rolled-back``; ``failed`` when
the apply itself failed and restored the previous state; ``applied`` for ``--offline``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from contextlib import contextmanager, suppress
from typing import Iterator, Optional

import msgspec

from v6gap.errors import V6gapError

BACKUP_SCHEMA = "v6gap.backup/1"
BACKUPS_DIR = "/var/lib/v6gap/backups"
MANIFEST = "manifest.json"
RULESET = "ruleset.nft"  # the whole ruleset before apply, for people and for the tests
TABLE_FILE = "table.nft"  # ``nft list table inet v6gap`` before apply, when there was one
NEW_FILE_MODE = 0o644


class HardenError(V6gapError):
    """Apply, confirm or rollback could not be done; the message says what state is left."""


class SavedFile(msgspec.Struct):
    path: str  # as on the target (``/etc/...``)
    real: str  # where it is on this machine (inside ``--root``, symlinks resolved there)
    existed: bool
    mode: int = NEW_FILE_MODE
    uid: int = -1
    gid: int = -1
    sha256: Optional[str] = None  # of the previous bytes
    new_sha256: str = ""  # of what apply writes
    created_dirs: tuple[str, ...] = ()  # made by apply for this file, removed by rollback


class SysctlChange(msgspec.Struct):
    key: str
    path: str  # under /proc/sys
    previous: str
    value: str


class Timer(msgspec.Struct):
    pid: int
    starttime: int  # field 22 of /proc/PID/stat, so a recycled pid is never taken for ours
    deadline: str  # UTC, for people


class Manifest(msgspec.Struct):
    id: str
    created_at: str
    root: str
    policy: str
    profile: str
    offline: bool
    netns_inode: int  # the network namespace the runtime part went to
    state: str = "applying"
    files: list[SavedFile] = []
    sysctls: list[SysctlChange] = []
    skipped_sysctls: dict[str, str] = {}  # key -> why it was not written here
    ruleset_saved: bool = False  # ruleset.nft holds the previous ruleset
    table_existed: bool = False  # table.nft holds the previous inet v6gap table
    ruleset_loaded: bool = False  # the new table went live (rollback must restore the ruleset)
    applied_table: Optional[str] = None  # ``nft list table inet v6gap`` right after the load
    ipv6_static: list[list[str]] = []  # ``ip -6`` commands for what disable_ipv6 deletes
    timer: Optional[Timer] = None
    history: list[str] = []  # one line per state change, for people
    schema: str = BACKUP_SCHEMA


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def backups_dir(root: str) -> str:
    return os.path.join(os.path.abspath(root), BACKUPS_DIR.lstrip("/"))


# --------------------------------------------------------------------------- atomic writes


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def missing_dirs(path: str) -> tuple[str, ...]:
    """The directories ``mkdir -p path`` would make, outermost first."""
    missing: list[str] = []
    directory = os.path.abspath(path)
    while not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    return tuple(reversed(missing))


def make_dirs(path: str) -> tuple[str, ...]:
    """``mkdir -p``; returns the directories it made, outermost first."""
    made: list[str] = []
    for directory in missing_dirs(path):
        try:
            os.mkdir(directory, 0o755)
        except FileExistsError:  # another process made it meanwhile: not ours to remove
            if not os.path.isdir(directory):
                raise
            continue
        fsync_dir(os.path.dirname(directory))
        made.append(directory)
    return tuple(made)


def write_atomic(
    path: str, data: bytes, mode: int = NEW_FILE_MODE, uid: int = -1, gid: int = -1
) -> None:
    """Temp file in the same directory, fsync, rename over ``path``, fsync the directory.

    Readers see the old bytes or the new ones, never a mix; on failure ``path`` is untouched.
    """
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".v6gap-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            if uid != -1 or gid != -1:
                os.fchown(fh.fileno(), uid, gid)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(os.path.dirname(path))


# --------------------------------------------------------------------------- backups


def new_backup(root: str) -> tuple[str, str]:
    """Create an empty backup directory named after the time (UTC); returns (id, path)."""
    base = backups_dir(root)
    make_dirs(base)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for n in range(1000):
        backup_id = stamp if n == 0 else f"{stamp}-{n}"
        path = os.path.join(base, backup_id)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        fsync_dir(base)
        return backup_id, path
    raise HardenError(f"{base}: cannot make a new backup directory")


def save_file(backup: str, saved: SavedFile, data: bytes) -> None:
    target = os.path.join(backup, "files", saved.path.lstrip("/"))
    make_dirs(os.path.dirname(target))
    write_atomic(target, data, 0o600)


def saved_bytes(backup: str, saved: SavedFile) -> bytes:
    with open(os.path.join(backup, "files", saved.path.lstrip("/")), "rb") as fh:
        data = fh.read()
    if saved.sha256 is not None and sha256(data) != saved.sha256:
        raise HardenError(f"{backup}: the saved copy of {saved.path} is damaged (checksum)")
    return data


def write_manifest(backup: str, manifest: Manifest, event: Optional[str] = None) -> None:
    if event:
        manifest.history.append(f"{utc_now()} {event}")
    data = msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"
    write_atomic(os.path.join(backup, MANIFEST), data, 0o600)


def read_manifest(backup: str) -> Manifest:
    path = os.path.join(backup, MANIFEST)
    try:
        with open(path, "rb") as fh:
            return msgspec.json.decode(fh.read(), type=Manifest)
    except OSError as exc:
        raise HardenError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except msgspec.DecodeError as exc:
        raise HardenError(f"{path}: not a v6gap backup manifest ({exc})") from None


def list_backups(root: str) -> list[str]:
    """Backup ids under ``root``, oldest first (ids sort by time)."""
    base = backups_dir(root)
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if os.path.isfile(os.path.join(base, n, MANIFEST)))


def backup_path(root: str, backup_id: str) -> str:
    if not backup_id or "/" in backup_id or backup_id.startswith("."):
        raise HardenError(f"backup {backup_id!r}: not a backup id")
    path = os.path.join(backups_dir(root), backup_id)
    if not os.path.isfile(os.path.join(path, MANIFEST)):
        known = ", ".join(list_backups(root)[-5:]) or "none"
        raise HardenError(f"backup {backup_id}: no such backup under {root} (latest: {known})")
    return path


@contextmanager
def locked(backup: str) -> Iterator[None]:
    """One actor at a time on a backup: apply, the timer, confirm and rollback all take it."""
    fd = os.open(os.path.join(backup, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
