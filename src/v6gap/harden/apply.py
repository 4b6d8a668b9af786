"""``harden apply``, ``confirm`` and ``rollback``: change the host safely, and take it back.

Apply: judge (preflight), back up every file and the live state it changes, write the files
atomically, set the sysctls, load the ruleset in one nft transaction; the rollback timer is
armed first, so it also restores what an apply that died midway had done.
Any failure on the way restores what was there and says so. A second apply of the same policy
finds nothing to change and makes no backup and no timer.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

import msgspec

from v6gap.collect.host import Host
from v6gap.harden import runtime
from v6gap.harden.backup import (
    RULESET,
    TABLE_FILE,
    HardenError,
    Manifest,
    SavedFile,
    SysctlChange,
    backup_path,
    backups_dir,
    list_backups,
    locked,
    make_dirs,
    missing_dirs,
    new_backup,
    read_manifest,
    save_file,
    sha256,
    utc_now,
    write_atomic,
    write_manifest,
)
from v6gap.harden.plan import PlannedFile, plan
from v6gap.harden.policy import Policy
from v6gap.harden.render import DROPIN_PATH, NFTABLES_PATH, SYSCTL_PATH, TABLE
from v6gap.harden.restore import cancel_timer, netns_inode, restore, timer_alive
from v6gap.harden.runtime import SysctlWrite

Say = Callable[[str], None]
UNFINISHED = ("applying", "pending")
RULESET_PATHS = (NFTABLES_PATH, DROPIN_PATH)  # the main file, or the drop-in table


class Changes(msgspec.Struct, frozen=True):
    """What apply would change: files, sysctls (with their value now) and the ruleset."""

    files: tuple[PlannedFile, ...]
    sysctls: tuple[tuple[SysctlWrite, str], ...]  # (write, value now), every key it sets
    skipped: dict[str, str]
    nft: Optional[str]  # the ruleset to load; None: offline
    table_live: bool  # the live table already is what this ruleset loads

    @property
    def sysctls_changed(self) -> int:
        return sum(1 for w, now in self.sysctls if now != w.value)

    @property
    def anything(self) -> bool:
        files = any(f.changed for f in self.files)
        return files or self.sysctls_changed > 0 or (self.nft is not None and not self.table_live)


def in_initial_netns() -> bool:
    """This process runs in the host's own network namespace (not a container's, not a lab's)."""
    # The neighbour-table defaults exist only in the initial namespace; /proc/1/ns/net may be
    # unreadable (a sandboxed init), so it is the second witness, not the only one.
    if os.path.isdir("/proc/sys/net/ipv4/neigh/default"):
        return True
    try:
        return os.stat("/proc/1/ns/net").st_ino == netns_inode()
    except OSError:
        return False


def changes(root: str, planned: tuple[PlannedFile, ...], offline: bool) -> Changes:
    if offline:
        return Changes(planned, (), {}, None, True)
    by_path = {f.path: f.content for f in planned}
    writes, skipped = runtime.expand(runtime.parse_sysctl_conf(by_path.get(SYSCTL_PATH, "")))
    now = tuple((w, runtime.read_sysctl(w.path)) for w in writes)
    nft = next((f.content for f in planned if f.path in RULESET_PATHS), None)
    if nft is None:
        raise HardenError("the rendered files hold no nftables ruleset: nothing to load")
    live = runtime.list_table(TABLE)
    return Changes(
        planned, now, skipped, nft, live is not None and live == _applied_table(root, nft)
    )


def _applied_table(root: str, nft: str) -> Optional[str]:
    """What the newest live apply of this same ruleset listed right after loading it."""
    digest = sha256(nft.encode())
    for backup_id in reversed(list_backups(root)):
        manifest = read_manifest(backup_path(root, backup_id))
        nft_file = next((f for f in manifest.files if f.path in RULESET_PATHS), None)
        if manifest.state not in ("pending", "confirmed") or nft_file is None:
            continue
        if nft_file.new_sha256 == digest and manifest.applied_table is not None:
            return manifest.applied_table
    return None


def _real_path(root: str, path: str) -> str:
    """Where ``path`` of the target is on this machine (symlinks resolved inside the root)."""
    if os.path.abspath(root) == "/":
        return os.path.realpath(path)
    return Host(root=root).resolve(path)


