"""The pieces under ``harden apply``: atomic writes, backups, sysctl expansion, the timer.

Real files in tmp dirs and real processes; nothing here touches the network or /proc/sys.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from v6gap.harden import backup as bk
from v6gap.harden.restore import cancel_timer, timer_alive
from v6gap.harden.runtime import expand, parse_sysctl_conf
from v6gap.harden.timer import arm
from v6gap.lab.state import process_starttime


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".v6gap-")]


def test_write_atomic_keeps_mode_and_owner_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "nftables.conf"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o750)
    os.chown(target, 1234, 4321)
    st = target.stat()
    bk.write_atomic(str(target), b"new\n", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    after = target.stat()
    assert target.read_bytes() == b"new\n"
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o750, 1234, 4321)
    assert after.st_ino != st.st_ino  # a rename, not a rewrite in place
    assert leftovers(tmp_path) == []


def test_write_atomic_failure_leaves_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()  # rename of a file over a directory fails: EISDIR
    (target / "inside").write_text("kept")
    with pytest.raises(IsADirectoryError):
        bk.write_atomic(str(target), b"data")
    assert (target / "inside").read_text() == "kept"
    assert leftovers(tmp_path) == []


def test_make_dirs_reports_what_it_made(tmp_path: Path) -> None:
    made = bk.make_dirs(str(tmp_path / "a" / "b" / "c"))
    assert made == tuple(str(tmp_path / p) for p in ("a", "a/b", "a/b/c"))
    assert bk.make_dirs(str(tmp_path / "a" / "b")) == ()


def test_manifest_round_trip_and_backup_ids(tmp_path: Path) -> None:
    first, path = bk.new_backup(str(tmp_path))
    second, _ = bk.new_backup(str(tmp_path))
    assert second != first and path.startswith(str(tmp_path / "var/lib/v6gap/backups"))
    manifest = bk.Manifest(first, bk.utc_now(), str(tmp_path), "p.yaml", "server", True, 1)
    saved = bk.SavedFile(path="/etc/x.conf", real=str(tmp_path / "x"), existed=True)
    saved.sha256 = bk.sha256(b"previous bytes")
    bk.save_file(path, saved, b"previous bytes")
    manifest.files.append(saved)
    bk.write_manifest(path, manifest, "backed up")
    again = bk.read_manifest(path)
    assert again == manifest and again.history[0].endswith(" backed up")
    assert bk.saved_bytes(path, again.files[0]) == b"previous bytes"
    assert bk.list_backups(str(tmp_path)) == [first]  # the second has no manifest yet
    (Path(path) / "files/etc/x.conf").write_bytes(b"tampered")
    with pytest.raises(bk.HardenError, match="damaged"):
        bk.saved_bytes(path, again.files[0])
    with pytest.raises(bk.HardenError, match="no such backup"):
        bk.backup_path(str(tmp_path), "20990101T000000Z")
    with pytest.raises(bk.HardenError, match="not a backup id"):
        bk.backup_path(str(tmp_path), "../etc")


def fake_proc(tmp_path: Path, interfaces: tuple[str, ...]) -> str:
    """A /proc/sys-shaped tree: what ``expand`` walks (it never writes)."""
    proc = tmp_path / "sys"
    for name in ("all", "default", *interfaces):
        conf = proc / "net/ipv6/conf" / name
        conf.mkdir(parents=True)
        (conf / "accept_ra").write_text("1\n")
    (proc / "net/ipv4/conf/all").mkdir(parents=True)
    (proc / "net/ipv4/conf/all/accept_redirects").write_text("1\n")
    return str(proc)


def test_expand_globs_to_every_interface_except_explicit_keys(tmp_path: Path) -> None:
    text = (
        "# comment\n; other comment\n"
        "net.ipv6.conf.all.accept_ra = 0\n"
        "net.ipv6.conf.*.accept_ra = 0\n"
        "net/ipv6/conf/eth0.100/accept_ra = 2\n"
        "-net.ipv4.conf.all.accept_redirects=0\n"
        "net.ipv6.neigh.default.gc_thresh1 = 128\n"
        "net.ipv6.conf.*.no_such_key = 1\n"
    )
    writes, skipped = expand(parse_sysctl_conf(text), fake_proc(tmp_path, ("eth0", "eth0.100")))
    got = [(w.key, w.value) for w in writes]
    assert got == [
        ("net.ipv6.conf.all.accept_ra", "0"),
        ("net.ipv6.conf.default.accept_ra", "0"),
        ("net.ipv6.conf.eth0.accept_ra", "0"),
        ("net/ipv6/conf/eth0.100/accept_ra", "2"),  # explicit: the glob leaves it alone
        ("net.ipv4.conf.all.accept_redirects", "0"),
    ]
    assert writes[3].path.endswith("/net/ipv6/conf/eth0.100/accept_ra")
    assert set(skipped) == {"net.ipv6.neigh.default.gc_thresh1", "net.ipv6.conf.*.no_such_key"}


def pending_backup(tmp_path: Path) -> tuple[str, Path]:
    """A files-only backup waiting for confirm: /etc/a.conf was 'old', apply wrote 'new'."""
    target = tmp_path / "etc/a.conf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"new\n")
    backup_id, path = bk.new_backup(str(tmp_path))
    manifest = bk.Manifest(backup_id, bk.utc_now(), str(tmp_path), "p", "server", False, 0)
    saved = bk.SavedFile("/etc/a.conf", str(target), True, sha256=bk.sha256(b"old\n"))
    bk.save_file(path, saved, b"old\n")
    manifest.files.append(saved)
    manifest.state = "pending"
    bk.write_manifest(path, manifest)
    return path, target


def wait_for_state(backup: str, state: str, limit: float = 30.0) -> bk.Manifest:
    deadline = time.monotonic() + limit
    while True:
        manifest = bk.read_manifest(backup)
        if manifest.state == state or time.monotonic() > deadline:
            return manifest
        time.sleep(0.1)


def test_timer_rolls_back_files_from_its_own_session(tmp_path: Path) -> None:
    backup, target = pending_backup(tmp_path)
    timer = arm(backup, 1)
    assert timer.pid != os.getpid()
    assert os.getsid(timer.pid) != os.getsid(0)  # not in our session: no terminal to lose
    assert os.getsid(timer.pid) != timer.pid  # not a session leader: can never take one back
    manifest = wait_for_state(backup, "rolled-back")
    assert manifest.state == "rolled-back", manifest.history
    assert target.read_bytes() == b"old\n"
    assert "rolled back: /etc/a.conf" in Path(backup, "timer.log").read_text()


def test_confirm_stops_only_our_timer(tmp_path: Path) -> None:
    backup, target = pending_backup(tmp_path)
    manifest = bk.read_manifest(backup)
    manifest.timer = arm(backup, 60)
    assert timer_alive(backup, manifest)
    other = bk.Timer(pid=os.getpid(), starttime=process_starttime(os.getpid()) or 0, deadline="")
    assert not timer_alive(backup, bk.Manifest(**{**bk_fields(manifest), "timer": other}))
    assert cancel_timer(backup, manifest)
    deadline = time.monotonic() + 10
    while process_starttime(manifest.timer.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_starttime(manifest.timer.pid) is None
    assert target.read_bytes() == b"new\n"


def bk_fields(manifest: bk.Manifest) -> dict[str, object]:
    return {f: getattr(manifest, f) for f in manifest.__struct_fields__}


def test_restore_refuses_another_network_namespace(tmp_path: Path) -> None:
    """A backup's sysctls belong to the namespace apply ran in: never written elsewhere."""
    from v6gap.harden.restore import netns_inode, restore

    value = tmp_path / "accept_ra"  # stands where /proc/sys would be: it must stay untouched
    value.write_text("0\n")
    backup_id, path = bk.new_backup(str(tmp_path))
    manifest = bk.Manifest(backup_id, bk.utc_now(), str(tmp_path), "p", "server", False, 1)
    manifest.sysctls.append(bk.SysctlChange("net.ipv6.conf.all.accept_ra", str(value), "1", "0"))
    assert netns_inode() != 1
    with pytest.raises(bk.HardenError, match="network namespace inode 1"):
        restore(path, manifest)
    assert value.read_text() == "0\n"


def test_timer_restores_what_an_apply_that_died_midway_did(tmp_path: Path) -> None:
    """Armed before anything changes, the timer waits for apply's lock: when the process that
    holds it is killed (state still `applying`), the countdown runs and the files come back."""
    import signal
    import subprocess
    import sys

    backup, target = pending_backup(tmp_path)
    manifest = bk.read_manifest(backup)
    manifest.state = "applying"
    bk.write_manifest(backup, manifest)
    hold = (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(600)"
    )
    lock = os.path.join(backup, "lock")
    holder = subprocess.Popen([sys.executable, "-c", hold, lock], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        arm(backup, 1)
    finally:
        holder.send_signal(signal.SIGKILL)  # "apply" dies holding the lock
        holder.wait()
    manifest = wait_for_state(backup, "rolled-back")
    assert manifest.state == "rolled-back", manifest.history
    assert target.read_bytes() == b"old\n"
