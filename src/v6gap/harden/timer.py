"""The rollback timer: a detached process that restores a backup unless it is confirmed in time.

``arm`` double-forks: the first child calls setsid (a new session, no controlling terminal) and
forks again, so the timer is not a session leader, can never get a terminal back, and is adopted
by init (or a subreaper). Closing the terminal, killing the shell's process group or the SSH
session that ran ``apply`` leaves it running. It inherits the network and mount namespaces of
``apply``, so it restores the state where it was changed. Its stdio goes to ``timer.log`` in the
backup directory.

Run as ``python -m v6gap.harden.timer BACKUP_DIR SECONDS READY_FD``.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from typing import Optional, Sequence

from v6gap.harden.backup import HardenError, Timer, locked, read_manifest, write_manifest
from v6gap.harden.restore import TIMER_MODULE, restore
from v6gap.lab.state import process_starttime

ARM_WAIT = 20.0  # seconds apply waits for the timer to say it runs; a busy machine is slow
ACTS_ON = ("applying", "pending")  # "applying": apply died between arming and recording


def arm(backup: str, seconds: float) -> Timer:
    """Start the timer for ``backup``; returns once it runs (its pid and start time)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # first child: never returns into the caller's code
        try:
            os.close(read_fd)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            _become_timer(backup, seconds, write_fd)
        finally:
            os._exit(127)
    os.close(write_fd)
    os.waitpid(pid, 0)
    try:
        line = _read_line(read_fd, ARM_WAIT)
    finally:
        os.close(read_fd)
    parts = line.split()
    if len(parts) != 2 or parts[0] != "armed" or not parts[1].isdigit():
        log = os.path.join(backup, "timer.log")
        raise HardenError(f"the rollback timer did not start (see {log})")
    timer_pid = int(parts[1])
    starttime = process_starttime(timer_pid)
    if starttime is None:
        raise HardenError("the rollback timer exited right after it started")
    return Timer(pid=timer_pid, starttime=starttime, deadline=deadline_after(seconds))


def deadline_after(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


def _become_timer(backup: str, seconds: float, ready_fd: int) -> None:
    os.chdir("/")
    os.umask(0o077)
    null = os.open(os.devnull, os.O_RDWR)
    log = os.open(os.path.join(backup, "timer.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.set_inheritable(ready_fd, True)
    # Nothing of the caller's (sockets, pipes to a test runner, the terminal) stays open.
    os.closerange(3, ready_fd)
    os.closerange(ready_fd + 1, 65536)
    argv = [sys.executable, "-m", TIMER_MODULE, os.path.abspath(backup), str(seconds)]
    os.execv(sys.executable, [*argv, str(ready_fd)])


def _read_line(fd: int, wait: float) -> str:
    deadline = time.monotonic() + wait
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", errors="replace").strip()


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{stamp} [{os.getpid()}] {message}", flush=True)


def run(backup: str, seconds: float, ready_fd: Optional[int]) -> int:
    """Wait ``seconds``, then roll ``backup`` back unless someone confirmed or rolled back."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # no terminal to lose, but be sure
    if ready_fd is not None:
        os.write(ready_fd, f"armed {os.getpid()}\n".encode())
        os.close(ready_fd)
    # Armed before apply changes anything, the countdown starts once apply lets go of the
    # backup: the new state is live, or apply died midway and what it did must come back.
    with locked(backup):
        pass
    deadline = time.monotonic() + seconds
    _log(f"armed: {backup} rolls back in {seconds:g} s unless confirmed")
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(left)
    with locked(backup):  # confirm holds it while it stops us: never half a rollback
        manifest = read_manifest(backup)
        if manifest.state not in ACTS_ON:
            _log(f"nothing to do: backup {manifest.id} is {manifest.state}")
            return 0
        try:
            done = restore(backup, manifest)
        except HardenError as exc:
            _log(f"rollback failed: {exc}")
            manifest.state = "rollback-failed"
            write_manifest(backup, manifest, f"the timer's rollback failed: {exc}")
            return 1
        _log(f"rolled back: {', '.join(done)}")  # first: the manifest is what others wait on
        manifest.state = "rolled-back"
        write_manifest(backup, manifest, f"rolled back by the timer: {', '.join(done)}")
    return 0


def main(argv: Sequence[str]) -> int:
    if len(argv) not in (2, 3):
        print(f"usage: python -m {TIMER_MODULE} BACKUP_DIR SECONDS [READY_FD]", file=sys.stderr)
        return 2
    return run(argv[0], float(argv[1]), int(argv[2]) if len(argv) == 3 else None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