def _unfinished(root: str, but: Optional[str] = None) -> Optional[str]:
    """Why another apply must wait: a backup (other than ``but``) not confirmed or rolled back."""
    for backup_id in reversed(list_backups(root)):
        if backup_id == but:
            continue
        backup = backup_path(root, backup_id)
        manifest = read_manifest(backup)
        if manifest.state in UNFINISHED:
            alive = "its timer runs" if timer_alive(backup, manifest) else "no timer runs"
            return (
                f"backup {backup_id} is {manifest.state} ({alive}): run `v6gap harden confirm` "
                f"or `v6gap harden rollback {backup_id}` first (--root {root})"
            )
    return None


def _save_previous(backup: str, root: str, found: Changes, manifest: Manifest) -> None:
    for f in found.files:
        real = _real_path(root, f.path)
        saved = SavedFile(
            path=f.path,
            real=real,
            existed=os.path.lexists(real),
            new_sha256=sha256(f.content.encode()),
            created_dirs=missing_dirs(os.path.dirname(real)),
        )
        if saved.existed:
            with open(real, "rb") as fh:
                data = fh.read()
            st = os.stat(real)
            saved.mode, saved.uid, saved.gid = st.st_mode & 0o7777, st.st_uid, st.st_gid
            saved.sha256 = sha256(data)
            save_file(backup, saved, data)
        manifest.files.append(saved)
    manifest.sysctls = [SysctlChange(w.key, w.path, now, w.value) for w, now in found.sysctls]
    manifest.skipped_sysctls = dict(found.skipped)
    if any(
        c.path.endswith("/disable_ipv6") and c.value == "1" != c.previous for c in manifest.sysctls
    ):
        manifest.ipv6_static = runtime.static_ipv6()
    if found.nft is not None:
        write_atomic(os.path.join(backup, RULESET), runtime.list_ruleset().encode(), 0o600)
        manifest.ruleset_saved = True
        table = runtime.list_table(TABLE)
        if table is not None:
            write_atomic(os.path.join(backup, TABLE_FILE), table.encode(), 0o600)
            manifest.table_existed = True


def _make_live(backup: str, found: Changes, manifest: Manifest, timeout: float) -> None:
    """Timer, files, sysctls, ruleset: the steps whose failure is undone by the caller."""
    from v6gap.harden.timer import arm, deadline_after

    if found.nft is not None:
        # First: should this process die midway, the timer restores what it had done.
        manifest.timer = arm(backup, timeout)
        write_manifest(backup, manifest)
    for saved, f in zip(manifest.files, found.files):
        if f.changed:
            make_dirs(os.path.dirname(saved.real))
            write_atomic(saved.real, f.content.encode(), saved.mode, saved.uid, saved.gid)
    for change in manifest.sysctls:
        if change.previous != change.value:
            runtime.write_sysctl(change.path, change.value)
    if found.nft is None:
        return
    manifest.ruleset_loaded = True  # from here a rollback must restore the saved ruleset
    write_manifest(backup, manifest)
    try:
        runtime.load(found.nft)
    except HardenError:
        manifest.ruleset_loaded = False  # nft refused: its transaction changed nothing
        raise
    manifest.applied_table = runtime.list_table(TABLE)
    if manifest.timer is not None:  # its countdown starts when apply lets go of the backup
        manifest.timer.deadline = deadline_after(timeout)


def apply(
    policy: Policy,
    policy_file: str,
    root: str,
    planned: tuple[PlannedFile, ...],
    *,
    offline: bool,
    timeout: float,
    say: Say,
) -> tuple[Optional[Manifest], dict[str, str]]:
    """Apply ``planned`` (and the runtime state unless ``offline``).

    Returns the backup's manifest (None: nothing to change) and the sysctls not present here.
    """
    root = os.path.abspath(root)
    found = changes(root, planned, offline)
    manifest: Optional[Manifest] = None
    if found.anything:
        make_dirs(backups_dir(root))
        with locked(backups_dir(root)):  # one apply at a time; then look again, under the lock
            found = changes(root, plan(planned, root), offline)
            if found.anything:
                manifest = _apply_locked(policy, policy_file, root, found, offline, timeout)
    if manifest is None:
        runtime_note = "" if offline else f", {len(found.sysctls)} sysctls and the {TABLE} table"
        say(f"nothing to change: the files{runtime_note} already match the policy")
        return None, found.skipped
    _summary(say, found, manifest, timeout)
    return manifest, found.skipped


def _apply_locked(
    policy: Policy, policy_file: str, root: str, found: Changes, offline: bool, timeout: float
) -> Manifest:
    blocked = _unfinished(root)
    if blocked:
        raise HardenError(blocked)
    backup_id, backup = new_backup(root)
    manifest = Manifest(
        id=backup_id,
        created_at=utc_now(),
        root=root,
        policy=os.path.abspath(policy_file),
        profile=policy.profile.value,
        offline=offline,
        netns_inode=netns_inode(),
    )
    with locked(backup):  # the timer waits for this before it may act
        try:
            _save_previous(backup, root, found, manifest)
            write_manifest(backup, manifest, "backed up; applying")
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise HardenError(
                f"cannot back up ({where}{exc.strerror or exc}); nothing was changed"
            ) from None
        try:
            _make_live(backup, found, manifest, timeout)
        except BaseException as exc:
            _undo(backup, manifest, exc)
        manifest.state = "applied" if offline else "pending"
        write_manifest(backup, manifest, "applied" if offline else "live; waiting for confirm")
    return manifest


def _undo(backup: str, manifest: Manifest, exc: BaseException) -> None:
    why = str(exc) if isinstance(exc, HardenError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError):
        why = f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    try:
        done = restore(backup, manifest)
    except HardenError as again:
        manifest.state = "rollback-failed"
        write_manifest(backup, manifest, f"apply failed ({why}); restoring failed: {again}")
        raise HardenError(
            f"apply failed: {why}; restoring the previous state failed too: {again}"
        ) from None
    cancel_timer(backup, manifest)  # nothing left for it to do
    manifest.state = "failed"
    write_manifest(backup, manifest, f"apply failed ({why}); restored {', '.join(done)}")
    what = "files and sysctls" if not manifest.ruleset_loaded else "files, sysctls and ruleset"
    raise HardenError(f"apply failed: {why}; the previous {what} are back (backup {manifest.id})")


def _summary(say: Say, found: Changes, manifest: Manifest, timeout: float) -> None:
    say(f"backup {manifest.id}: {os.path.join(backups_dir(manifest.root), manifest.id)}")
    for f in found.files:
        say(f"  {f.action:9} {f.path}")
    if found.nft is None:
        say("offline: files only (no sysctls, no ruleset, no timer)")
        return
    say(f"  sysctls   {found.sysctls_changed} changed of {len(found.sysctls)} set here")
    for key, why in found.skipped.items():
        say(f"  skipped   {key}: {why}")
    say(f"  ruleset   {TABLE} loaded in one nft transaction")
    timer = manifest.timer
    assert timer is not None
    where = "" if manifest.root == "/" else f" --root {manifest.root}"
    say(
        f"rollback at {timer.deadline} ({timeout:g} s, timer pid {timer.pid}) unless "
        f"`v6gap harden confirm{where}`"
    )


# --------------------------------------------------------------------------- confirm, rollback


def confirm(root: str, say: Say) -> Manifest:
    """Stop the pending backup's timer (if it is ours) and mark the backup confirmed."""
    for backup_id in reversed(list_backups(root)):
        backup = backup_path(root, backup_id)
        if read_manifest(backup).state not in UNFINISHED:
            continue
        with locked(backup):
            manifest = read_manifest(backup)
            if manifest.state not in UNFINISHED:  # the timer was faster
                raise HardenError(f"backup {backup_id} is already {manifest.state}")
            stopped = cancel_timer(backup, manifest)
            manifest.state = "confirmed"
            note = "timer stopped" if stopped else "no timer was running"
            write_manifest(backup, manifest, f"confirmed ({note})")
        say(f"confirmed backup {backup_id} ({note}); the applied state stays")
        return manifest
    ids = list_backups(root)
    latest = ""
    if ids:  # say what became of the last apply (the timer may have been faster)
        latest = f" (latest backup {ids[-1]}: {read_manifest(backup_path(root, ids[-1])).state})"
    raise HardenError(f"nothing to confirm under {root}: no apply waits for confirmation{latest}")


def rollback(root: str, backup_id: Optional[str], say: Say) -> Manifest:
    """Restore backup ``backup_id`` (the newest when None): files, sysctls and ruleset."""
    if backup_id is None:
        ids = list_backups(root)
        if not ids:
            raise HardenError(f"no backup under {root}: nothing to roll back")
        backup_id = ids[-1]
    backup = backup_path(root, backup_id)
    # An older backup under a pending one: that one's timer would undo this rollback's result.
    blocked = _unfinished(root, but=backup_id)
    if blocked:
        raise HardenError(blocked)
    with locked(backup):
        manifest = read_manifest(backup)
        stopped = cancel_timer(backup, manifest)
        done = restore(backup, manifest)
        manifest.state = "rolled-back"
        write_manifest(backup, manifest, f"rolled back by hand: {', '.join(done)}")
    timer = "; its timer stopped" if stopped else ""
    say(f"rolled back backup {backup_id}: {', '.join(done) or 'nothing'}{timer}")
    return manifest
